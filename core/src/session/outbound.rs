//! Outgoing requests and messages: the queues (the core's own requests
//! first, then the application's in one lane per rate-limit class, each
//! with its own token bucket), the requests held for a retry, and encoding
//! into the wire.
//!
//! [`Outbound`] owns that state; a [`Link`] is the short-lived borrow
//! through which every concern sends: the outbound state, the requests, the
//! wire and the phase the state machine is in.

use std::time::Instant;

use super::adapter::Adapter;
use super::codec::Encoded;
use super::env::Env;
use super::event::{Event, RequestError, RequestId};
use super::messages::OutgoingRequest;
use super::outbox::Ev;
use super::queue::{Payload, Queued, Queues};
use super::rate_classes::{Charge, RateClass};
use super::ratelimit::RateLimitConfig;
use super::requests::{Purpose, Requests};
use super::retry::Held;
use super::state::SessionState;
use super::timers::Timer;
use crate::wire::Wire;

/// The outbound state of a session.
#[derive(Debug)]
pub(crate) struct Outbound {
    /// The control queue and the lanes, with their buckets.
    pub(crate) queues: Queues,
    /// Requests refused for a passing reason, waiting to go again.
    pub(crate) held: Held,
    /// Reused encode buffer: no allocation per request.
    scratch: String,
}

impl Outbound {
    /// Empty queues under the resolved `limits`, one bucket per class.
    pub(crate) fn new(limits: &[(RateClass, RateLimitConfig)], now: Instant) -> Self {
        Outbound {
            queues: Queues::new(limits, now),
            held: Held::default(),
            scratch: String::new(),
        }
    }

    /// Removes a request that expired or was cancelled before it left.
    pub(crate) fn remove(&mut self, id: RequestId) {
        self.queues.remove(id);
        self.held.remove(id);
    }

