//! A sans-IO fake exchange speaking JSON-RPC 2.0 over tungstenite's server:
//! auth with tokens, public/private subscriptions, notifications, heartbeats,
//! and switches for the faults the scenarios need.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Value, json};
use tungstenite::Message;
use tungstenite::protocol::WebSocketConfig;

use crate::MemPeer;

/// What the server does by default, and the faults it can be told to show.
#[derive(Debug, Clone)]
pub struct ServerBehaviour {
    /// Accepted client id.
    pub client_id: String,
    /// Accepted client secret.
    pub client_secret: String,
    /// Lifetime of issued access tokens, in seconds.
    pub token_lifetime: u64,
    /// Channels the server refuses to confirm.
    pub refused_channels: BTreeSet<String>,
    /// Error codes the next auth attempts fail with, in order (then they succeed).
    pub auth_failures: VecDeque<i64>,
    /// Answer the upgrade with this HTTP status instead of 101.
    pub reject_upgrade: Option<u16>,
    /// The `Retry-After` value sent with a refused upgrade.
    pub retry_after: Option<String>,
    /// Refuse this many of the next requests with 10028 `too_many_requests`.
    pub too_many_requests: u32,
    /// Never answer this many of the next unsubscribe requests.
    pub swallow_unsubscribes: u32,
    /// Refuse these channels' subscribe requests with 13009 "token has
    /// expired", whatever the token (a server that blames the token wrongly).
    pub token_refused_channels: BTreeSet<String>,
    /// Select this subprotocol in the `101` when the client offers it.
    pub subprotocol: Option<String>,
}

