//! What happens on each step of a connection's life: the mechanisms the state
//! machine's actions call. The decisions (which state follows) are in `machine`.

use super::core::Core;
use super::machine::Ev;
use super::requests::Purpose;
use super::timers::Timer;
use rand::Rng;

use super::{
    Adapter, AuthContext, CloseReason, DisconnectReason, Event, Initiator, Policy, RequestError,
    RequestId,
};
use crate::wire::CloseCode;

impl Core {
    /// The upgrade succeeded: heartbeats start.
    pub(crate) fn on_connected(&mut self) {
        self.connected = true;
        if let Some(wire) = self.wire.as_mut() {
            wire.shrink_buffers(); // the upgrade's buffers are not needed any more
        }
        tracing::debug!(generation = self.generation, "connected: upgrade done");
        self.emit(Event::Connected);
        if let Some(interval) = self.config.heartbeat.ping_interval {
            self.timers.set(Timer::Ping, self.now + interval);
        }
        if let Some(idle) = self.config.heartbeat.idle_timeout {
            self.timers.set(Timer::Idle, self.now + idle);
        }
    }

    /// Sends the auth request; `false` without credentials or an auth protocol.
    pub(crate) fn start_auth(&mut self, adapter: &dyn Adapter) -> bool {
        let Some(credentials) = self.config.credentials.as_ref() else {
            return false;
        };
        let context = AuthContext {
            unix_time_ms: self.wall_clock.map(|(at, unix_ms)| {
                unix_ms + self.now.saturating_duration_since(at).as_millis() as u64
            }),
            nonce: (0..12)
                .map(|_| {
                    char::from(
                        b"0123456789abcdefghijklmnopqrstuvwxyz"
                            [(self.rng.next_u32() % 36) as usize],
                    )
                })
                .collect(),
        };
        let Some(request) = adapter.auth_request(credentials, &context) else {
            return false;
        };
        // The request's params carry the credentials: only its method is logged.
        tracing::debug!(method = %request.method, "authenticating");
        self.send_control(adapter, Purpose::Auth, request);
        true
    }

    /// Refreshes the token, or authenticates afresh when the adapter cannot refresh.
    pub(crate) fn start_refresh(&mut self, adapter: &dyn Adapter) {
        match self.token.as_ref().and_then(|t| adapter.refresh_request(t)) {
            Some(request) => {
                tracing::debug!(method = %request.method, "refreshing the access token");
                self.send_control(adapter, Purpose::Refresh, request);
            }
            None => {
                tracing::debug!("no refresh request: authenticating afresh");
                self.start_auth(adapter);
            }
        }
    }

    /// On-connect requests, then private and public resubscriptions; `Restored`
    /// follows when all are answered.
    pub(crate) fn start_restore(&mut self, adapter: &dyn Adapter) {
        self.restore_outstanding = 0;
        self.past_auth = true;
        for request in adapter.on_connected() {
            self.send_control(adapter, Purpose::Setup, request);
            self.restore_outstanding += 1;
        }
        self.request_subscriptions(adapter);
        if self.restore_outstanding == 0 {
            self.followups.push_back(Ev::Restored);
        }
    }

    /// One setup or resubscribe request of the restore phase got its outcome.
    pub(crate) fn restore_step_done(&mut self) {
        if self.ready || self.restore_outstanding == 0 {
            return;
        }
        self.restore_outstanding -= 1;
        if self.restore_outstanding == 0 {
            self.followups.push_back(Ev::Restored);
        }
    }

    /// Subscribes to desired channels not yet requested: private ones first.
    pub(crate) fn request_subscriptions(&mut self, adapter: &dyn Adapter) {
        let todo = self.subs.take_unrequested();
        let (private, public): (Vec<String>, Vec<String>) =
            todo.into_iter().partition(|c| adapter.is_private(c));
        for (channels, private) in [(private, true), (public, false)] {
            if channels.is_empty() {
                continue;
            }
            match adapter.subscribe_request(&channels, private) {
                Some(request) => {
                    tracing::debug!(count = channels.len(), private, "subscribing");
                    self.send_control(adapter, Purpose::Subscribe(channels), request);
                    if !self.ready {
                        self.restore_outstanding += 1;
                    }
                }
                None => {
                    let channels = self.subs.on_subscribe_failed(&channels);
                    tracing::warn!(
                        ?channels,
                        "subscription failed: the adapter has no subscriptions"
                    );
                    self.emit(Event::SubscriptionFailed {
                        channels,
                        error: "the adapter has no subscriptions".into(),
                    });
                }
            }
        }
    }

