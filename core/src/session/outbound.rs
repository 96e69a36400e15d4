//! Outgoing requests and messages: the two queues (the core's own requests
//! first, then the application's), the token bucket of the rate limit, the
//! requests held for a retry, and encoding into the wire.
//!
//! [`Outbound`] owns that state; a [`Link`] is the short-lived borrow
//! through which every concern sends: the outbound state, the requests, the
//! wire and the phase the state machine is in.

use super::adapter::{Adapter, OutgoingRequest};
use super::codec::Encoded;
use super::env::Env;
use super::event::{Event, RequestError, RequestId};
use super::outbox::Ev;
use super::queue::{Payload, Queued, Queues};
use super::ratelimit::TokenBucket;
use super::requests::{Purpose, Requests};
use super::retry::Held;
use super::state::SessionState;
use super::timers::Timer;
use crate::wire::Wire;

/// The outbound state of a session.
#[derive(Debug)]
pub(crate) struct Outbound {
    pub(crate) queues: Queues,
    /// Requests refused for a passing reason, waiting to go again.
    pub(crate) held: Held,
    /// The rate limit, if configured.
    pub(crate) bucket: Option<TokenBucket>,
    /// Reused encode buffer: no allocation per request.
    scratch: String,
}

impl Outbound {
    /// Empty queues under an optional rate limit.
    pub(crate) fn new(bucket: Option<TokenBucket>) -> Self {
        Outbound {
            queues: Queues::default(),
            held: Held::default(),
            bucket,
            scratch: String::new(),
        }
    }

    /// Removes a request that expired or was cancelled before it left.
    pub(crate) fn remove(&mut self, id: RequestId) {
        self.queues.remove(id);
        self.held.remove(id);
    }

    /// Frames a raw message straight into the wire when `ready` and nothing
    /// waits ahead of it: no copy, no allocation. `false` if it must queue.
    pub(crate) fn send_direct(
        &self,
        ready: bool,
        wire: Option<&mut Wire>,
        text: Option<&str>,
        binary: &[u8],
    ) -> bool {
        if !ready || !self.queues.user.is_empty() {
            return false;
        }
        let Some(wire) = wire else {
            return false;
        };
        let sent = match text {
            Some(text) => wire.send_text(text),
            None => wire.send_binary(binary),
        };
        sent.is_ok()
    }
}

/// The borrow through which a concern sends: what it needs of the session
/// to queue, rate-limit, encode and frame, and nothing else.
pub(crate) struct Link<'a> {
    pub(crate) env: &'a mut Env,
    pub(crate) adapter: &'a dyn Adapter,
    pub(crate) outbound: &'a mut Outbound,
    pub(crate) requests: &'a mut Requests,
    /// The WebSocket, while the transport has one.
    pub(crate) wire: Option<&'a mut Wire>,
    /// The phase the state machine is in (or enters), as it told us.
    pub(crate) phase: SessionState,
}

