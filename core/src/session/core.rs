//! The session's data and mechanisms: everything the state machine's actions
//! and the public API operate on. Lifecycle decisions live in `machine`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::backoff::Backoff;
use super::heartbeat::Pings;
use super::latency::Window;
use super::machine::Ev;
use super::outbound::{Payload, Queues};
use super::ratelimit::TokenBucket;
use super::requests::{Purpose, Requests};
use super::sequence::Sequences;
use super::subscriptions::Subscriptions;
use super::telemetry::Telemetry;
use super::timers::{Timer, Timers};
use super::{
    Adapter, AuthToken, DisconnectReason, Event, Inbound, Initiator, JsonText, Output,
    RequestError, RpcError, SessionConfig, Stats,
};
use crate::wire::{Message, Wire, WireConfig, WireError, WireEvent};

/// All mutable session state; the statig context.
pub(crate) struct Core {
    pub(crate) config: SessionConfig,
    wire_config: Arc<WireConfig>,
    /// The time of the input being handled.
    pub(crate) now: Instant,
    pub(crate) rng: StdRng,
    /// Generation of the current (or last) dial.
    pub(crate) generation: u64,
    /// The driver holds a socket for `generation`.
    transport: bool,
    pub(crate) wire: Option<Wire>,
    /// The upgrade succeeded and the connection is not lost yet.
    pub(crate) connected: bool,
    /// The state machine is in `Ready`: application traffic may flow.
    pub(crate) ready: bool,
    /// Reached `Ready` at least once.
    pub(crate) ever_ready: bool,
    /// A connection was replaced because a fresh token was refused for a
    /// subscription; cleared at the next `Ready`.
    pub(crate) token_reconnected: bool,
    /// The driver does not read the socket (backpressure): deadlines only
    /// reading can meet are suspended.
    pub(crate) reading_paused: bool,
    /// When reading was last paused.
    pub(crate) paused_at: Instant,
    pub(crate) timers: Timers,
    pub(crate) outputs: VecDeque<Output>,
    /// Lifecycle events for the state machine, raised by mechanisms.
    pub(crate) followups: VecDeque<Ev>,
    pub(crate) requests: Requests,
    pub(crate) queues: Queues,
    pub(crate) subs: Subscriptions,
    pub(crate) backoff: Backoff,
    pub(crate) bucket: Option<TokenBucket>,
    pub(crate) token: Option<AuthToken>,
    pub(crate) authenticated: bool,
    /// Setup and (re/un)subscribe requests the `Restoring` state still waits for.
    pub(crate) restore_outstanding: usize,
    /// Authentication is done on this connection (`Restoring` or `Ready`):
    /// subscriptions may be requested.
    pub(crate) past_auth: bool,
    pub(crate) pings: Pings,
    pub(crate) sequences: Sequences,
    /// Where the wall clock stood at an instant, if the driver said (for signed auth).
    pub(crate) wall_clock: Option<(Instant, u64)>,
    transmit_announced: bool,
    pub(crate) stats: Stats,
    /// Request round trips, for percentiles.
    pub(crate) request_window: Box<Window>,
    /// Ping round trips, for percentiles.
    pub(crate) ping_window: Box<Window>,
    /// Reused encode buffer: no allocation per request.
    pub(crate) scratch: String,
    /// Metric handles (no-ops without a recorder).
    pub(crate) telemetry: Telemetry,
}

impl Core {
    pub(crate) fn new(config: SessionConfig, adapter: &dyn Adapter, now: Instant) -> Self {
        let wire_config = Arc::new(adapter.configure(config.wire.clone()));
        let bucket = config.rate_limit.map(|rl| TokenBucket::new(rl, now));
        let telemetry = Telemetry::new(config.connection_name());
        Core {
            rng: StdRng::seed_from_u64(config.seed),
            backoff: Backoff::new(config.backoff),
            bucket,
            wire_config,
            config,
            now,
            generation: 0,
            transport: false,
            wire: None,
            connected: false,
            ready: false,
            ever_ready: false,
            token_reconnected: false,
            reading_paused: false,
            paused_at: now,
            timers: Timers::default(),
            outputs: VecDeque::new(),
            followups: VecDeque::new(),
            requests: Requests::default(),
            queues: Queues::default(),
            subs: Subscriptions::default(),
            token: None,
            authenticated: false,
            restore_outstanding: 0,
            past_auth: false,
            pings: Pings::default(),
            sequences: Sequences::default(),
            wall_clock: None,
            transmit_announced: false,
            stats: Stats::default(),
            request_window: Box::default(),
            ping_window: Box::default(),
            scratch: String::new(),
            telemetry,
        }
    }

