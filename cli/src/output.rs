//! How events are printed: data on stdout and diagnostics on stderr, or
//! with `--json` one JSON object per event on stdout.

use std::io::{self, Write};
use std::time::Duration;

use data_encoding::{BASE64, HEXLOWER};
use serde_json::{Value, json};
use wsnova_tokio::{CloseReason, DisconnectReason, Event, Initiator, Message};

use crate::args::BinaryFormat;
use crate::status::StatusLine;

/// Prints events in the chosen format.
#[derive(Debug, Clone)]
pub struct Printer {
    json: bool,
    binary: BinaryFormat,
    rtts: bool,
    status: StatusLine,
    name: Option<String>,
}

impl Printer {
    /// A printer for `--json` or text, with `--binary`'s format.
    pub fn new(json: bool, binary: BinaryFormat, rtts: bool, status: StatusLine) -> Self {
        Printer {
            json,
            binary,
            rtts,
            status,
            name: None,
        }
    }

    /// The same printer for the connection `name`: its lines start with
    /// the name, its JSON objects carry `"connection": name`.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Prints one event; whether it counts towards `--count` is returned.
    pub fn event(&self, event: &Event) -> io::Result<bool> {
        let counts = matches!(event, Event::Message(_) | Event::Notification { .. });
        if self.json {
            if let Some(mut value) = self.event_json(event) {
                if let (Some(name), Some(map)) = (&self.name, value.as_object_mut()) {
                    map.insert("connection".into(), Value::from(name.as_str()));
                }
                self.stdout(&value.to_string())?;
            }
            return Ok(counts);
        }
        match event {
            Event::Message(message) => self.stdout(&self.message_text(message))?,
            Event::Notification { channel, data } => self.stdout(&format!("{channel} {data}"))?,
            Event::Pong { rtt } if self.rtts => self.stderr(&format!("rtt {}", millis(*rtt))),
            Event::Disconnected { reason, .. } => {
                self.stderr(&format!("disconnected: {}", describe(reason)))
            }
            Event::Reconnecting { attempt } => {
                self.stderr(&format!("reconnecting (attempt {attempt})"))
            }
            Event::SubscriptionFailed { channels, error } => {
                self.stderr(&format!("subscription failed for {channels:?}: {error}"))
            }
            Event::AuthFailed { error, .. } => {
                self.stderr(&format!("authentication failed: {error}"))
            }
            Event::Gap {
                channel,
                expected,
                got,
            } => self.stderr(&format!("gap on {channel}: expected {expected}, got {got}")),
            Event::Lagged { dropped } => self.stderr(&format!("lagging: {dropped} events dropped")),
            Event::Closed { reason } => self.stderr(&format!("closed: {}", close_text(reason))),
            _ => {}
        }
        Ok(counts)
    }

    /// Prints the result of a `--request`.
    pub fn response(&self, method: &str, result: &str) -> io::Result<()> {
        if self.json {
            let result: Value =
                serde_json::from_str(result).unwrap_or(Value::String(result.into()));
            self.stdout(
                &json!({"event": "response", "method": method, "result": result}).to_string(),
            )
        } else {
            self.stdout(result)
        }
    }

    /// A diagnostic on stderr (clearing the status line first).
    pub fn stderr(&self, line: &str) {
        self.status.clear();
        match &self.name {
            Some(name) => eprintln!("wsnova: {name}: {line}"),
            None => eprintln!("wsnova: {line}"),
        }
    }

    fn stdout(&self, line: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        match (&self.name, self.json) {
            (Some(name), false) => writeln!(out, "{name} {line}")?,
            _ => writeln!(out, "{line}")?,
        }
        out.flush()
    }

    fn message_text(&self, message: &Message) -> String {
        match message.as_text() {
            Some(text) => text.to_owned(),
            None => self.encode(message.as_bytes()),
        }
    }

