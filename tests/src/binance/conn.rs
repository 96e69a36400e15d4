//! One connection: its streams, the incoming-message limit, server pings
//! with a pong deadline, the lifetime cut, delayed subscribe answers, and
//! the market's events with the injected depth faults.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

use super::market::Tick;
use super::state::{ConnId, EndReason, Endpoint, Shared};
use super::{streams, wsapi};

/// How long a server-initiated close waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

pub(crate) struct Conn {
    pub id: ConnId,
    pub shared: Arc<Shared>,
    pub endpoint: Endpoint,
    pub combined: bool,
    pub streams: BTreeSet<String>,
    started: Instant,
    received: VecDeque<Instant>,
    next_ping: Instant,
    ping_count: u64,
    awaiting_pong: Option<(Vec<u8>, Instant)>,
    delayed: VecDeque<(Instant, String)>,
    held_depth: Option<String>,
    out: Vec<Message>,
    ending: Option<(EndReason, Option<(u16, &'static str)>)>,
}

impl Conn {
    pub(crate) fn new(
        id: ConnId,
        shared: Arc<Shared>,
        endpoint: Endpoint,
        streams: BTreeSet<String>,
    ) -> Conn {
        let now = Instant::now();
        let next_ping = now + shared.config.ping_interval;
        Conn {
            id,
            combined: endpoint == Endpoint::Combined,
            shared,
            endpoint,
            streams,
            started: now,
            received: VecDeque::new(),
            next_ping,
            ping_count: 0,
            awaiting_pong: None,
            delayed: VecDeque::new(),
            held_depth: None,
            out: Vec::new(),
            ending: None,
        }
    }

    fn deadline(&self) -> Instant {
        let config = &self.shared.config;
        let mut at = (self.started + config.lifetime).min(self.next_ping);
        if let Some((_, deadline)) = &self.awaiting_pong {
            at = at.min(*deadline);
        }
        if let Some((due, _)) = self.delayed.front() {
            at = at.min(*due);
        }
        at
    }

    fn end(&mut self, reason: EndReason, close: Option<(u16, &'static str)>) {
        self.ending.get_or_insert((reason, close));
    }

    /// Counts an incoming message; ends the connection past the limit.
    fn count(&mut self, now: Instant) {
        self.received.push_back(now);
        while self
            .received
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.received.pop_front();
        }
        let in_window = self.received.len();
        let id = self.id;
        self.shared.with(|st| {
            if let Some(c) = st.stats.connections.get_mut(&id) {
                c.messages_received += 1;
                c.peak_messages_per_second = c.peak_messages_per_second.max(in_window);
            }
        });
        if self.endpoint != Endpoint::Api && in_window > self.shared.config.max_messages_per_second
        {
            self.end(
                EndReason::TooManyMessages,
                Some((1008, "Too many requests")),
            );
        }
    }

    fn on_message(&mut self, msg: Option<Result<Message, tungstenite::Error>>, now: Instant) {
        let msg = match msg {
            Some(Ok(msg)) => msg,
            None | Some(Err(_)) => return self.end(EndReason::ClientClosed, None),
        };
        match msg {
            Message::Close(_) => return self.end(EndReason::ClientClosed, None),
            Message::Frame(_) => return,
            _ => self.count(now),
        }
        if self.ending.is_some() {
            return;
        }
        let text = match msg {
            Message::Text(t) => t.as_str().to_owned(),
            Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Message::Pong(payload) => {
                if self
                    .awaiting_pong
                    .as_ref()
                    .is_some_and(|(p, _)| p[..] == payload[..])
                {
                    self.awaiting_pong = None;
                    let id = self.id;
                    self.shared.with(|st| {
                        if let Some(c) = st.stats.connections.get_mut(&id) {
                            c.pongs_received += 1;
                        }
                    });
                }
                return;
            }
            // tungstenite answers pings itself.
            _ => return,
        };
        if self.endpoint == Endpoint::Api {
            self.out
                .push(Message::text(wsapi::handle(&self.shared, &text)));
            return;
        }
        let shared = Arc::clone(&self.shared);
        let refuse = || {
            shared.with(|st| {
                st.stats.subscribe_requests += 1;
                let (left, code, msg) = st.plan.refuse.as_mut()?;
                *left -= 1;
                let out = (*code, msg.clone());
                if *left == 0 {
                    st.plan.refuse = None;
                }
                st.stats.subscriptions_refused += 1;
                Some(out)
            })
        };
        let max = self.shared.config.max_streams;
        let streams::Control::Reply { text, subscribe } =
            streams::handle(&text, &mut self.streams, &mut self.combined, max, refuse);
        let (id, current) = (self.id, self.streams.clone());
        let delay = self.shared.with(|st| {
            if let Some(c) = st.stats.connections.get_mut(&id) {
                c.streams = current;
            }
            st.plan.subscribe_delay
        });
        if subscribe && !delay.is_zero() {
            self.delayed.push_back((now + delay, text));
        } else {
            self.out.push(Message::text(text));
        }
    }

    fn on_timer(&mut self, now: Instant) {
        let config = &self.shared.config;
        if now >= self.started + config.lifetime {
            return self.end(
                EndReason::Lifetime,
                Some((1000, "connection lifetime reached")),
            );
        }
        if self.awaiting_pong.as_ref().is_some_and(|(_, d)| now >= *d) {
            return self.end(EndReason::PongTimeout, Some((1008, "pong timeout")));
        }
        if now >= self.next_ping {
            self.ping_count += 1;
            let payload = self.ping_count.to_string().into_bytes();
            self.out.push(Message::Ping(payload.clone().into()));
            if self.awaiting_pong.is_none() {
                self.awaiting_pong = Some((payload, now + config.pong_deadline));
            }
            self.next_ping = now + config.ping_interval;
            let id = self.id;
            self.shared.with(|st| {
                if let Some(c) = st.stats.connections.get_mut(&id) {
                    c.pings_sent += 1;
                }
            });
        }
        while self.delayed.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, text)) = self.delayed.pop_front() {
                self.out.push(Message::text(text));
            }
        }
    }

    fn wrap(&self, stream: &str, data: &Value) -> String {
        if self.combined {
            json!({"stream": stream, "data": data}).to_string()
        } else {
            data.to_string()
        }
    }

    fn on_ticks(&mut self, ticks: &[Tick]) {
        for tick in ticks {
            for (kind, data) in &tick.events {
                let names: Vec<String> =
                    streams::matching(&self.streams, &tick.stream_symbol, kind)
                        .cloned()
                        .collect();
                for name in names {
                    let text = self.wrap(&name, data);
                    if *kind == "depth" {
                        self.send_depth(text);
                    } else {
                        self.out.push(Message::text(text));
                    }
                }
            }
        }
    }

    /// Sends a depth event through the injected faults: dropped, or held
    /// back and sent after the next one.
    fn send_depth(&mut self, text: String) {
        let (drop, hold) = self.shared.with(|st| {
            if st.plan.drop_depth > 0 {
                st.plan.drop_depth -= 1;
                st.stats.depth_dropped += 1;
                (true, false)
            } else if self.held_depth.is_none() && st.plan.reorder_depth > 0 {
                st.plan.reorder_depth -= 1;
                st.stats.depth_reordered += 1;
                (false, true)
            } else {
                (false, false)
            }
        });
        if drop {
            return;
        }
        if hold {
            self.held_depth = Some(text);
            return;
        }
        self.out.push(Message::text(text));
        if let Some(held) = self.held_depth.take() {
            self.out.push(Message::text(held));
        }
    }

    async fn flush(
        &mut self,
        ws: &mut WebSocketStream<TcpStream>,
    ) -> Result<(), tungstenite::Error> {
        for msg in self.out.drain(..) {
            ws.feed(msg).await?;
        }
        ws.flush().await
    }
}