impl Link<'_> {
    /// Opens a request of the core's own and queues it ahead of the application's.
    pub(crate) fn send_control(&mut self, purpose: Purpose, request: OutgoingRequest) -> RequestId {
        let deadline = self.env.now + self.env.config.request_timeout;
        let id = self.requests.open(purpose, deadline);
        let cost = self.adapter.cost(&request.method);
        self.outbound.queues.control.push_back(Queued {
            kind: Payload::Request { id, request },
            cost,
            control: true,
        });
        self.pump();
        id
    }

    /// Queues an application request; its outcome arrives as an event.
    pub(crate) fn send_user_request(&mut self, request: OutgoingRequest) -> RequestId {
        let deadline = self.env.now + self.env.config.request_timeout;
        let id = self.requests.open(Purpose::User, deadline);
        self.env.out.telemetry.user_request(id, &request.method);
        let cost = self.adapter.cost(&request.method);
        let too_costly = self
            .outbound
            .bucket
            .as_ref()
            .is_some_and(|b| cost > b.config().capacity);
        if !too_costly {
            self.outbound.queues.user.push_back(Queued {
                kind: Payload::Request { id, request },
                cost,
                control: false,
            });
            self.pump();
            if !self.user_queue_overflows() {
                return id;
            }
            // It would have to wait, and the queue has no room: refuse it.
            self.outbound.queues.user.pop_back();
        }
        self.requests.complete(id);
        let error = if self.outbound.bucket.is_some() && (too_costly || self.phase.is_ready()) {
            RequestError::RateLimited
        } else {
            RequestError::QueueFull
        };
        tracing::debug!(id = id.0, ?error, "request refused: queue full");
        self.env.out.emit(Event::RequestFailed { id, error });
        id
    }

    /// Queues a raw message; `false` when the queue is full.
    pub(crate) fn send_user_message(&mut self, kind: Payload) -> bool {
        self.outbound.queues.user.push_back(Queued {
            kind,
            cost: 0,
            control: false,
        });
        self.pump();
        if self.user_queue_overflows() {
            self.outbound.queues.user.pop_back();
            return false;
        }
        true
    }

    /// More items wait than allowed: the rate limiter's queue capacity while
    /// ready, the not-ready queue capacity otherwise. Only what could not
    /// leave at once counts.
    fn user_queue_overflows(&self) -> bool {
        let limit = match self.outbound.bucket.as_ref() {
            Some(b) if self.phase.is_ready() => b.config().queue_capacity,
            _ => self.env.config.queue_capacity,
        };
        self.outbound.queues.user.len() > limit
    }

    /// Writes queued items while the connection, the phase and the tokens
    /// allow: the core's own requests once a WebSocket is open, the
    /// application's only when ready.
    pub(crate) fn pump(&mut self) {
        if !self.phase.is_open() || self.wire.is_none() {
            return;
        }
        let now = self.env.now;
        loop {
            let queues = &mut self.outbound.queues;
            let from_control = !queues.control.is_empty();
            let front = if from_control {
                queues.control.front()
            } else if self.phase.is_ready() {
                queues.user.front()
            } else {
                None
            };
            let Some(front) = front else { break };
            if let Some(bucket) = self.outbound.bucket.as_mut()
                && front.cost > 0
                && !bucket.try_take(now, front.cost)
            {
                tracing::debug!(
                    cost = front.cost,
                    control_queued = queues.control.len(),
                    user_queued = queues.user.len(),
                    "rate limited: waiting for tokens"
                );
                match bucket.ready_at(now, front.cost) {
                    Some(at) => self.env.timers.set(Timer::Refill, at),
                    None => self.env.timers.clear(Timer::Refill),
                }
                return;
            }
            let queue = if from_control {
                &mut queues.control
            } else {
                &mut queues.user
            };
            let item = queue.pop_front().expect("front exists");
            let terminal = match &item.kind {
                Payload::Request { id, request } if self.adapter.is_terminal(&request.method) => {
                    Some(*id)
                }
                _ => None,
            };
            self.write_now(item.kind);
            if let Some(id) = terminal {
                // Nothing of the application's follows a request that ends the session.
                self.env.out.raise(Ev::Terminal(id));
                break;
            }
        }
        self.env.timers.clear(Timer::Refill);
    }

    /// Encodes and frames one item into the wire, bypassing queues and tokens.
    pub(crate) fn write_now(&mut self, kind: Payload) {
        let Some(wire) = self.wire.as_deref_mut() else {
            return;
        };
        let sent = match kind {
            Payload::Request { id, request } => {
                // Never the params: they may carry secrets.
                tracing::trace!(id = id.0, method = %request.method, "request sent");
                let scratch = &mut self.outbound.scratch;
                scratch.clear();
                self.adapter
                    .encode_request(id, &request.method, &request.params, scratch);
                self.requests.mark_sent(id, self.env.now);
                let sent = match self.adapter.codec().encode(scratch) {
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
            self.env.out.meters.stats.messages_out += 1;
            self.env.out.telemetry.message_out();
        }
        // Not open (closing): the item is dropped with the connection; a
        // request's outcome comes from its deadline or the close.
    }

    /// After a successful (re)authentication: what waited for it goes first.
    pub(crate) fn release_awaiting_auth(&mut self) {
        let outbound = &mut *self.outbound;
        outbound.held.release_awaiting_auth(&mut outbound.queues);
        self.pump();
    }

    /// The re-authentication failed: what waited for it fails with its refusal.
    pub(crate) fn fail_awaiting_auth(&mut self) {
        self.outbound
            .held
            .fail_awaiting_auth(self.requests, &mut self.env.out);
    }

    /// The retry timer fired: what waited long enough goes first.
    pub(crate) fn release_delayed(&mut self) {
        let outbound = &mut *self.outbound;
        outbound
            .held
            .release_due(self.env.now, &mut self.env.timers, &mut outbound.queues);
        self.pump();
    }
}
