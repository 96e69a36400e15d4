//! One line of a recording (JSON Lines): an input, a command, or something
//! the session produced. Times are nanoseconds since the session began
//! ([`time_since_start`]).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::limits::{self, RecordedLimit};
use super::pieces::{Piece, REDACTED, redact_text};
use crate::session::{Call, Event, Output};

/// The recording format's version, in its header. Version 2 counts times
/// in nanoseconds; version 1 (still read) counted microseconds, which could
/// replay a timer call up to a microsecond before a deadline that the
/// recorded call was already past (or the other way round).
pub const FORMAT_VERSION: u32 = 2;

/// A line's time `t` as the time since the start, in a recording of `version`.
///
/// ```
/// use std::time::Duration;
/// use wsnova_core::record::time_since_start;
/// assert_eq!(time_since_start(2, 1_500), Duration::from_nanos(1_500));
/// assert_eq!(time_since_start(1, 1_500), Duration::from_micros(1_500));
/// ```
pub fn time_since_start(version: u32, t: u64) -> Duration {
    if version < 2 {
        Duration::from_micros(t)
    } else {
        Duration::from_nanos(t)
    }
}

/// One line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Entry {
    /// The first line: what the session was.
    Header {
        /// [`FORMAT_VERSION`].
        version: u32,
        /// The endpoint (scheme, host, port, path; never the query).
        endpoint: String,
        /// The configuration's seed: a replay needs the same.
        seed: u64,
        /// `wss://`: the bytes are ciphertext, recorded by length only, and
        /// the recording cannot be replayed.
        tls: bool,
    },
    /// `Input::Connected`.
    Connected {
        /// Time since the start ([`time_since_start`]).
        t: u64,
        /// The generation.
        g: u64,
    },
    /// `Input::ConnectFailed`.
    ConnectFailed {
        /// Time since the start ([`time_since_start`]).
        t: u64,
        /// The generation.
        g: u64,
        /// The driver's error text.
        error: String,
    },
    /// A piece of `Input::Bytes`, complete at time `t`.
    In {
        /// Time since the start ([`time_since_start`]).
        t: u64,
        /// The generation.
        g: u64,
        /// The head or frame.
        #[serde(flatten)]
        piece: Piece,
    },
    /// Inbound bytes that are not cut into pieces (TLS): their length.
    InRaw {
        /// Time since the start ([`time_since_start`]).
        t: u64,
        /// The generation.
        g: u64,
        /// How many bytes.
        len: usize,
    },
    /// `Input::Closed`.
    Closed {
        /// Time since the start ([`time_since_start`]).
        t: u64,
        /// The generation.
        g: u64,
    },
    /// `Input::Failed`: the socket failed with this OS error.
    Failed {
        /// Time since the start ([`time_since_start`]).
        t: u64,
        /// The dial's generation.
        g: u64,
        /// The OS error's text.
        error: String,
    },
    /// `handle_timeout`.
    Timeout {
        /// Time since the start ([`time_since_start`]).
        t: u64,
    },
    /// A command and its result (`ok` or the error).
    Command {
        /// Time since the start ([`time_since_start`]).
        t: u64,
        /// Which.
        #[serde(flatten)]
        command: Command,
        /// `ok`, or the error's text.
        result: String,
    },
    /// A piece of the bytes the driver wrote.
    Out {
        /// The generation.
        g: u64,
        /// The head or frame.
        #[serde(flatten)]
        piece: Piece,
    },
    /// Bytes written that are not cut into pieces (TLS): their length.
    OutRaw {
        /// The generation.
        g: u64,
        /// How many bytes.
        len: usize,
    },
    /// An output other than `Transmit`, as [`output_line`] writes it.
    Output {
        /// The output.
        line: String,
    },
}

/// A command given to the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// `connect`.
    Connect,
    /// `send_text` (secrets in JSON redacted).
    SendText {
        /// The text.
        text: String,
    },
    /// `send_binary`.
    SendBinary {
        /// The data, base64.
        base64: String,
    },
    /// `request` (an auth method's params redacted).
    Request {
        /// The method.
        method: String,
        /// The params as JSON text, or `<redacted>`.
        params: String,
    },
    /// `subscribe`.
    Subscribe {
        /// The channels.
        channels: Vec<String>,
    },
    /// `unsubscribe`.
    Unsubscribe {
        /// The channels.
        channels: Vec<String>,
    },
    /// `authenticate` (the secret is never recorded).
    Authenticate {
        /// The public part.
        client_id: String,
    },
    /// `ping`.
    Ping,
    /// `close`.
    Close {
        /// The close code.
        code: u16,
        /// The reason.
        reason: String,
    },
    /// `set_unix_time`.
    UnixTime {
        /// Milliseconds since the Unix epoch.
        ms: u64,
    },
    /// `set_reading_paused`.
    ReadingPaused {
        /// Paused or not.
        paused: bool,
    },
    /// `set_heartbeat` (durations in microseconds; `None`: off).
    Heartbeat {
        /// `ping_interval`.
        ping_interval_us: Option<u64>,
        /// `pong_timeout`.
        pong_timeout_us: u64,
        /// `idle_timeout`.
        idle_timeout_us: Option<u64>,
    },
    /// `set_rate_limits`.
    RateLimits {
        /// Whether classes without an override take the adapter's limits.
        adapter_defaults: bool,
        /// The overrides, by class name.
        overrides: Vec<RecordedLimit>,
    },
}