/// Serves the connection until it ends.
pub(crate) async fn run(
    mut ws: WebSocketStream<TcpStream>,
    mut conn: Conn,
    mut market: broadcast::Receiver<Arc<Vec<Tick>>>,
) {
    let api = conn.endpoint == Endpoint::Api;
    loop {
        let killed = conn.shared.with(|st| st.plan.kill.remove(&conn.id));
        if killed {
            conn.end(EndReason::Killed, None);
        }
        if conn.ending.is_none() {
            let deadline = conn.deadline();
            tokio::select! {
                biased;
                msg = ws.next() => conn.on_message(msg, Instant::now()),
                () = tokio::time::sleep_until(deadline.into()) => conn.on_timer(Instant::now()),
                ticks = market.recv(), if !api => match ticks {
                    Ok(ticks) => conn.on_ticks(&ticks),
                    // A slow reader loses events, as on the real service.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => conn.end(EndReason::ClientClosed, None),
                },
                () = conn.shared.killed.notified() => {}
            }
        }
        if conn.ending.is_none() && conn.flush(&mut ws).await.is_err() {
            conn.end(EndReason::Error, None);
        }
        let Some((reason, close)) = conn.ending.take() else {
            continue;
        };
        let id = conn.id;
        conn.shared.with(|st| {
            if let Some(c) = st.stats.connections.get_mut(&id) {
                c.ended = Some(reason);
            }
        });
        if let Some((code, text)) = close {
            let frame = CloseFrame {
                code: CloseCode::from(code),
                reason: text.into(),
            };
            let _ = tokio::time::timeout(CLOSE_GRACE, async {
                if ws.close(Some(frame)).await.is_ok() {
                    while let Some(Ok(_)) = ws.next().await {}
                }
            })
            .await;
        }
        return;
    }
}
