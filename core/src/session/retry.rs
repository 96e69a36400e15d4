//! Requests the server refused for a reason that passes: an expired token
//! (refresh, then send once more) or its rate limit or a transient error
//! (wait, then send again). Neither drops the request; its deadline still
//! applies. This covers the core's own requests too: a subscription must not
//! be lost to a passing error.

use super::core::Core;
use super::outbound::{Payload, Queued};
use super::requests::{Pending, Purpose};
use super::timers::Timer;
use super::{Adapter, Event, RequestError, RequestId, RpcError};

impl Core {
    /// Takes a refused request back for a retry when the adapter says the
    /// refusal passes; `Err(pending)` when it is final. Auth requests are
    /// never retried here (their failure has its own path).
    pub(crate) fn try_retry(
        &mut self,
        adapter: &dyn Adapter,
        id: RequestId,
        mut pending: Pending,
        error: &RpcError,
    ) -> Result<(), Pending> {
        let retriable = matches!(
            pending.purpose,
            Purpose::User | Purpose::Subscribe(_) | Purpose::Unsubscribe(_) | Purpose::Setup
        );
        if !retriable || pending.body.is_none() {
            return Err(pending);
        }
        let control = pending.purpose != Purpose::User;
        let token_expired = adapter.is_token_expired(error) && !pending.reauth_retried;
        let wait = adapter.retry_after(error);
        if !token_expired && wait.is_none() {
            return Err(pending);
        }
        let body = pending.body.take().expect("checked");
        let cost = adapter.cost(&body.method);
        let queued = Queued {
            kind: Payload::Request { id, request: body },
            cost,
            control,
        };
        if token_expired {
            tracing::debug!(
                id = id.0,
                code = error.code,
                "token expired: refreshing, then sending again"
            );
            pending.reauth_retried = true;
            self.requests.reopen(id, pending);
            let first = self.queues.awaiting_auth.is_empty();
            self.queues.awaiting_auth.push((error.clone(), queued));
            if first {
                self.start_refresh(adapter);
            }
        } else if let Some(wait) = wait {
            tracing::debug!(
                id = id.0,
                code = error.code,
                wait_ms = wait.as_millis() as u64,
                "refused for now (rate limit or transient): sending again later"
            );
            self.requests.reopen(id, pending);
            // The server says we went too fast: spend what the bucket holds.
            if let Some(bucket) = self.bucket.as_mut() {
                let all = bucket.available(self.now);
                bucket.try_take(self.now, all);
            }
            self.queues.delayed.push((self.now + wait, queued));
            self.arm_retry();
        }
        Ok(())
    }

    /// After a successful (re)authentication: what waited for it goes first.
    pub(crate) fn release_awaiting_auth(&mut self, adapter: &dyn Adapter) {
        let waiting = std::mem::take(&mut self.queues.awaiting_auth);
        self.queues
            .requeue_front(waiting.into_iter().map(|(_, q)| q));
        self.pump_queues(adapter);
    }

    /// The re-authentication failed: what waited for it fails with its refusal.
    pub(crate) fn fail_awaiting_auth(&mut self) {
        for (error, queued) in std::mem::take(&mut self.queues.awaiting_auth) {
            if let Payload::Request { id, .. } = queued.kind
                && self.requests.complete(id).is_some()
            {
                self.emit(Event::RequestFailed {
                    id,
                    error: RequestError::Rejected(error),
                });
            }
        }
    }

    /// The retry timer fired: requests whose wait is over go first, in order.
    pub(crate) fn release_delayed(&mut self, adapter: &dyn Adapter) {
        let now = self.now;
        let (mut due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.queues.delayed)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.queues.delayed = later;
        due.sort_by_key(|(at, _)| *at);
        self.queues.requeue_front(due.into_iter().map(|(_, q)| q));
        self.arm_retry();
        self.pump_queues(adapter);
    }

    /// A lost connection: waiting requests are unsent, so they go on the next one.
    pub(crate) fn requeue_waiting(&mut self) {
        let mut delayed = std::mem::take(&mut self.queues.delayed);
        delayed.sort_by_key(|(at, _)| *at);
        self.queues
            .requeue_front(delayed.into_iter().map(|(_, q)| q));
        let waiting = std::mem::take(&mut self.queues.awaiting_auth);
        self.queues
            .requeue_front(waiting.into_iter().map(|(_, q)| q));
    }

    fn arm_retry(&mut self) {
        match self.queues.next_retry() {
            Some(at) => self.timers.set(Timer::Retry, at),
            None => self.timers.clear(Timer::Retry),
        }
    }
}
