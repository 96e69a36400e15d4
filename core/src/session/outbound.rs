//! Outgoing requests and messages: two queues (the core's own requests first,
//! then the application's), the token bucket, and encoding into the wire.

use std::collections::VecDeque;
use std::time::Instant;

use super::core::Core;
use super::requests::Purpose;
use super::timers::Timer;
use super::{Adapter, Encoded, Event, OutgoingRequest, RequestError, RequestId};

/// Something waiting to be written.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) kind: Payload,
    pub(crate) cost: u64,
    /// The core's own request (goes back to the control queue on a retry).
    pub(crate) control: bool,
}

#[derive(Debug)]
pub(crate) enum Payload {
    /// A request, encoded fresh when it leaves (so a reconnect re-encodes it).
    Request {
        id: RequestId,
        request: OutgoingRequest,
    },
    /// A raw application message.
    Text(String),
    /// A raw application binary message.
    Binary(Vec<u8>),
}

/// The queues.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    /// The core's own requests (auth, subscriptions, setup): leave as soon as connected.
    pub(crate) control: VecDeque<Queued>,
    /// The application's requests and messages: leave only when ready.
    pub(crate) user: VecDeque<Queued>,
    /// Requests refused for an expired token, waiting for the
    /// re-authentication (with the refusal, reported if that fails).
    pub(crate) awaiting_auth: Vec<(super::RpcError, Queued)>,
    /// Requests refused by the server's rate limit, waiting until the instant given.
    pub(crate) delayed: Vec<(Instant, Queued)>,
}

impl Queues {
    /// Removes a request that expired or was cancelled before it left.
    pub(crate) fn remove(&mut self, id: RequestId) {
        let is_it = |q: &Queued| matches!(q.kind, Payload::Request { id: qid, .. } if qid == id);
        self.control.retain(|q| !is_it(q));
        self.user.retain(|q| !is_it(q));
        self.awaiting_auth.retain(|(_, q)| !is_it(q));
        self.delayed.retain(|(_, q)| !is_it(q));
    }

    /// Puts requests back at the head of their queues, in order.
    pub(crate) fn requeue_front(&mut self, items: impl DoubleEndedIterator<Item = Queued>) {
        for item in items.rev() {
            if item.control {
                self.control.push_front(item);
            } else {
                self.user.push_front(item);
            }
        }
    }

    /// The earliest instant a delayed request may go again.
    pub(crate) fn next_retry(&self) -> Option<Instant> {
        self.delayed.iter().map(|(at, _)| *at).min()
    }
}

impl Core {
    /// Opens a request of the core's own and queues it ahead of the application's.
    pub(crate) fn send_control(
        &mut self,
        adapter: &dyn Adapter,
        purpose: Purpose,
        request: OutgoingRequest,
    ) -> RequestId {
        let deadline = self.now + self.config.request_timeout;
        let id = self.requests.open(purpose, deadline);
        let cost = adapter.cost(&request.method);
        self.queues.control.push_back(Queued {
            kind: Payload::Request { id, request },
            cost,
            control: true,
        });
        self.pump_queues(adapter);
        id
    }

    /// Queues an application request; its outcome arrives as an event.
    pub(crate) fn send_user_request(
        &mut self,
        adapter: &dyn Adapter,
        request: OutgoingRequest,
    ) -> RequestId {
        let deadline = self.now + self.config.request_timeout;
        let id = self.requests.open(Purpose::User, deadline);
        self.telemetry.user_request(id, &request.method);
        let cost = adapter.cost(&request.method);
        let too_costly = self
            .bucket
            .as_ref()
            .is_some_and(|b| cost > b.config().capacity);
        if !too_costly {
            self.queues.user.push_back(Queued {
                kind: Payload::Request { id, request },
                cost,
                control: false,
            });
            self.pump_queues(adapter);
            if !self.user_queue_overflows() {
                return id;
            }
            // It would have to wait, and the queue has no room: refuse it.
            self.queues.user.pop_back();
        }
        self.requests.complete(id);
        let error = if self.bucket.is_some() && (too_costly || self.ready) {
            RequestError::RateLimited
        } else {
            RequestError::QueueFull
        };
        tracing::debug!(id = id.0, ?error, "request refused: queue full");
        self.emit(Event::RequestFailed { id, error });
        id
    }