    /// Whole tokens of `class` at `now`; `None` when the class is not limited.
    pub(crate) fn tokens(&mut self, class: RateClass, now: Instant) -> Option<u64> {
        let lane = self.queues.lanes.iter_mut().find(|l| l.class == class)?;
        lane.bucket.as_mut().map(|b| b.available(now))
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
        if !ready || self.queues.user_len() > 0 {
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
        let Charge { class, cost } = self.adapter.rate_charge(&request.method);
        self.outbound.queues.control.push_back(Queued {
            kind: Payload::Request { id, request },
            cost,
            class,
            control: true,
        });
        self.pump();
        id
    }

    /// Queues an application request in its class's lane; its outcome
    /// arrives as an event.
    pub(crate) fn send_user_request(&mut self, request: OutgoingRequest) -> RequestId {
        let deadline = self.env.now + self.env.config.request_timeout;
        let id = self.requests.open(Purpose::User, deadline);
        self.env.out.telemetry.user_request(id, &request.method);
        let Charge { class, cost } = self.adapter.rate_charge(&request.method);
        let now = self.env.now;
        let lane = self.outbound.queues.lane_mut(class, now);
        let limited = lane.bucket.is_some();
        let too_costly = lane
            .bucket
            .as_ref()
            .is_some_and(|b| cost > b.config().capacity);
        if !too_costly {
            lane.items.push_back(Queued {
                kind: Payload::Request { id, request },
                cost,
                class,
                control: false,
            });
            self.pump();
            if !self.user_queue_overflows(class) {
                return id;
            }
            // It would have to wait, and the queue has no room: refuse it.
            self.outbound.queues.lane_mut(class, now).items.pop_back();
        }
        self.requests.complete(id);
        let error = if limited && (too_costly || self.phase.is_ready()) {
            RequestError::RateLimited
        } else {
            RequestError::QueueFull
        };
        tracing::debug!(id = id.0, %class, ?error, "request refused: queue full");
        self.env.out.emit(Event::RequestFailed { id, error });
        id
    }

    /// Queues a raw message (in the default class's lane, free of charge);
    /// `false` when the queue is full.
    pub(crate) fn send_user_message(&mut self, kind: Payload) -> bool {
        let class = RateClass::DEFAULT;
        let now = self.env.now;
        self.outbound
            .queues
            .lane_mut(class, now)
            .items
            .push_back(Queued {
                kind,
                cost: 0,
                class,
                control: false,
            });
        self.pump();
        if self.user_queue_overflows(class) {
            self.outbound.queues.lane_mut(class, now).items.pop_back();
            return false;
        }
        true
    }

    /// More items wait than allowed: while ready, the lane's own queue
    /// capacity (of its rate limit); otherwise (or for an unlimited class)
    /// the session's queue capacity, counted over every lane. Only what
    /// could not leave at once counts.
    fn user_queue_overflows(&self, class: RateClass) -> bool {
        let queues = &self.outbound.queues;
        let lane = queues.lane(class);
        match lane.and_then(|l| l.bucket.as_ref()) {
            Some(b) if self.phase.is_ready() => {
                lane.map_or(0, |l| l.items.len()) > b.config().queue_capacity
            }
            _ => queues.user_len() > self.env.config.queue_capacity,
        }
    }

    /// Writes queued items while the connection, the phase and the tokens
    /// allow: the core's own requests once a WebSocket is open (in order;
    /// one waiting for its class's tokens holds up the control queue and
    /// that class's lane only), then, when ready, each class's lane while
    /// its bucket has tokens. A lane waiting for tokens never holds up
    /// another; the refill timer is set for the earliest one.
    pub(crate) fn pump(&mut self) {
        if !self.phase.is_open() || self.wire.is_none() {
            return;
        }
        let now = self.env.now;
        let mut wake: Option<Instant> = None;
        let mut waiting = |at: Option<Instant>| {
            if let Some(at) = at {
                wake = Some(wake.map_or(at, |w: Instant| w.min(at)));
            }
        };
        let mut control_blocked: Option<RateClass> = None;
        while let Some(front) = self.outbound.queues.control.front() {
            let (class, cost) = (front.class, front.cost);
            let lane = self.outbound.queues.lane_mut(class, now);
            if !lane.try_take(now, cost) {
                waiting(lane.ready_at(now, cost));
                control_blocked = Some(class);
                break;
            }
            let item = self
                .outbound
                .queues
                .control
                .pop_front()
                .expect("front exists");
            self.write_now(item.kind);
        }
        if self.phase.is_ready() {
            'lanes: for index in 0..self.outbound.queues.lanes.len() {
                loop {
                    let lane = &mut self.outbound.queues.lanes[index];
                    if control_blocked == Some(lane.class) {
                        break; // the core's own request of this class goes first
                    }
                    let Some(front) = lane.items.front() else {
                        break;
                    };
                    let cost = front.cost;
                    if !lane.try_take(now, cost) {
                        tracing::debug!(
                            class = %lane.class,
                            cost,
                            queued = lane.items.len(),
                            "rate limited: waiting for tokens"
                        );
                        waiting(lane.ready_at(now, cost));
                        break;
                    }
                    let item = lane.items.pop_front().expect("front exists");
                    let terminal = match &item.kind {
                        Payload::Request { id, request }
                            if self.adapter.is_terminal(&request.method) =>
                        {
                            Some(*id)
                        }
                        _ => None,
                    };
                    self.write_now(item.kind);
                    if let Some(id) = terminal {
                        // Nothing of the application's follows a request
                        // that ends the session.
                        self.env.out.raise(Ev::Terminal(id));
                        break 'lanes;
                    }
                }
            }
        }
        match wake {
            Some(at) => self.env.timers.set(Timer::Refill, at),
            None => self.env.timers.clear(Timer::Refill),
        }
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
        outbound
            .held
            .release_awaiting_auth(self.env.now, &mut outbound.queues);
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
