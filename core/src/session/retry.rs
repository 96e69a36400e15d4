//! Requests the server refused for a reason that passes: an expired token
//! (refresh, then send once more) or its rate limit or a transient error
//! (wait, then send again). Neither drops the request; its deadline still
//! applies. This covers the core's own requests too: a subscription must not
//! be lost to a passing error.

use std::time::Instant;

use super::adapter::Adapter;
use super::env::Env;
use super::event::{Event, RequestError, RequestId, RpcError};
use super::outbox::Outbox;
use super::queue::{Payload, Queued, Queues};
use super::rate_classes::Charge;
use super::requests::{Pending, Purpose, Requests};
use super::timers::{Timer, Timers};

/// Refused requests held back for a retry.
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// Refused for an expired token, waiting for the re-authentication
    /// (with the refusal, reported if that fails).
    awaiting_auth: Vec<(RpcError, Queued)>,
    /// Refused by the server's rate limit, waiting until the instant given.
    delayed: Vec<(Instant, Queued)>,
    /// Refused with an error that ended the server's session (Deribit
    /// 10028): never sent again on this connection, only on the next one.
    next_connection: Vec<Queued>,
}

/// What [`Held::hold`] did with a refused request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Holding {
    /// It waits for a re-authentication, the first to: refresh the token now.
    FirstAwaitingAuth,
    /// It waits (for a re-authentication already asked for, or a delay).
    Waiting,
    /// The refusal ended the server's session: it waits for the next
    /// connection, and this one must be dropped.
    NextConnection,
}

impl Held {
    /// Takes a refused request back for a retry when the adapter says the
    /// refusal passes; `Err(pending)` when it is final. Auth requests are
    /// never retried here (their failure has its own path).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn hold(
        &mut self,
        env: &mut Env,
        adapter: &dyn Adapter,
        requests: &mut Requests,
        queues: &mut Queues,
        id: RequestId,
        mut pending: Pending,
        error: &RpcError,
    ) -> Result<Holding, Pending> {
        let retriable = matches!(
            pending.purpose,
            Purpose::User | Purpose::Subscribe(_) | Purpose::Unsubscribe(_) | Purpose::Setup
        );
        if !retriable || pending.body.is_none() {
            return Err(pending);
        }
        let control = pending.purpose != Purpose::User;
        let ends_session = adapter.ends_session(error);
        // Without credentials there is nothing to re-authenticate with.
        let token_expired = adapter.is_token_expired(error)
            && !pending.reauth_retried
            && env.config.credentials.is_some();
        let wait = adapter.retry_after(error);
        if !ends_session && !token_expired && wait.is_none() {
            return Err(pending);
        }
        let body = pending.body.take().expect("checked");
        let Charge { class, cost } = adapter.rate_charge(&body.method);
        let queued = Queued {
            kind: Payload::Request { id, request: body },
            cost,
            class,
            control,
        };
        if ends_session {
            tracing::debug!(
                id = id.0,
                code = error.code,
                "the server ended the session: sending again on the next connection"
            );
            requests.reopen(id, pending);
            queues.drain_tokens(env.now);
            self.next_connection.push(queued);
            return Ok(Holding::NextConnection);
        }
        if token_expired {
            tracing::debug!(
                id = id.0,
                code = error.code,
                "token expired: refreshing, then sending again"
            );
            pending.reauth_retried = true;
            requests.reopen(id, pending);
            let first = self.awaiting_auth.is_empty();
            self.awaiting_auth.push((error.clone(), queued));
            if first {
                return Ok(Holding::FirstAwaitingAuth);
            }
        } else if let Some(wait) = wait {
            tracing::debug!(
                id = id.0,
                code = error.code,
                wait_ms = wait.as_millis() as u64,
                "refused for now (rate limit or transient): sending again later"
            );
            requests.reopen(id, pending);
            // The server says we went too fast: spend what the buckets hold.
            queues.drain_tokens(env.now);
            self.delayed.push((env.now + wait, queued));
            self.arm(&mut env.timers);
        }
        Ok(Holding::Waiting)
    }

    /// After a successful (re)authentication: what waited for it goes first.
    pub(crate) fn release_awaiting_auth(&mut self, now: Instant, queues: &mut Queues) {
        let waiting = std::mem::take(&mut self.awaiting_auth);
        queues.requeue_front(now, waiting.into_iter().map(|(_, q)| q));
    }

    /// The re-authentication failed: what waited for it fails with its refusal.
    pub(crate) fn fail_awaiting_auth(&mut self, requests: &mut Requests, out: &mut Outbox) {
        for (error, queued) in std::mem::take(&mut self.awaiting_auth) {
            if let Payload::Request { id, .. } = queued.kind
                && requests.complete(id).is_some()
            {
                out.emit(Event::RequestFailed {
                    id,
                    error: RequestError::Rejected(error),
                });
            }
        }
    }

    /// The retry timer fired: requests whose wait is over go first, in order.
    pub(crate) fn release_due(&mut self, now: Instant, timers: &mut Timers, queues: &mut Queues) {
        let (mut due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.delayed)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.delayed = later;
        due.sort_by_key(|(at, _)| *at);
        queues.requeue_front(now, due.into_iter().map(|(_, q)| q));
        self.arm(timers);
    }

    /// A lost connection: waiting requests are unsent, so they go on the next one.
    pub(crate) fn requeue_all(&mut self, now: Instant, queues: &mut Queues) {
        let mut delayed = std::mem::take(&mut self.delayed);
        delayed.sort_by_key(|(at, _)| *at);
        queues.requeue_front(now, delayed.into_iter().map(|(_, q)| q));
        let next = std::mem::take(&mut self.next_connection);
        queues.requeue_front(now, next.into_iter());
        self.release_awaiting_auth(now, queues);
    }

    /// Removes a request that expired or was cancelled.
    pub(crate) fn remove(&mut self, id: RequestId) {
        self.awaiting_auth.retain(|(_, q)| !q.is_request(id));
        self.delayed.retain(|(_, q)| !q.is_request(id));
        self.next_connection.retain(|q| !q.is_request(id));
    }

    fn arm(&self, timers: &mut Timers) {
        match self.delayed.iter().map(|(at, _)| *at).min() {
            Some(at) => timers.set(Timer::Retry, at),
            None => timers.clear(Timer::Retry),
        }
    }
}
