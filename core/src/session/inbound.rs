//! The inbound dispatch: each event of the wire, and each message the
//! adapter classifies, routed to the concern it belongs to.

use super::adapter::Adapter;
use super::core::{Core, link_of};
use super::event::{DisconnectReason, Event, Initiator, RequestError, RequestId, RpcError};
use super::json::JsonText;
use super::messages::Inbound;
use super::outbox::Ev;
use super::queue::Payload;
use super::requests::Purpose;
use super::retry::Holding;
use super::state::SessionState;
use super::timers::Timer;
use crate::wire::{Message, Text, WireEvent};
use std::time::Duration;

/// How long replies to what a peer sent before breaking the protocol may
/// still leave before the connection fails (the application gets those
/// messages asynchronously). The peer's input is refused meanwhile.
const VIOLATION_LINGER: Duration = Duration::from_millis(100);

impl Core {
    /// Handles the wire's next event, in `phase`; `false` when it has none.
    pub(crate) fn step_wire(&mut self, adapter: &dyn Adapter, phase: SessionState) -> bool {
        match self.transport.poll_wire_event(&mut self.env.out) {
            Some(event) => {
                self.on_wire_event(adapter, event, phase);
                true
            }
            None => {
                let timers = &mut self.env.timers;
                if self.transport.violation_pending() && timers.get(Timer::Linger).is_none() {
                    timers.set(Timer::Linger, self.env.now + VIOLATION_LINGER);
                }
                false
            }
        }
    }

    fn on_wire_event(&mut self, adapter: &dyn Adapter, event: WireEvent, phase: SessionState) {
        match event {
            WireEvent::Open { .. } => self.transport.on_open(&mut self.env),
            WireEvent::Message(Message::Text(text)) => {
                self.env.out.meters.stats.messages_in += 1;
                self.env.out.telemetry.message_in();
                self.on_text(adapter, text, phase);
            }
            WireEvent::Message(Message::Binary(data)) => {
                self.env.out.meters.stats.messages_in += 1;
                self.env.out.telemetry.message_in();
                // The codec's JSON is classified like a text message.
                match adapter.decode_binary(&data) {
                    Some(json) => self.on_text(adapter, json, phase),
                    None => self.env.out.emit(Event::Message(Message::Binary(data))),
                }
            }
            WireEvent::Ping(_) => {}
            WireEvent::Pong(payload) => self.heartbeat.on_pong(&mut self.env, &payload),
            WireEvent::Closed { frame, by_peer } => {
                let ev = if by_peer {
                    Ev::Lost(DisconnectReason::ServerClosed(frame), Initiator::Remote)
                } else {
                    Ev::CloseDone
                };
                self.env.out.raise(ev);
            }
        }
    }

    fn on_text(&mut self, adapter: &dyn Adapter, text: Text, phase: SessionState) {
        match adapter.classify(text.as_str()) {
            Inbound::Notification { channel, data } => {
                let mut link = link_of!(self, adapter, phase);
                if !self
                    .sequences
                    .check(&mut link, &mut self.subs, channel, data)
                {
                    return;
                }
                let event = Event::Notification {
                    channel: channel.to_owned(),
                    data: JsonText::slice_of(&text, data),
                };
                self.env.out.emit(event);
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
                    let rtt = self.env.now.saturating_duration_since(sent_at);
                    self.env.out.meters.record_request(rtt);
                    if let Some(body) = pending.body.as_ref() {
                        self.env.out.telemetry.request_duration(&body.method, rtt);
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
                    Err(error) => {
                        let outbound = &mut self.outbound;
                        let held = outbound.held.hold(
                            &mut self.env,
                            adapter,
                            &mut self.requests,
                            &mut outbound.queues,
                            id,
                            pending,
                            error,
                        );
                        match held {
                            Ok(Holding::FirstAwaitingAuth) => {
                                // It goes again after the refresh.
                                self.auth.start_refresh(&mut link_of!(self, adapter, phase));
                                return;
                            }
                            Ok(Holding::Waiting) => return, // it goes again later
                            Ok(Holding::NextConnection) => {
                                // The server ended its session (e.g. Deribit
                                // 10028): never send on it again.
                                let reason = DisconnectReason::SessionEnded(error.clone());
                                self.env.out.lose(reason, Initiator::Remote);
                                return;
                            }
                            Err(pending)
                                if adapter.ends_session(error)
                                    && !matches!(
                                        pending.purpose,
                                        Purpose::Auth | Purpose::Refresh
                                    ) =>
                            {
                                let reason = DisconnectReason::SessionEnded(error.clone());
                                self.env.out.lose(reason, Initiator::Remote);
                                pending
                            }
                            Err(pending) => pending,
                        }
                    }
                    Ok(_) => pending,
                };
                self.on_response(adapter, id, pending.purpose, outcome, phase);
            }
            Inbound::HeartbeatRequest { reply } => {
                // Answered at once: no queue, no tokens (DESIGN: never delayed).
                let deadline = self.env.now + self.env.config.request_timeout;
                let id = self.requests.open(Purpose::Heartbeat, deadline);
                link_of!(self, adapter, phase).write_now(Payload::Request { id, request: reply });
            }
            Inbound::KeepAlive => tracing::trace!("platform keep-alive"),
            Inbound::Other => self.env.out.emit(Event::Message(Message::Text(text))),
        }
    }

    fn on_response(
        &mut self,
        adapter: &dyn Adapter,
        id: RequestId,
        purpose: Purpose,
        outcome: Result<JsonText, RpcError>,
        phase: SessionState,
    ) {
        match (purpose, outcome) {
            (Purpose::User, Ok(result)) => self.env.out.emit(Event::Response { id, result }),
            (Purpose::User, Err(error)) => self.env.out.emit(Event::RequestFailed {
                id,
                error: RequestError::Rejected(error),
            }),
            (purpose @ (Purpose::Auth | Purpose::Refresh), outcome) => {
                let mut link = link_of!(self, adapter, phase);
                self.auth.on_response(&mut link, purpose, outcome)
            }
            (Purpose::Subscribe(channels), outcome) => {
                let token_refused = self.token_refused(adapter, &outcome);
                let mut link = link_of!(self, adapter, phase);
                self.subs
                    .on_subscribe_answer(&mut link, &channels, outcome, token_refused);
            }
            (Purpose::Unsubscribe(channels), outcome) => {
                let token_refused = self.token_refused(adapter, &outcome);
                let mut link = link_of!(self, adapter, phase);
                self.subs
                    .on_unsubscribe_answer(&mut link, channels, outcome, token_refused);
            }
            (Purpose::Setup, _) => self.subs.restore_step_done(phase, &mut self.env.out),
            (Purpose::Heartbeat, _) => {}
        }
    }

    /// Whether a refusal of the core's own request is its token's, once
    /// more after a refresh: then the connection is replaced (see
    /// [`Auth::token_refused_after_refresh`](super::auth::Auth::token_refused_after_refresh)).
    fn token_refused(
        &mut self,
        adapter: &dyn Adapter,
        outcome: &Result<JsonText, RpcError>,
    ) -> bool {
        match outcome {
            Err(e) if adapter.is_token_expired(e) => {
                self.auth.token_refused_after_refresh(&mut self.env.out, e)
            }
            _ => false,
        }
    }
}