    /// Ends subscriptions the server confirmed.
    pub(crate) fn request_unsubscribe(&mut self, adapter: &dyn Adapter, channels: Vec<String>) {
        let (private, public): (Vec<String>, Vec<String>) =
            channels.into_iter().partition(|c| adapter.is_private(c));
        for (channels, private) in [(private, true), (public, false)] {
            if channels.is_empty() {
                continue;
            }
            match adapter.unsubscribe_request(&channels, private) {
                Some(request) => {
                    self.send_control(adapter, Purpose::Unsubscribe(channels), request);
                    // Ready means confirmed == desired: wait for it while restoring.
                    if !self.ready {
                        self.restore_outstanding += 1;
                    }
                }
                None => {
                    self.subs.on_unsubscribed(&channels);
                    self.emit(Event::Unsubscribed { channels });
                }
            }
        }
    }

    /// `Ready`: the application's queue drains; the failure streak ends once
    /// the connection has stayed up for `stable_after`.
    pub(crate) fn enter_ready(&mut self, adapter: &dyn Adapter) {
        self.ready = true;
        self.ever_ready = true;
        self.token_reconnected = false;
        if self.config.stable_after.is_zero() {
            self.backoff.reset();
        } else {
            let at = self.now + self.config.stable_after;
            self.timers.set(Timer::Stable, at);
        }
        self.emit(Event::Ready);
        self.pump_queues(adapter);
    }

    /// The connection is gone: close the socket, fail what was sent on it,
    /// forget what the server knew. Unsent application requests stay queued.
    pub(crate) fn teardown(&mut self) {
        self.close_transport();
        self.connected = false;
        self.ready = false;
        self.authenticated = false;
        self.restore_outstanding = 0;
        self.past_auth = false;
        self.timers.clear_connection();
        self.clear_pings();
        self.subs.on_connection_lost();
        self.forget_sequences();
        self.requeue_waiting();
        for (id, purpose) in self.requests.take_sent() {
            if purpose == Purpose::User {
                self.emit(Event::RequestFailed {
                    id,
                    error: RequestError::ConnectionLost,
                });
            }
        }
        // The core's own requests are built afresh on the next connection.
        for queued in std::mem::take(&mut self.queues.control) {
            if let super::outbound::Payload::Request { id, .. } = queued.kind {
                self.requests.complete(id);
            }
        }
    }

    /// Asks the adapter and the backoff what follows a loss. `Ok` when a
    /// reconnect is scheduled, `Err` with the reason to close otherwise.
    pub(crate) fn schedule_reconnect(
        &mut self,
        adapter: &dyn Adapter,
        reason: DisconnectReason,
        initiator: Initiator,
    ) -> Result<(), CloseReason> {
        let policy = if self.config.fail_before_first_ready && !self.ever_ready {
            Policy::Stop
        } else {
            adapter.disconnect_policy(&reason)
        };
        let delay = match policy {
            Policy::Stop => None,
            Policy::Reconnect => self.backoff.next_delay(&mut self.rng),
            Policy::ReconnectAfter(at_least) => self
                .backoff
                .next_delay(&mut self.rng)
                .map(|d| d.max(at_least)),
        };
        let attempt = self.backoff.attempts();
        match delay {
            Some(delay) => tracing::warn!(
                ?reason,
                ?initiator,
                ?policy,
                attempt,
                delay_ms = delay.as_millis() as u64,
                generation = self.generation,
                "connection lost: reconnecting after backoff"
            ),
            None => tracing::error!(
                ?reason,
                ?initiator,
                ?policy,
                attempt,
                generation = self.generation,
                "connection lost: not reconnecting"
            ),
        }
        self.emit(Event::Disconnected {
            reason: reason.clone(),
            initiator,
            reconnect_in: delay,
        });
        match (delay, policy) {
            (Some(delay), _) => {
                self.telemetry.reconnect(&reason);
                self.timers.set(Timer::Backoff, self.now + delay);
                Ok(())
            }
            (None, Policy::Stop) => Err(CloseReason::Stopped(reason)),
            (None, _) => Err(CloseReason::RetriesExhausted(reason)),
        }
    }

    /// Starts the close handshake; `false` when there is no open WebSocket.
    pub(crate) fn start_close(&mut self, code: u16, reason: &str) -> bool {
        let Some(wire) = self.wire.as_mut() else {
            return false;
        };
        if wire.close(CloseCode::from(code), reason).is_err() {
            return false;
        }
        self.ready = false;
        self.timers
            .set(Timer::Close, self.now + self.config.close_timeout);
        tracing::debug!(code, "close handshake started");
        true
    }