    fn encode(&self, bytes: &[u8]) -> String {
        match self.binary {
            BinaryFormat::Hex => HEXLOWER.encode(bytes),
            BinaryFormat::Base64 => BASE64.encode(bytes),
        }
    }

    fn event_json(&self, event: &Event) -> Option<Value> {
        Some(match event {
            Event::Connected => json!({"event": "connected"}),
            Event::Ready => json!({"event": "ready"}),
            Event::Message(message) => match message.as_text() {
                Some(text) => json!({"event": "message", "text": text}),
                None => json!({
                    "event": "message",
                    "binary": self.encode(message.as_bytes()),
                    "encoding": format!("{:?}", self.binary).to_lowercase(),
                }),
            },
            Event::Notification { channel, data } => {
                let data: Value = data.parse().unwrap_or(Value::Null);
                json!({"event": "notification", "channel": channel, "data": data})
            }
            Event::Subscribed { channels } => json!({"event": "subscribed", "channels": channels}),
            Event::Unsubscribed { channels } => {
                json!({"event": "unsubscribed", "channels": channels})
            }
            Event::SubscriptionFailed { channels, error } => {
                json!({"event": "subscription_failed", "channels": channels, "error": error})
            }
            Event::Disconnected {
                reason,
                initiator,
                reconnect_in,
            } => json!({
                "event": "disconnected",
                "reason": describe(reason),
                "initiator": initiator_name(*initiator),
                "reconnect_in_ms": reconnect_in.map(|d| d.as_millis() as u64),
            }),
            Event::Reconnecting { attempt } => json!({"event": "reconnecting", "attempt": attempt}),
            Event::Authenticated { .. } => json!({"event": "authenticated"}),
            Event::AuthFailed { error, fatal } => {
                json!({"event": "auth_failed", "error": error, "fatal": fatal})
            }
            Event::Gap {
                channel,
                expected,
                got,
            } => {
                json!({"event": "gap", "channel": channel, "expected": expected, "got": got})
            }
            Event::Pong { rtt } if self.rtts => {
                json!({"event": "pong", "rtt_ms": rtt.as_secs_f64() * 1e3})
            }
            Event::Lagged { dropped } => json!({"event": "lagged", "dropped": dropped}),
            Event::Closed { reason } => json!({"event": "closed", "reason": close_text(reason)}),
            _ => return None,
        })
    }
}

fn millis(d: Duration) -> String {
    format!("{:.3}ms", d.as_secs_f64() * 1e3)
}

fn initiator_name(initiator: Initiator) -> &'static str {
    match initiator {
        Initiator::User => "user",
        Initiator::Library => "library",
        Initiator::Remote => "remote",
    }
}

/// A loss in a few words.
pub fn describe(reason: &DisconnectReason) -> String {
    match reason {
        DisconnectReason::ConnectFailed(e) => format!("connect failed: {e}"),
        DisconnectReason::ConnectTimeout => "connect timed out".into(),
        DisconnectReason::TransportClosed(e) => format!("transport closed: {e}"),
        DisconnectReason::Wire(e) => format!("{e}"),
        DisconnectReason::ServerClosed(frame) => {
            format!("server closed ({} {})", frame.code, frame.reason)
        }
        DisconnectReason::PongTimeout => "no pong within the ping timeout".into(),
        DisconnectReason::IdleTimeout => "idle timeout".into(),
        DisconnectReason::AuthFailed(e) => format!("authentication failed: {e}"),
        DisconnectReason::UserClose => "closed by us".into(),
        other => format!("{other:?}"),
    }
}

/// A session's end in a few words.
pub fn close_text(reason: &CloseReason) -> String {
    match reason {
        CloseReason::User => "normal close".into(),
        CloseReason::Stopped(loss) => format!("stopped: {}", describe(loss)),
        CloseReason::RetriesExhausted(loss) => format!("retries exhausted: {}", describe(loss)),
        other => format!("{other:?}"),
    }
}