impl Command {
    /// The recording of a command a session's tap saw, secrets redacted.
    pub fn from_call(call: &Call<'_>) -> Command {
        let channels = |c: &[&str]| c.iter().map(|c| c.to_string()).collect();
        match *call {
            Call::Connect => Command::Connect,
            Call::SendText(text) => Command::SendText {
                text: redact_text(text),
            },
            Call::SendBinary(data) => Command::SendBinary {
                base64: data_encoding::BASE64.encode(data),
            },
            Call::Request { method, params } => Command::request(method, params),
            Call::Subscribe(c) => Command::Subscribe {
                channels: channels(c),
            },
            Call::Unsubscribe(c) => Command::Unsubscribe {
                channels: channels(c),
            },
            Call::Authenticate { client_id } => Command::Authenticate {
                client_id: client_id.to_owned(),
            },
            Call::Ping => Command::Ping,
            Call::Close { code, reason } => Command::Close {
                code,
                reason: reason.to_owned(),
            },
            Call::UnixTime(ms) => Command::UnixTime { ms },
            Call::ReadingPaused(paused) => Command::ReadingPaused { paused },
            Call::Heartbeat(heartbeat) => {
                let us = |d: Duration| d.as_micros() as u64;
                Command::Heartbeat {
                    ping_interval_us: heartbeat.ping_interval.map(us),
                    pong_timeout_us: us(heartbeat.pong_timeout),
                    idle_timeout_us: heartbeat.idle_timeout.map(us),
                }
            }
            Call::RateLimits(limits) => Command::RateLimits {
                adapter_defaults: limits.uses_adapter_defaults(),
                overrides: limits::record(limits),
            },
        }
    }

    /// A request's command, its params redacted for auth methods.
    pub fn request(method: &str, params: &str) -> Command {
        let params = if method.ends_with("auth") {
            REDACTED.to_owned()
        } else {
            redact_text(params)
        };
        Command::Request {
            method: method.to_owned(),
            params,
        }
    }
}

/// An output as a recording line: stable across runs (times relative to
/// `epoch`), secrets redacted. `Transmit` gives `None`: its bytes are
/// recorded as they are written.
pub fn output_line(output: &Output, epoch: Instant) -> Option<String> {
    Some(match output {
        Output::Transmit { .. } => return None,
        Output::Dial {
            generation,
            host,
            port,
        } => format!("dial g={generation} {host}:{port}"),
        Output::CloseTransport { generation, flush } => {
            format!("close_transport g={generation} flush={}", flush.len())
        }
        Output::Event(event) => event_line(event, epoch),
    })
}

fn event_line(event: &Event, epoch: Instant) -> String {
    match event {
        Event::Message(message) => match message.as_text() {
            Some(text) => format!("message text {}", redact_text(text)),
            None => format!(
                "message binary {}",
                data_encoding::BASE64.encode(message.as_bytes())
            ),
        },
        Event::Notification { channel, data } => {
            format!("notification {channel} {}", redact_text(data.as_str()))
        }
        Event::Response { id, result } => {
            format!("response {} {}", id.0, redact_text(result.as_str()))
        }
        Event::Authenticated { expires_at } => match expires_at {
            Some(at) => format!(
                "authenticated expires_at={}us",
                at.saturating_duration_since(epoch).as_micros()
            ),
            None => "authenticated".to_owned(),
        },
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{JsonText, RequestId};
    use crate::wire::Message;

    #[test]
    fn times_are_nanoseconds_from_format_2_and_microseconds_before() {
        assert_eq!(FORMAT_VERSION, 2);
        assert_eq!(time_since_start(2, 1_999), Duration::from_nanos(1_999));
        assert_eq!(time_since_start(3, 7), Duration::from_nanos(7));
        assert_eq!(time_since_start(1, 1_999), Duration::from_micros(1_999));
    }

    #[test]
    fn each_output_has_its_line_and_secrets_stay_out() {
        let epoch = Instant::now();
        let line = |output: Output| output_line(&output, epoch);
        assert_eq!(line(Output::Transmit { generation: 1 }), None);
        assert_eq!(
            line(Output::Dial {
                generation: 2,
                host: "h.test".into(),
                port: 9,
            })
            .as_deref(),
            Some("dial g=2 h.test:9")
        );
        assert_eq!(
            line(Output::CloseTransport {
                generation: 3,
                flush: vec![0; 4],
            })
            .as_deref(),
            Some("close_transport g=3 flush=4")
        );
        let event = |e: Event| line(Output::Event(e)).unwrap();
        assert_eq!(
            event(Event::Message(Message::text("hi"))),
            "message text hi"
        );
        assert_eq!(
            event(Event::Message(Message::binary(vec![0xff, 0]))),
            "message binary /wA="
        );
        let token = r#"{"access_token":"AT","expires_in":900}"#;
        let response = event(Event::Response {
            id: RequestId(7),
            result: JsonText::from_string(token),
        });
        assert!(response.starts_with("response 7 "), "{response}");
        assert!(
            !response.contains("AT") && response.contains("900"),
            "{response}"
        );
        let notification = event(Event::Notification {
            channel: "ticker".into(),
            data: JsonText::from_string("{\"p\":1}"),
        });
        assert_eq!(notification, "notification ticker {\"p\":1}");
        let expires = event(Event::Authenticated {
            expires_at: Some(epoch + Duration::from_millis(1_500)),
        });
        assert_eq!(expires, "authenticated expires_at=1500000us");
        assert_eq!(
            event(Event::Authenticated { expires_at: None }),
            "authenticated"
        );
        assert_eq!(event(Event::Ready), "Ready");
    }
}