    /// The end: every request without an outcome fails with `Closed`.
    pub(crate) fn finish(&mut self, reason: CloseReason) {
        let had_transport = self.wire.is_some() || self.connected;
        // Taken before the teardown, so requests in flight at a user close
        // fail with `Closed`, not `ConnectionLost`.
        let pending = self.requests.take_all();
        self.teardown();
        if had_transport && reason == CloseReason::User {
            self.emit(Event::Disconnected {
                reason: DisconnectReason::UserClose,
                initiator: Initiator::User,
                reconnect_in: None,
            });
        }
        for (id, purpose) in pending {
            if purpose == Purpose::User {
                self.emit(Event::RequestFailed {
                    id,
                    error: RequestError::Closed,
                });
            }
        }
        self.queues.user.clear();
        self.timers = Default::default();
        tracing::info!(?reason, generation = self.generation, "session closed");
        self.emit(Event::Closed { reason });
    }

    // ---- time ---------------------------------------------------------

    /// Acts on a timer that fired.
    pub(crate) fn on_timer(&mut self, adapter: &dyn Adapter, timer: Timer) {
        let lost = |reason| Ev::Lost(reason, Initiator::Library);
        match timer {
            Timer::Connect => self
                .followups
                .push_back(lost(DisconnectReason::ConnectTimeout)),
            Timer::PongDeadline => self
                .followups
                .push_back(lost(DisconnectReason::PongTimeout)),
            Timer::Idle => self
                .followups
                .push_back(lost(DisconnectReason::IdleTimeout)),
            Timer::Backoff => self.followups.push_back(Ev::BackoffElapsed),
            Timer::Close => self.followups.push_back(Ev::CloseDone),
            Timer::Ping => {
                // A quiet moment: give back what the last burst grew.
                if let Some(wire) = self.wire.as_mut() {
                    wire.shrink_buffers();
                }
                // Not while the driver does not read: its pong would wait unread.
                if !self.reading_paused {
                    self.send_ping();
                }
                if let Some(interval) = self.config.heartbeat.ping_interval {
                    self.timers.set(Timer::Ping, self.now + interval);
                }
            }
            Timer::Refresh => self.start_refresh(adapter),
            Timer::Refill => self.pump_queues(adapter),
            Timer::Stable => self.backoff.reset(),
            Timer::Retry => self.release_delayed(adapter),
            Timer::Resync => self.on_resync_timer(adapter),
        }
    }

    /// A request's deadline passed without an outcome.
    pub(crate) fn on_request_expired(
        &mut self,
        adapter: &dyn Adapter,
        id: RequestId,
        purpose: Purpose,
    ) {
        self.queues.remove(id);
        // The expired request may have been the one the refill timer waited for.
        self.pump_queues(adapter);
        if !matches!(purpose, Purpose::User | Purpose::Subscribe(_)) {
            tracing::debug!(id = id.0, ?purpose, "request timed out");
        }
        let lost = |what: &str| {
            Ev::Lost(
                DisconnectReason::AuthFailed(what.into()),
                Initiator::Library,
            )
        };
        match purpose {
            Purpose::User => {
                tracing::debug!(id = id.0, "request timed out");
                self.emit(Event::RequestFailed {
                    id,
                    error: RequestError::Timeout,
                })
            }
            Purpose::Auth => self.followups.push_back(lost("authentication timed out")),
            Purpose::Refresh => self.followups.push_back(lost("token refresh timed out")),
            Purpose::Subscribe(channels) => {
                tracing::debug!(
                    count = channels.len(),
                    "subscribe request timed out: will ask again"
                );
                // No answer is not a refusal: the channels stay desired and
                // are requested again (a dead connection is replaced first).
                self.subs.on_subscribe_unanswered(&channels);
                if self.past_auth {
                    self.request_subscriptions(adapter);
                }
                // After the new request counts: restoring is not done yet.
                self.restore_step_done();
            }
            Purpose::Unsubscribe(channels) => {
                // No answer is not an end: channels still confirmed and no
                // longer wanted are asked about again, or the server keeps
                // sending them. (A resync's channels are still wanted: the
                // resync deadline asks again for those.)
                let unwanted: Vec<String> = channels
                    .into_iter()
                    .filter(|c| {
                        self.subs.confirmed().contains(c) && !self.subs.desired().contains(c)
                    })
                    .collect();
                if !unwanted.is_empty() && self.past_auth {
                    tracing::debug!(
                        count = unwanted.len(),
                        "unsubscribe request timed out: will ask again"
                    );
                    self.request_unsubscribe(adapter, unwanted);
                }
                self.restore_step_done(); // after the new request counts
            }
            Purpose::Setup => self.restore_step_done(),
            Purpose::Heartbeat => {}
        }
    }
}