    pub(crate) fn emit(&mut self, event: Event) {
        // Every application request's one outcome passes here.
        match &event {
            Event::Response { id, .. } => self.telemetry.outcome(*id, Ok(())),
            Event::RequestFailed { id, error } => self.telemetry.outcome(*id, Err(error)),
            _ => {}
        }
        self.outputs.push_back(Output::Event(event));
    }

    /// Refreshes the level gauges (subscriptions, tokens, queued items);
    /// they are set only when a value changed.
    pub(crate) fn update_levels(&mut self) {
        let tokens = self.bucket.as_mut().map(|b| b.available(self.now));
        let queued = self.queues.user.len() + self.queues.control.len();
        self.telemetry.levels(
            self.subs.desired().len(),
            self.subs.confirmed().len(),
            tokens,
            queued,
        );
    }

    // ---- transport ----------------------------------------------------

    /// Asks the driver for a new connection (a new generation).
    pub(crate) fn dial(&mut self) {
        self.generation += 1;
        self.transport = true;
        self.telemetry.dialed();
        let endpoint = self.wire_config.endpoint();
        tracing::debug!(
            generation = self.generation,
            host = endpoint.host(),
            port = endpoint.port(),
            "dialing"
        );
        self.outputs.push_back(Output::Dial {
            generation: self.generation,
            host: endpoint.host().to_owned(),
            port: endpoint.port(),
        });
        self.timers
            .set(Timer::Connect, self.now + self.config.connect_timeout);
    }

    /// The driver's socket is up: start TLS and the upgrade.
    pub(crate) fn on_transport_up(&mut self) {
        match Wire::new(self.wire_config.clone(), &mut self.rng) {
            Ok(wire) => self.wire = Some(wire),
            Err(err) => self
                .followups
                .push_back(Ev::Lost(DisconnectReason::Wire(err), Initiator::Library)),
        }
    }

    /// Tells the driver to close the socket, after writing what is pending
    /// (e.g. the close frame that fails a connection).
    pub(crate) fn close_transport(&mut self) {
        let flush = match self.wire.take() {
            Some(mut wire) => wire.pending_transmit().to_vec(),
            None => Vec::new(),
        };
        if self.transport {
            self.transport = false;
            self.outputs.push_back(Output::CloseTransport {
                generation: self.generation,
                flush,
            });
        }
        self.transmit_announced = false;
    }

    /// Whether input tagged with `generation` belongs to the live transport.
    pub(crate) fn is_current(&self, generation: u64) -> bool {
        self.transport && generation == self.generation
    }

    pub(crate) fn poll_transmit_announcement(&mut self) -> Option<Output> {
        let wire = self.wire.as_mut()?;
        if self.transmit_announced || wire.pending_transmit().is_empty() {
            return None;
        }
        self.transmit_announced = true;
        Some(Output::Transmit {
            generation: self.generation,
        })
    }

    pub(crate) fn advance_transmit(&mut self, n: usize) {
        if let Some(wire) = self.wire.as_mut() {
            wire.advance_transmit(n);
            self.stats.bytes_out += n as u64;
            self.telemetry.bytes_out(n);
        }
        self.transmit_announced = false;
    }

    // ---- inbound ------------------------------------------------------

    /// Feeds socket bytes to the wire.
    pub(crate) fn on_bytes(&mut self, data: &[u8]) {
        self.stats.bytes_in += data.len() as u64;
        self.telemetry.bytes_in(data.len());
        if let Some(idle) = self.config.heartbeat.idle_timeout
            && self.connected
        {
            self.timers.set(Timer::Idle, self.now + idle);
        }
        if let Some(wire) = self.wire.as_mut() {
            wire.handle_bytes(data);
        }
    }

    /// Handles the wire's next event; `false` when it has none.
    pub(crate) fn step_wire(&mut self, adapter: &dyn Adapter) -> bool {
        let Some(wire) = self.wire.as_mut() else {
            return false;
        };
        match wire.poll_event() {
            Ok(None) => false,
            Ok(Some(event)) => {
                self.on_wire_event(adapter, event);
                true
            }
            Err(err) => {
                // The peer ending or refusing the connection is the remote's
                // doing; rejecting what it sent is ours.
                let initiator = match err {
                    WireError::AbnormalClosure
                    | WireError::HandshakeEof
                    | WireError::UpgradeRejected { .. } => Initiator::Remote,
                    _ => Initiator::Library,
                };
                self.followups
                    .push_back(Ev::Lost(DisconnectReason::Wire(err), initiator));
                false
            }
        }
    }

