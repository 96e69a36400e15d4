//! One connection's state and reactions: to requests, timers (subscriptions,
//! heartbeat, delayed responses, scheduled drops), events (faults, order
//! updates), and its wind-down (cancel-on-disconnect, bookkeeping).

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;

use super::armed::{ArmedFaults, Effect};
use super::auth::TokenStatus;
use super::config::MockConfig;
use super::dispatch;
use super::heartbeat::{Beat, Heartbeat};
use super::orders;
use super::outbox::Outbox;
use super::rpc::{self, RpcError, now_us};
use super::state::{ConnEvent, Shared, State};
use super::stats::{ConnId, EndReason, FaultKind};
use super::subscriptions::Subs;

/// How a connection ends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ending {
    /// The socket is already gone.
    Gone(EndReason),
    /// Drop the socket without a close frame.
    Drop(EndReason),
    /// Close handshake with this code and reason.
    Close(u16, String, EndReason),
}

/// How a read or write error ends a connection: a close or EOF from the
/// client is [`EndReason::ClientClosed`], anything else [`EndReason::Error`].
pub(crate) fn end_reason(e: &tungstenite::Error) -> EndReason {
    use tungstenite::error::ProtocolError;
    match e {
        tungstenite::Error::ConnectionClosed
        | tungstenite::Error::AlreadyClosed
        | tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            EndReason::ClientClosed
        }
        _ => EndReason::Error,
    }
}

/// A connection's state.
pub(crate) struct Conn {
    pub id: ConnId,
    pub shared: Arc<Shared>,
    pub config: Arc<MockConfig>,
    /// The access token of the last successful `public/auth`.
    pub token: Option<String>,
    /// Its account.
    pub account: Option<String>,
    pub subs: Subs,
    pub heartbeat: Option<Heartbeat>,
    /// Cancel-on-disconnect scope, when enabled.
    pub cod: Option<String>,
    pub faults: ArmedFaults,
    pub ending: Option<Ending>,
    /// Outgoing messages: (text, is a response).
    outbox: Outbox,
}

impl Conn {
    pub(crate) fn new(id: ConnId, shared: Arc<Shared>, faults: ArmedFaults) -> Conn {
        let config = Arc::clone(&shared.config);
        Conn {
            id,
            subs: Subs::new(config.raw_interval),
            config,
            shared,
            token: None,
            account: None,
            heartbeat: None,
            cod: None,
            faults,
            ending: None,
            outbox: Outbox::default(),
        }
    }

    /// Queues a response.
    pub(crate) fn respond(
        &mut self,
        id: Option<&Value>,
        outcome: Result<Value, RpcError>,
        us_in: u64,
    ) {
        let text = rpc::response(id, outcome, us_in, self.config.timestamps_as_strings);
        self.outbox.response(text);
    }

    /// Whether the connection's own token is valid at `now`.
    pub(crate) fn token_status(&self, st: &State, now: Instant) -> TokenStatus {
        match &self.token {
            Some(t) => st.auth.status(t, now),
            None => TokenStatus::Unknown,
        }
    }

    fn record(&self, kind: FaultKind) {
        self.shared.with(|st| st.record_fault(Some(self.id), kind));
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        let mut times = vec![self.faults.drop_at];
        if !self.faults.stalled {
            times.push(self.heartbeat.as_ref().map(|h| h.next));
            times.push(self.subs.next_due());
            times.push(self.outbox.next_due());
        }
        times.into_iter().flatten().min()
    }

    pub(crate) fn on_event(&mut self, event: ConnEvent, now: Instant) {
        match event {
            ConnEvent::Fault(fault) => match self.faults.apply(fault, now) {
                Effect::None => {}
                Effect::Drop => {
                    self.record(FaultKind::Drop);
                    self.ending = Some(Ending::Drop(EndReason::Fault));
                }
                Effect::Close(code, reason) => {
                    self.record(FaultKind::Close);
                    self.ending = Some(Ending::Close(code, reason, EndReason::Fault));
                }
                Effect::Stall => self.record(FaultKind::Stall),
                Effect::ExpireToken => {
                    let (id, token) = (self.id, self.token.clone());
                    self.shared.with(|st| {
                        if token.is_some_and(|t| st.auth.expire(&t, now)) {
                            st.record_fault(Some(id), FaultKind::ExpireToken);
                        }
                    });
                }
            },
            ConnEvent::Account(change) => {
                if self.faults.stalled || self.account.as_deref() != Some(change.account.as_str()) {
                    return;
                }
                let notes = self.subs.on_change(&change, now);
                self.push_notifications(notes);
            }
            ConnEvent::Public { channel, data } => {
                if !self.faults.stalled {
                    let notes = self.subs.on_public(&channel, &data);
                    self.push_notifications(notes);
                }
            }
        }
    }

