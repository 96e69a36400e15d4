//! The hub: the concerns of one session side by side, and the steps of its
//! life that touch several of them. The hub holds no state of its own:
//! every field is a concern (or the [`Env`] they share), and each concern
//! gets only narrow borrows of the others. The lifecycle decisions live in
//! `machine`, which tells the hub the phase it is in; what arrives from the
//! wire is routed in `inbound`.

use std::time::Instant;

use super::adapter::Adapter;
use super::auth::Auth;
use super::config::SessionConfig;
use super::env::Env;
use super::event::{CloseReason, DisconnectReason, Event, Initiator, RequestError, RequestId};
use super::heartbeat::Heartbeat;
use super::io::Input;
use super::outbound::Outbound;
use super::outbox::Ev;
use super::queue::Payload;
use super::rate_classes::RateClass;
use super::reconnect::Reconnect;
use super::requests::{Purpose, Requests};
use super::sequence::Sequences;
use super::state::SessionState;
use super::subscriptions::Subscriptions;
use super::timers::Timer;
use super::transport::Transport;

/// A [`Link`](super::outbound::Link) from a [`Core`]'s fields, for `$phase`:
/// a macro, so the borrow stays apart from the other concerns' fields.
macro_rules! link_of {
    ($core:expr, $adapter:expr, $phase:expr) => {
        $crate::session::outbound::Link {
            env: &mut $core.env,
            adapter: $adapter,
            outbound: &mut $core.outbound,
            requests: &mut $core.requests,
            wire: $core.transport.wire.as_mut(),
            phase: $phase,
        }
    };
}
pub(crate) use link_of;

/// All state of a session, by concern; the statig context.
pub(crate) struct Core {
    /// Time, randomness, timers, outbox, configuration.
    pub(crate) env: Env,
    /// The socket and the wire of the current connection.
    pub(crate) transport: Transport,
    /// Ids, purposes and deadlines of requests without an outcome.
    pub(crate) requests: Requests,
    /// Send queues, rate limit, held retries.
    pub(crate) outbound: Outbound,
    /// Token, refresh, re-authentication.
    pub(crate) auth: Auth,
    /// Desired and confirmed channels, and the restore phase.
    pub(crate) subs: Subscriptions,
    /// Sequenced channels and their resyncs.
    pub(crate) sequences: Sequences,
    /// Pings, pongs, idle timeout, read pauses.
    pub(crate) heartbeat: Heartbeat,
    /// The failure streak and what follows a loss.
    pub(crate) reconnect: Reconnect,
}

impl Core {
    /// A session's concerns before its first connection, at `now`.
    pub(crate) fn new(config: SessionConfig, adapter: &dyn Adapter, now: Instant) -> Self {
        let endpoints = std::iter::once(&config.wire)
            .chain(&config.failover)
            .map(|wire| adapter.configure(wire.clone()))
            .collect();
        let limits = config.rate_limits.resolve(&adapter.default_rate_limits());
        Core {
            transport: Transport::new(endpoints),
            requests: Requests::default(),
            outbound: Outbound::new(&limits, now),
            auth: Auth::default(),
            subs: Subscriptions::default(),
            sequences: Sequences::default(),
            heartbeat: Heartbeat::new(now),
            reconnect: Reconnect::new(config.backoff),
            env: Env::new(config, now),
        }
    }

    /// Refreshes the level gauges (subscriptions, tokens, queued items);
    /// they are set only when a value changed.
    pub(crate) fn update_levels(&mut self) {
        let now = self.env.now;
        let tokens = self.outbound.tokens(RateClass::DEFAULT, now);
        let channels = self.subs.channels();
        self.env.out.telemetry.levels(
            channels.desired().len(),
            channels.confirmed().len(),
            tokens,
            self.outbound.queues.len(),
        );
    }

    // ---- input --------------------------------------------------------

    /// What the driver saw, in `phase`. Input of an older generation is ignored.
    pub(crate) fn handle_input(&mut self, input: Input<'_>, phase: SessionState) {
        let transport = &mut self.transport;
        match input {
            Input::Connected { generation }
                if transport.is_current(generation) && transport.wire.is_none() =>
            {
                transport.on_socket_open(&mut self.env);
            }
            Input::ConnectFailed { generation, error } if transport.is_current(generation) => {
                let reason = transport.connect_failed(error);
                self.env.out.lose(reason, Initiator::Remote);
            }
            Input::Bytes { generation, data } if transport.is_current(generation) => {
                self.heartbeat.on_bytes(&mut self.env, phase.is_open());
                transport.on_bytes(&mut self.env.out, data);
            }
            Input::Closed { generation } if transport.is_current(generation) => {
                transport.on_socket_closed(&mut self.env.out, None);
            }
            Input::Failed { generation, error } if transport.is_current(generation) => {
                transport.on_socket_closed(&mut self.env.out, Some(error));
            }
            _ => {} // a late event from a dead socket
        }
    }