    fn on_wire_event(&mut self, adapter: &dyn Adapter, event: WireEvent) {
        match event {
            WireEvent::Open { .. } => {
                self.timers.clear(Timer::Connect);
                self.followups.push_back(Ev::Opened);
            }
            WireEvent::Message(Message::Text(text)) => {
                self.stats.messages_in += 1;
                self.telemetry.message_in();
                self.on_text(adapter, text);
            }
            WireEvent::Message(Message::Binary(data)) => {
                self.stats.messages_in += 1;
                self.telemetry.message_in();
                // The codec's JSON is classified like a text message.
                match adapter.decode_binary(&data) {
                    Some(json) => self.on_text(adapter, json),
                    None => self.emit(Event::Message(Message::Binary(data))),
                }
            }
            WireEvent::Ping(_) => {}
            WireEvent::Pong(payload) => self.on_pong(&payload),
            WireEvent::Closed { frame, by_peer } => {
                let ev = if by_peer {
                    Ev::Lost(DisconnectReason::ServerClosed(frame), Initiator::Remote)
                } else {
                    Ev::CloseDone
                };
                self.followups.push_back(ev);
            }
        }
    }

    fn on_text(&mut self, adapter: &dyn Adapter, text: crate::wire::Text) {
        match adapter.classify(text.as_str()) {
            Inbound::Notification { channel, data } => {
                if !self.check_sequence(adapter, channel, data) {
                    return;
                }
                let event = Event::Notification {
                    channel: channel.to_owned(),
                    data: JsonText::slice_of(&text, data),
                };
                self.emit(event);
            }
            Inbound::Response { id, outcome } => {
                let Some(pending) = self.requests.take(id) else {
                    // Unknown or already ended (e.g. timed out): one outcome only.
                    tracing::trace!(id = id.0, "late or unknown response dropped");
                    return;
                };
                if let Some(sent_at) = pending.sent_at
                    && pending.purpose != Purpose::Heartbeat
                {
                    let rtt = self.now.saturating_duration_since(sent_at);
                    self.request_window.record(rtt);
                    if let Some(body) = pending.body.as_ref() {
                        self.telemetry.request_duration(&body.method, rtt);
                    }
                    tracing::trace!(
                        id = id.0,
                        rtt_us = rtt.as_micros() as u64,
                        ok = outcome.is_ok(),
                        "response"
                    );
                }
                let outcome = outcome
                    .map(|raw| JsonText::slice_of(&text, raw))
                    .map_err(|e| RpcError {
                        code: e.code,
                        message: e.message,
                        data: e.data.map(|d| JsonText::slice_of(&text, d)),
                    });
                let pending = match &outcome {
                    Err(error) => match self.try_retry(adapter, id, pending, error) {
                        Ok(()) => return, // it goes again later
                        Err(pending) => pending,
                    },
                    Ok(_) => pending,
                };
                self.on_response(adapter, id, pending.purpose, outcome);
            }
            Inbound::HeartbeatRequest { reply } => {
                // Answered at once: no queue, no tokens (DESIGN: never delayed).
                let deadline = self.now + self.config.request_timeout;
                let id = self.requests.open(Purpose::Heartbeat, deadline);
                self.write_now(adapter, Payload::Request { id, request: reply });
            }
            Inbound::Other => self.emit(Event::Message(Message::Text(text))),
        }
    }

    fn on_response(
        &mut self,
        adapter: &dyn Adapter,
        id: super::RequestId,
        purpose: Purpose,
        outcome: Result<JsonText, RpcError>,
    ) {
        match (purpose, outcome) {
            (Purpose::User, Ok(result)) => self.emit(Event::Response { id, result }),
            (Purpose::User, Err(error)) => self.emit(Event::RequestFailed {
                id,
                error: RequestError::Rejected(error),
            }),
            (purpose @ (Purpose::Auth | Purpose::Refresh), outcome) => {
                self.on_auth_response(adapter, purpose, outcome)
            }
            (Purpose::Subscribe(channels), outcome) => {
                self.on_subscribe_response(adapter, &channels, outcome);
                self.restore_step_done();
            }
            (Purpose::Unsubscribe(channels), Ok(_)) => {
                self.subs.on_unsubscribed(&channels);
                self.emit(Event::Unsubscribed { channels });
                // Channels wanted again while the unsubscribe was in flight.
                if self.past_auth {
                    self.request_subscriptions(adapter);
                }
                self.restore_step_done();
            }
            (Purpose::Unsubscribe(_), Err(e))
                if adapter.is_token_expired(&e) && self.token_refused_after_refresh(&e) =>
            {
                self.restore_step_done();
            }
            (Purpose::Unsubscribe(channels), Err(e)) => {
                self.emit(Event::SubscriptionFailed {
                    channels,
                    error: format!("unsubscribe refused: {}", e.message),
                });
                self.restore_step_done();
            }
            (Purpose::Setup, _) => self.restore_step_done(),
            (Purpose::Heartbeat, _) => {}
        }
    }