impl Default for ServerBehaviour {
    fn default() -> Self {
        ServerBehaviour {
            client_id: "client".into(),
            client_secret: "s3cret".into(),
            token_lifetime: 900,
            refused_channels: BTreeSet::new(),
            auth_failures: VecDeque::new(),
            reject_upgrade: None,
            retry_after: None,
            too_many_requests: 0,
            swallow_unsubscribes: 0,
            token_refused_channels: BTreeSet::new(),
            subprotocol: None,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The connection (the client's dial generation).
    pub generation: u64,
    /// The method.
    pub method: String,
    /// The params.
    pub params: Value,
    /// Whether the connection was authenticated when it arrived.
    pub authed: bool,
    /// The size of the message as it arrived, in bytes.
    pub bytes: usize,
    /// The request's id, if it had a numeric one.
    pub id: Option<u64>,
    /// Whether the server refused it with 10028 (not executed: a retry is legitimate).
    pub rate_limited: bool,
}

struct Conn {
    peer: MemPeer,
    authed: bool,
    /// The token was expired by the test: private calls fail until auth.
    token_expired: bool,
    subs: BTreeSet<String>,
}

/// The fake exchange. Connections are keyed by the client's dial generation.
#[derive(Default)]
pub struct FakeServer {
    /// Current behaviour; change it between steps to inject faults.
    pub behaviour: ServerBehaviour,
    conns: BTreeMap<u64, Conn>,
    /// Every request received, in order.
    pub received: Vec<Received>,
    /// Refresh tokens the server will accept.
    refresh_tokens: BTreeSet<String>,
    tokens_issued: u64,
    /// Connections accepted so far.
    pub accepted: u64,
    /// The last book change id sent in a snapshot.
    pub book_seq: u64,
    /// Every ping's payload, with its connection, in the order received.
    pub pings: Vec<(u64, Vec<u8>)>,
}

impl FakeServer {
    /// A new TCP connection for `generation`.
    pub fn accept(&mut self, generation: u64) {
        self.accepted += 1;
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(64 << 20);
        let mut peer = MemPeer::new(config);
        if let Some(protocol) = &self.behaviour.subprotocol {
            peer = peer.with_subprotocol(protocol.clone());
        }
        self.conns.insert(
            generation,
            Conn {
                peer,
                authed: false,
                token_expired: false,
                subs: BTreeSet::new(),
            },
        );
    }

    /// Forgets a connection (socket closed by either side).
    pub fn drop_conn(&mut self, generation: u64) {
        self.conns.remove(&generation);
    }

    /// Whether a connection is open.
    pub fn is_open(&self, generation: u64) -> bool {
        self.conns.contains_key(&generation)
    }

    /// Channels subscribed on a connection.
    pub fn subscriptions(&self, generation: u64) -> BTreeSet<String> {
        self.conns
            .get(&generation)
            .map(|c| c.subs.clone())
            .unwrap_or_default()
    }

    /// Bytes from the client; replies are queued for [`take_output`](Self::take_output).
    pub fn receive(&mut self, generation: u64, bytes: &[u8]) {
        let reject = self.behaviour.reject_upgrade;
        let Some(conn) = self.conns.get_mut(&generation) else {
            return;
        };
        if let Some(status) = reject {
            if !conn.peer.is_open() {
                conn.peer.feed(bytes);
                let retry_after = match &self.behaviour.retry_after {
                    Some(value) => format!("Retry-After: {value}\r\n"),
                    None => String::new(),
                };
                conn.peer.send_raw(
                    format!(
                        "HTTP/1.1 {status} Refused\r\n{retry_after}Content-Length: 7\r\n\r\nrefused"
                    )
                    .as_bytes(),
                );
            }
            return;
        }
        conn.peer.feed(bytes);
        let messages = match conn.peer.read_messages() {
            Ok(m) => m,
            Err(_) => return,
        };
        for message in messages {
            match message {
                Message::Text(text) => self.on_request(generation, text.as_str()),
                Message::Ping(payload) => self.pings.push((generation, payload.to_vec())),
                _ => {}
            }
        }
    }

    /// Bytes for the client.
    pub fn take_output(&mut self, generation: u64) -> Vec<u8> {
        self.conns
            .get_mut(&generation)
            .map(|c| c.peer.take_output())
            .unwrap_or_default()
    }

    /// Pushes a notification to every connection subscribed to `channel`.
    pub fn notify(&mut self, channel: &str, data: Value) {
        let text = json!({"jsonrpc": "2.0", "method": "subscription",
                          "params": {"channel": channel, "data": data}})
        .to_string();
        let open = |c: &&mut Conn| c.subs.contains(channel) && c.peer.is_open();
        for conn in self.conns.values_mut().filter(open) {
            // After the server's close frame tungstenite refuses to send: fine.
            let _ = conn.peer.try_send(Message::text(text.clone()));
        }
    }

    /// Sends a heartbeat `test_request` on a connection.
    pub fn test_request(&mut self, generation: u64) {
        let text =
            json!({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}});
        self.send_text(generation, &text.to_string());
    }

    /// Sends any text message on a connection.
    pub fn send_text(&mut self, generation: u64, text: &str) {
        if let Some(conn) = self.conns.get_mut(&generation).filter(|c| c.peer.is_open()) {
            let _ = conn.peer.try_send(Message::text(text.to_owned()));
        }
    }

    /// Sends a binary message on a connection.
    pub fn send_binary(&mut self, generation: u64, data: &[u8]) {
        if let Some(conn) = self.conns.get_mut(&generation).filter(|c| c.peer.is_open()) {
            let _ = conn.peer.try_send(Message::binary(data.to_vec()));
        }
    }

    /// Sends bytes as they are, outside any framing: for frames that break
    /// the protocol.
    pub fn send_raw(&mut self, generation: u64, bytes: &[u8]) {
        if let Some(conn) = self.conns.get_mut(&generation) {
            conn.peer.send_raw(bytes);
        }
    }

    /// Starts a close handshake from the server (once the upgrade is done).
    pub fn close(&mut self, generation: u64, code: u16, reason: &str) {
        if let Some(conn) = self.conns.get_mut(&generation).filter(|c| c.peer.is_open()) {
            conn.peer.close(code, reason);
        }
    }

    /// Expires every connection's token: private calls get 13009 "token has
    /// expired" until the client authenticates again.
    pub fn expire_tokens(&mut self) {
        for conn in self.conns.values_mut() {
            conn.token_expired = true;
        }
    }

    /// Requests received with this method.
    pub fn count(&self, method: &str) -> usize {
        self.received.iter().filter(|r| r.method == method).count()
    }

    fn on_request(&mut self, generation: u64, text: &str) {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let id = request["id"].clone();
        let method = request["method"].as_str().unwrap_or("").to_owned();
        let params = request["params"].clone();
        let authed = self.conns[&generation].authed;
        self.received.push(Received {
            generation,
            method: method.clone(),
            params: params.clone(),
            authed,
            bytes: text.len(),
            id: id.as_u64(),
            rate_limited: false,
        });
        if method.ends_with("/unsubscribe") && self.behaviour.swallow_unsubscribes > 0 {
            self.behaviour.swallow_unsubscribes -= 1;
            return;
        }
        let limited = !matches!(method.as_str(), "public/auth" | "public/test")
            && self.behaviour.too_many_requests > 0;
        let answer = if limited {
            self.behaviour.too_many_requests -= 1;
            if let Some(last) = self.received.last_mut() {
                last.rate_limited = true;
            }
            Some(Err((10028, "too_many_requests".to_string())))
        } else if (self.conns[&generation].token_expired && method.starts_with("private/"))
            || (method.ends_with("/subscribe")
                && params["channels"].as_array().is_some_and(|channels| {
                    channels.iter().any(|c| {
                        c.as_str()
                            .is_some_and(|c| self.behaviour.token_refused_channels.contains(c))
                    })
                }))
        {
            let error = json!({"code": 13009, "message": "invalid_token",
                               "data": {"reason": "token has expired"}});
            self.send_text(
                generation,
                &json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string(),
            );
            return;
        } else {
            self.answer(generation, &method, &params)
        };
        let reply = match answer {
            Some(Ok(result)) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Some(Err((code, message))) => {
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
            }
            None => return, // "silent": never answered
        };
        self.send_text(generation, &reply.to_string());
        // A (re)subscribed book starts with a snapshot, as on Deribit.
        if method.ends_with("/subscribe") {
            let books: Vec<String> = self.conns[&generation]
                .subs
                .iter()
                .filter(|c| c.starts_with("book.") && params.to_string().contains(c.as_str()))
                .cloned()
                .collect();
            for channel in books {
                self.book_seq += 10;
                let snapshot = json!({"type": "snapshot", "change_id": self.book_seq});
                let text = json!({"jsonrpc": "2.0", "method": "subscription",
                                  "params": {"channel": channel, "data": snapshot}});
                self.send_text(generation, &text.to_string());
            }
        }
    }

    fn answer(
        &mut self,
        generation: u64,
        method: &str,
        params: &Value,
    ) -> Option<Result<Value, (i64, String)>> {
        let channels: Vec<String> = params["channels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let conn = self.conns.get_mut(&generation)?;
        let unauthorized = Err((13009, "unauthorized".to_string()));
        Some(match method {
            "public/auth" => {
                if let Some(code) = self.behaviour.auth_failures.pop_front() {
                    return Some(Err((code, format!("auth failed ({code})"))));
                }
                let ok = match params["grant_type"].as_str() {
                    Some("client_credentials") => {
                        params["client_id"] == self.behaviour.client_id.as_str()
                            && params["client_secret"] == self.behaviour.client_secret.as_str()
                    }
                    Some("refresh_token") => params["refresh_token"]
                        .as_str()
                        .is_some_and(|t| self.refresh_tokens.remove(t)),
                    _ => false,
                };
                if !ok {
                    return Some(Err((13004, "invalid_credentials".into())));
                }
                conn.authed = true;
                conn.token_expired = false;
                self.tokens_issued += 1;
                let refresh = format!("rt-{}", self.tokens_issued);
                self.refresh_tokens.insert(refresh.clone());
                Ok(json!({"access_token": format!("at-{}", self.tokens_issued),
                          "refresh_token": refresh, "expires_in": self.behaviour.token_lifetime}))
            }
            "private/subscribe" if !conn.authed => unauthorized,
            "public/subscribe" | "private/subscribe" => {
                let confirmed: Vec<String> = channels
                    .into_iter()
                    .filter(|c| !self.behaviour.refused_channels.contains(c))
                    .collect();
                conn.subs.extend(confirmed.iter().cloned());
                Ok(json!(confirmed))
            }
            "public/unsubscribe" | "private/unsubscribe" => {
                for c in &channels {
                    conn.subs.remove(c);
                }
                Ok(json!(channels))
            }
            "public/set_heartbeat" => Ok(json!("ok")),
            "public/test" => Ok(json!({"version": "test"})),
            "echo" => Ok(params.clone()),
            "silent" => return None,
            m if m.starts_with("private/") && !conn.authed => unauthorized,
            m if m.starts_with("private/") => Ok(json!({"method": m})),
            _ => Err((-32601, "Method not found".into())),
        })
    }
}