    /// `n` bytes were read straight into the wire's buffer
    /// ([`Session::read_into`](super::Session::read_into)): as
    /// [`Input::Bytes`], without the copy.
    pub(crate) fn on_read(&mut self, n: usize, phase: SessionState) {
        self.heartbeat.on_bytes(&mut self.env, phase.is_open());
        self.transport.on_read(&mut self.env.out, n);
    }

    /// Frames a raw message straight into the wire when `ready` and nothing
    /// waits ahead of it: no copy, no allocation. `false` if it must queue.
    pub(crate) fn send_direct(&mut self, ready: bool, text: Option<&str>, binary: &[u8]) -> bool {
        let wire = self.transport.wire.as_mut();
        let sent = self.outbound.send_direct(ready, wire, text, binary);
        if sent {
            self.env.out.meters.stats.messages_out += 1;
            self.env.out.telemetry.message_out();
        }
        sent
    }

    /// Queues a raw application message; `false` when the queue is full.
    pub(crate) fn send_message(
        &mut self,
        adapter: &dyn Adapter,
        payload: Payload,
        phase: SessionState,
    ) -> bool {
        link_of!(self, adapter, phase).send_user_message(payload)
    }

    /// Sends a WebSocket ping; `false` without an open WebSocket.
    pub(crate) fn ping(&mut self, phase: SessionState) -> bool {
        phase.is_open()
            && self
                .heartbeat
                .send_ping(&mut self.env, self.transport.wire.as_mut())
    }

    // ---- steps of the lifecycle (called by the machine) ----------------

    /// The upgrade succeeded: heartbeats start, then the auth request
    /// goes; `false` when there is nothing to authenticate with.
    pub(crate) fn on_upgraded(&mut self, adapter: &dyn Adapter) -> bool {
        self.transport.on_upgraded();
        tracing::debug!(
            generation = self.transport.generation(),
            "connected: upgrade done"
        );
        self.env.out.emit(Event::Connected);
        self.heartbeat.on_upgraded(&mut self.env);
        self.auth
            .start(&mut link_of!(self, adapter, SessionState::Authenticating))
    }

    /// Entering `Restoring`: setup requests and resubscriptions.
    pub(crate) fn start_restore(&mut self, adapter: &dyn Adapter) {
        let mut link = link_of!(self, adapter, SessionState::Restoring);
        self.subs.start_restore(&mut link);
    }

    /// Entering `Ready`: the application's queue drains; the failure
    /// streak ends (now or once the connection proved stable).
    pub(crate) fn enter_ready(&mut self, adapter: &dyn Adapter) {
        self.auth.on_ready();
        self.reconnect.on_ready(&mut self.env);
        self.env.out.emit(Event::Ready);
        link_of!(self, adapter, SessionState::Ready).pump();
    }

    /// The connection is gone: close the socket, fail what was sent on it,
    /// forget what the server knew. Unsent application requests stay queued.
    pub(crate) fn teardown(&mut self) {
        self.transport.close_socket(&mut self.env.out);
        self.auth.on_connection_lost();
        self.env.timers.clear_connection();
        self.heartbeat.on_connection_lost();
        self.subs.on_connection_lost();
        self.sequences.on_connection_lost();
        let outbound = &mut self.outbound;
        outbound
            .held
            .requeue_all(self.env.now, &mut outbound.queues);
        for (id, purpose) in self.requests.take_sent() {
            if purpose == Purpose::User {
                self.env.out.emit(Event::RequestFailed {
                    id,
                    error: RequestError::ConnectionLost,
                });
            }
        }
        // The core's own requests are built afresh on the next connection.
        for queued in std::mem::take(&mut outbound.queues.control) {
            if let Payload::Request { id, .. } = queued.kind {
                self.requests.complete(id);
            }
        }
    }

    /// After a loss: schedules the reconnect; `Err` with the reason to close.
    pub(crate) fn schedule_reconnect(
        &mut self,
        adapter: &dyn Adapter,
        reason: DisconnectReason,
        initiator: Initiator,
        reached_ready: bool,
    ) -> Result<(), CloseReason> {
        let generation = self.transport.generation();
        // Failing fast before the first `Ready` waits until every failover
        // endpoint was tried once; until then the adapter's policy decides.
        let try_next = self.transport.has_untried_endpoint();
        let unix_ms = self.auth.unix_time_ms(self.env.now);
        self.reconnect.schedule(
            &mut self.env,
            adapter,
            reason,
            initiator,
            reached_ready,
            try_next,
            generation,
            unix_ms,
        )
    }