    /// Frames a raw message straight into the wire when nothing waits ahead
    /// of it (ready, empty queue): no copy, no allocation. `false` if it must queue.
    pub(crate) fn send_direct(&mut self, text: Option<&str>, binary: &[u8]) -> bool {
        if !self.ready || !self.queues.user.is_empty() {
            return false;
        }
        let Some(wire) = self.wire.as_mut() else {
            return false;
        };
        let sent = match text {
            Some(text) => wire.send_text(text),
            None => wire.send_binary(binary),
        };
        if sent.is_ok() {
            self.stats.messages_out += 1;
            self.telemetry.message_out();
        }
        sent.is_ok()
    }

    /// Queues a raw message; `false` when the queue is full.
    pub(crate) fn send_user_message(&mut self, adapter: &dyn Adapter, kind: Payload) -> bool {
        self.queues.user.push_back(Queued {
            kind,
            cost: 0,
            control: false,
        });
        self.pump_queues(adapter);
        if self.user_queue_overflows() {
            self.queues.user.pop_back();
            return false;
        }
        true
    }

    /// More items wait than allowed: the rate limiter's queue capacity while
    /// ready, the not-ready queue capacity otherwise. Only what could not
    /// leave at once counts.
    fn user_queue_overflows(&self) -> bool {
        let limit = match self.bucket.as_ref() {
            Some(b) if self.ready => b.config().queue_capacity,
            _ => self.config.queue_capacity,
        };
        self.queues.user.len() > limit
    }

    /// Writes queued items while the connection, the phase and the tokens allow.
    pub(crate) fn pump_queues(&mut self, adapter: &dyn Adapter) {
        if !self.connected || self.wire.is_none() {
            return;
        }
        loop {
            let from_control = !self.queues.control.is_empty();
            let front = if from_control {
                self.queues.control.front()
            } else if self.ready {
                self.queues.user.front()
            } else {
                None
            };
            let Some(front) = front else { break };
            if let Some(bucket) = self.bucket.as_mut()
                && front.cost > 0
                && !bucket.try_take(self.now, front.cost)
            {
                tracing::debug!(
                    cost = front.cost,
                    control_queued = self.queues.control.len(),
                    user_queued = self.queues.user.len(),
                    "rate limited: waiting for tokens"
                );
                match bucket.ready_at(self.now, front.cost) {
                    Some(at) => self.timers.set(Timer::Refill, at),
                    None => self.timers.clear(Timer::Refill),
                }
                return;
            }
            let queue = if from_control {
                &mut self.queues.control
            } else {
                &mut self.queues.user
            };
            let item = queue.pop_front().expect("front exists");
            self.write_now(adapter, item.kind);
        }
        self.timers.clear(Timer::Refill);
    }

    /// Encodes and frames one item into the wire, bypassing queues and tokens.
    pub(crate) fn write_now(&mut self, adapter: &dyn Adapter, kind: Payload) {
        let Some(wire) = self.wire.as_mut() else {
            return;
        };
        let sent = match kind {
            Payload::Request { id, request } => {
                // Never the params: they may carry secrets.
                tracing::trace!(id = id.0, method = %request.method, "request sent");
                self.scratch.clear();
                adapter.encode_request(id, &request.method, &request.params, &mut self.scratch);
                self.requests.mark_sent(id, self.now);
                let sent = match adapter.codec().encode(&self.scratch) {
                    Ok(Encoded::Text(text)) => wire.send_text(text).is_ok(),
                    Ok(Encoded::Binary(data)) => wire.send_binary(&data).is_ok(),
                    Err(err) => {
                        // Not sent: the request ends by its deadline.
                        tracing::warn!(id = id.0, %err, "request not sent");
                        false
                    }
                };
                // Kept (moved, not copied) in case it must go once more.
                self.requests.keep_body(id, request);
                sent
            }
            Payload::Text(text) => wire.send_text(&text).is_ok(),
            Payload::Binary(data) => wire.send_binary(&data).is_ok(),
        };
        if sent {
            self.stats.messages_out += 1;
            self.telemetry.message_out();
        }
        // Not open (closing): the item is dropped with the connection; a
        // request's outcome comes from its deadline or the close.
    }
}