    fn push_notifications(&mut self, notes: Vec<String>) {
        if !notes.is_empty() {
            let n = notes.len() as u64;
            self.shared.with(|st| st.stats.notifications_sent += n);
            notes.into_iter().for_each(|t| self.outbox.notification(t));
        }
    }

    pub(crate) fn on_message(
        &mut self,
        msg: Option<Result<Message, tungstenite::Error>>,
        now: Instant,
    ) {
        let text = match msg {
            None => {
                self.ending = Some(Ending::Gone(EndReason::ClientClosed));
                return;
            }
            Some(Err(e)) => {
                self.ending = Some(Ending::Gone(end_reason(&e)));
                return;
            }
            Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
            Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
            Some(Ok(_)) => {
                self.outbox.flush_needed = true;
                return;
            }
        };
        let us_in = now_us();
        match self.faults.on_received() {
            Some(FaultKind::Drop) => {
                self.record(FaultKind::Drop);
                self.ending = Some(Ending::Drop(EndReason::Fault));
                return;
            }
            Some(kind) => return self.record(kind),
            None => {}
        }
        if text.len() > self.config.max_frame_bytes {
            let data =
                json!({"reason": "message too large", "max_size": self.config.max_frame_bytes});
            self.respond(None, Err(RpcError::new(-32600).with_data(data)), us_in);
            let ending = Ending::Close(1009, "message too big".into(), EndReason::FrameTooLarge);
            self.ending = Some(ending);
            return;
        }
        if let Some(hb) = &mut self.heartbeat {
            hb.heard();
        }
        dispatch::handle(self, &text, us_in, now);
    }

    pub(crate) fn on_timer(&mut self, now: Instant) {
        if self.faults.drop_at.is_some_and(|t| t <= now) {
            self.faults.drop_at = None;
            self.record(FaultKind::Drop);
            self.ending = Some(Ending::Drop(EndReason::Fault));
            return;
        }
        if self.faults.stalled {
            return;
        }
        if let Some(hb) = self.heartbeat.as_mut().filter(|h| h.next <= now) {
            match hb.tick(now, self.config.heartbeat_enforced) {
                Beat::Send(kind) => self.outbox.notification(rpc::heartbeat(kind)),
                Beat::Fail => {
                    let reason = EndReason::HeartbeatTimeout;
                    self.ending = Some(Ending::Close(1000, "heartbeat timeout".into(), reason));
                    return;
                }
            }
        }
        if self.subs.next_due().is_some_and(|t| t <= now) {
            let shared = Arc::clone(&self.shared);
            let (subs, faults) = (&mut self.subs, &mut self.faults);
            let mut gaps = 0;
            let notes = shared.with(|st| {
                st.advance(now);
                let mut lose = || {
                    faults.lose_change() && {
                        gaps += 1;
                        true
                    }
                };
                let notes = subs.tick(now, &st.market, &mut lose);
                for _ in 0..gaps {
                    st.record_fault(Some(self.id), FaultKind::BookGap);
                }
                notes
            });
            self.push_notifications(notes);
        }
    }

    /// Sends what is queued and due; `Err` when the socket failed.
    pub(crate) async fn flush(
        &mut self,
        ws: &mut WebSocketStream<TcpStream>,
    ) -> Result<(), tungstenite::Error> {
        if self.faults.stalled {
            self.outbox.clear();
            return Ok(());
        }
        let flushed = self.outbox.flush(ws, &mut self.faults).await?;
        let id = self.id;
        self.shared.with(|st| {
            (0..flushed.delayed).for_each(|_| st.record_fault(Some(id), FaultKind::Delay))
        });
        if flushed.drop {
            self.record(FaultKind::Drop);
            self.ending = Some(Ending::Drop(EndReason::Fault));
        }
        Ok(())
    }

    /// Bookkeeping at the end: unregister, cancel-on-disconnect.
    pub(crate) fn wind_down(&mut self, reason: EndReason) {
        let (id, cod, account) = (self.id, self.cod.clone(), self.account.clone());
        self.shared.with(|st| {
            st.conns.remove(&id);
            st.limiter.forget(&format!("conn:{id}"));
            if let Some(info) = st.stats.connections.get_mut(&id) {
                info.ended = Some(reason);
                info.subscriptions.clear();
            }
            if let (Some(scope), Some(account), false) = (cod, account, reason == EndReason::Logout)
            {
                let updates = orders::cancel_on_disconnect(st, id, &account, &scope, reason);
                st.broadcast(&updates);
            }
        });
    }
}