    /// A request that ends the session was written: the server's close is
    /// awaited under the close deadline, and is that request's outcome.
    pub(crate) fn await_terminal_close(&mut self, id: RequestId) {
        tracing::debug!(
            id = id.0,
            "terminal request sent: awaiting the server's close"
        );
        self.requests.set_terminal(id);
        let at = self.env.now + self.env.config.close_timeout;
        self.env.timers.set(Timer::Close, at);
    }

    /// The end: every request without an outcome fails with `Closed` (a
    /// terminal request without an answer succeeds with `null`: the close
    /// was what it asked for).
    pub(crate) fn finish(&mut self, reason: CloseReason) {
        let had_transport = self.transport.wire.is_some();
        // Taken before the teardown, so requests in flight at a user close
        // fail with `Closed`, not `ConnectionLost`.
        let terminal = self.requests.take_terminal();
        let pending = self.requests.take_all();
        self.teardown();
        let out = &mut self.env.out;
        if had_transport && reason == CloseReason::User {
            out.emit(Event::Disconnected {
                reason: DisconnectReason::UserClose,
                initiator: Initiator::User,
                reconnect_in: None,
            });
        }
        for (id, purpose) in pending {
            if Some(id) == terminal {
                let result = super::json::JsonText::from_string("null");
                out.emit(Event::Response { id, result });
            } else if purpose == Purpose::User {
                out.emit(Event::RequestFailed {
                    id,
                    error: RequestError::Closed,
                });
            }
        }
        self.outbound.queues.clear_user();
        self.env.timers = Default::default();
        let generation = self.transport.generation();
        tracing::info!(?reason, generation, "session closed");
        self.env.out.emit(Event::Closed { reason });
    }

    // ---- time ---------------------------------------------------------

    /// Acts on a timer that fired, in `phase`.
    pub(crate) fn on_timer(&mut self, adapter: &dyn Adapter, timer: Timer, phase: SessionState) {
        let out = &mut self.env.out;
        let lost = Initiator::Library;
        match timer {
            Timer::Connect => out.lose(DisconnectReason::ConnectTimeout, lost),
            Timer::PongDeadline => out.lose(DisconnectReason::PongTimeout, lost),
            Timer::Idle => out.lose(DisconnectReason::IdleTimeout, lost),
            Timer::Backoff => out.raise(Ev::BackoffElapsed),
            Timer::Close => out.raise(Ev::CloseDone),
            Timer::Ping => {
                // A quiet moment: give back what the last burst grew.
                self.transport.shrink_buffers();
                let wire = self.transport.wire.as_mut();
                self.heartbeat.on_ping_timer(&mut self.env, wire);
            }
            Timer::Refresh => self.auth.start_refresh(&mut link_of!(self, adapter, phase)),
            Timer::Refill => link_of!(self, adapter, phase).pump(),
            Timer::Stable => self.reconnect.on_stable(),
            Timer::Retry => link_of!(self, adapter, phase).release_delayed(),
            Timer::Resync => {
                let mut link = link_of!(self, adapter, phase);
                self.sequences.on_resync_timer(&mut link, &mut self.subs);
            }
            Timer::SubscribeBatch => self.subs.send_batches(&mut link_of!(self, adapter, phase)),
            Timer::Linger => {
                if let Some(err) = self.transport.fail_deferred() {
                    out.lose(DisconnectReason::Wire(err), lost);
                }
            }
        }
    }

    /// A request's deadline passed without an outcome, in `phase`.
    pub(crate) fn on_request_expired(
        &mut self,
        adapter: &dyn Adapter,
        id: RequestId,
        purpose: Purpose,
        phase: SessionState,
    ) {
        self.outbound.remove(id);
        let mut link = link_of!(self, adapter, phase);
        // The expired request may have been the one the refill timer waited for.
        link.pump();
        if !matches!(purpose, Purpose::User | Purpose::Subscribe(_)) {
            tracing::debug!(id = id.0, ?purpose, "request timed out");
        }
        let auth_failed = |what: &str| DisconnectReason::AuthFailed(what.into());
        let out = &mut link.env.out;
        match purpose {
            Purpose::User => {
                tracing::debug!(id = id.0, "request timed out");
                out.emit(Event::RequestFailed {
                    id,
                    error: RequestError::Timeout,
                })
            }
            Purpose::Auth => {
                out.telemetry.auth_failure("timeout");
                out.lose(auth_failed("authentication timed out"), Initiator::Library)
            }
            Purpose::Refresh => {
                out.telemetry.auth_failure("timeout");
                out.lose(auth_failed("token refresh timed out"), Initiator::Library)
            }
            Purpose::Subscribe(channels) => self.subs.on_subscribe_expired(&mut link, &channels),
            Purpose::Unsubscribe(channels) => self.subs.on_unsubscribe_expired(&mut link, channels),
            Purpose::Setup => self.subs.restore_step_done(phase, out),
            Purpose::Heartbeat => {}
        }
    }
}