    fn on_subscribe_response(
        &mut self,
        adapter: &dyn Adapter,
        channels: &[String],
        outcome: Result<JsonText, RpcError>,
    ) {
        match outcome {
            Ok(result) => {
                let confirmed = adapter.confirmed_channels(channels, result.as_str());
                let (ok, refused, unwanted) = self.subs.on_subscribed(channels, &confirmed);
                if !ok.is_empty() {
                    tracing::debug!(count = ok.len(), "subscriptions confirmed");
                    tracing::trace!(channels = ?ok, "subscriptions confirmed");
                    self.emit(Event::Subscribed { channels: ok });
                }
                if !refused.is_empty() {
                    tracing::warn!(channels = ?refused, "subscriptions not confirmed by the server");
                    self.emit(Event::SubscriptionFailed {
                        channels: refused,
                        error: "not confirmed by the server".into(),
                    });
                }
                if !unwanted.is_empty() {
                    self.request_unsubscribe(adapter, unwanted);
                }
            }
            Err(e) if adapter.is_token_expired(&e) && self.token_refused_after_refresh(&e) => {
                // The server refused the token, not the channels: they stay
                // desired and are restored on the next connection.
                self.subs.on_subscribe_unanswered(channels);
            }
            Err(e) => {
                let dropped = self.subs.on_subscribe_failed(channels);
                if !dropped.is_empty() {
                    tracing::warn!(channels = ?dropped, code = e.code, error = %e.message, "subscriptions refused");
                    self.emit(Event::SubscriptionFailed {
                        channels: dropped,
                        error: format!("{} ({})", e.message, e.code),
                    });
                }
            }
        }
    }

    /// The core's own request was refused for its token once more after a
    /// refresh (`try_retry` refreshes once per request). Refreshing in a loop
    /// could spin against a server that keeps refusing, and dropping the
    /// request would lose a subscription, so the connection starts over:
    /// reconnect (with backoff), authenticate afresh, restore everything.
    ///
    /// Once only until the next `Ready`: if a fresh connection's fresh token
    /// is refused the same way, the refusal is the channel's after all, and
    /// `false` lets it end as a plain refusal (no reconnect loop).
    fn token_refused_after_refresh(&mut self, error: &RpcError) -> bool {
        if self.token_reconnected {
            tracing::warn!(
                code = error.code,
                "token refused again on a fresh connection: a refusal after all"
            );
            return false;
        }
        self.token_reconnected = true;
        tracing::warn!(
            code = error.code,
            error = %error.message,
            "token refused again after a refresh: reconnecting"
        );
        self.followups.push_back(Ev::Lost(
            DisconnectReason::AuthFailed(format!(
                "token refused after a refresh: {} ({})",
                error.message, error.code
            )),
            Initiator::Library,
        ));
        true
    }

    fn on_auth_response(
        &mut self,
        adapter: &dyn Adapter,
        purpose: Purpose,
        outcome: Result<JsonText, RpcError>,
    ) {
        let token = match outcome {
            Ok(result) => adapter.read_auth(result.as_str()).map_err(|m| (m, false)),
            Err(e) => {
                let fatal = purpose == Purpose::Auth && adapter.auth_error_is_fatal(&e);
                Err((e.message, fatal))
            }
        };
        if purpose == Purpose::Refresh && token.is_err() {
            tracing::info!("token refresh refused: authenticating afresh");
        }
        if purpose == Purpose::Refresh && token.is_err() && self.start_auth(adapter) {
            // The refresh token was refused: authenticate afresh on this connection.
            return;
        }
        match token {
            Ok(token) => {
                let expires_at = token.expires_in.map(|ttl| self.now + ttl);
                // The token's Debug is redacted; only its lifetime is logged.
                tracing::debug!(
                    refresh = purpose == Purpose::Refresh,
                    expires_in_s = token.expires_in.map(|t| t.as_secs()),
                    "authenticated"
                );
                if let Some(ttl) = token.expires_in {
                    let after = ttl.mul_f64(self.config.refresh_at.clamp(0.0, 1.0));
                    self.timers.set(Timer::Refresh, self.now + after);
                }
                self.token = Some(token);
                self.authenticated = true;
                self.emit(Event::Authenticated { expires_at });
                self.release_awaiting_auth(adapter);
                if purpose == Purpose::Auth {
                    self.followups.push_back(Ev::AuthOk);
                }
            }
            Err((error, fatal)) => {
                tracing::warn!(%error, fatal, refresh = purpose == Purpose::Refresh, "authentication failed");
                self.authenticated = false;
                self.fail_awaiting_auth();
                self.emit(Event::AuthFailed {
                    error: error.clone(),
                    fatal,
                });
                let ev = if fatal {
                    Ev::AuthFatal(error)
                } else {
                    Ev::Lost(DisconnectReason::AuthFailed(error), Initiator::Library)
                };
                self.followups.push_back(ev);
            }
        }
    }
}
