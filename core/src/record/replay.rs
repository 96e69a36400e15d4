//! Feeding a recording to a fresh [`Session`] in virtual time and finding
//! the first place where it behaves differently.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use data_encoding::BASE64;

use super::entry::{Command, Entry, FORMAT_VERSION, output_line, time_since_start};
use super::pieces::{Piece, PieceStream, REDACTED};
use crate::session::{
    Adapter, Credentials, HeartbeatConfig, Input, Session, SessionConfig, SessionError,
};
use crate::wire::CloseCode;

/// Where a replay first differed from its recording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected {expected}, got {got}")]
pub struct Divergence {
    /// The recording's line (1-based) where they differ.
    pub line: usize,
    /// What the recording says.
    pub expected: String,
    /// What the replayed session did.
    pub got: String,
}

/// What a replay that matched its recording went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayReport {
    /// Lines read.
    pub lines: usize,
    /// Outputs and written pieces compared, all equal.
    pub compared: usize,
}

/// A recording's header: what a replay's configuration must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingHeader {
    /// The endpoint recorded (no query).
    pub endpoint: String,
    /// The seed to replay with.
    pub seed: u64,
}

/// Reads a recording's header (its first line).
pub fn header(recording: &str) -> Result<RecordingHeader, Divergence> {
    match parse(1, recording.lines().next().unwrap_or(""))? {
        Entry::Header { endpoint, seed, .. } => Ok(RecordingHeader { endpoint, seed }),
        other => Err(bad(1, format!("a header first, not {other:?}"))),
    }
}

/// Replays `recording` (JSON Lines from a
/// [`RecordingSession`](super::RecordingSession)) into a new session of
/// `config` and `adapter`, in virtual time: inputs and commands at their
/// recorded times, outputs and written bytes compared one by one (secrets
/// redacted on both sides, so dummy credentials do). `Ok` when every
/// recorded output and written piece matched; else the first [`Divergence`].
/// `config.seed` must be the recording's ([`header`]); a `wss://`
/// recording cannot be replayed (its bytes are ciphertext).
pub fn replay<A: Adapter>(
    recording: &str,
    config: SessionConfig,
    adapter: A,
) -> Result<ReplayReport, Divergence> {
    let epoch = Instant::now();
    let at = |version: u32, t: u64| epoch + time_since_start(version, t);
    let mut version = FORMAT_VERSION;
    let mut session = Session::new(config, adapter, epoch);
    let mut written: VecDeque<(u64, Piece)> = VecDeque::new();
    let mut outbound = (0, PieceStream::default());
    let mut report = ReplayReport::default();
    for (index, text) in recording.lines().enumerate() {
        let line = index + 1;
        report.lines = line;
        if text.trim().is_empty() {
            continue;
        }
        match parse(line, text)? {
            Entry::Header { tls: true, .. } => {
                return Err(bad(
                    line,
                    "a ws:// recording (wss:// bytes are ciphertext)".into(),
                ));
            }
            Entry::Header { version: v, .. } if v > FORMAT_VERSION => {
                return Err(bad(
                    line,
                    format!("a recording of format {FORMAT_VERSION} or older, not {v}"),
                ));
            }
            Entry::Header { version: v, .. } => version = v,
            Entry::Connected { t, g } => {
                session.handle_input(at(version, t), Input::Connected { generation: g })
            }
            Entry::ConnectFailed { t, g, error } => {
                let input = Input::ConnectFailed {
                    generation: g,
                    error: &error,
                };
                session.handle_input(at(version, t), input);
            }
            Entry::Closed { t, g } => {
                session.handle_input(at(version, t), Input::Closed { generation: g })
            }
            Entry::Failed { t, g, error } => session.handle_input(
                at(version, t),
                Input::Failed {
                    generation: g,
                    error: &error,
                },
            ),
            Entry::In { t, g, piece } => {
                let data = piece.server_bytes();
                session.handle_input(
                    at(version, t),
                    Input::Bytes {
                        generation: g,
                        data: &data,
                    },
                );
            }
            Entry::Timeout { t } => session.handle_timeout(at(version, t)),
            Entry::Command { t, command, result } => {
                let got = apply(&mut session, at(version, t), command);
                let got = got.map_or_else(|e| e.to_string(), |()| "ok".to_owned());
                if got != result {
                    return Err(Divergence {
                        line,
                        expected: result,
                        got,
                    });
                }
            }
            Entry::Out { g, piece } => {
                // Everything the replay has written so far, cut into pieces.
                let pending = session.pending_transmit().to_vec();
                session.advance_transmit(pending.len());
                let generation = session.generation();
                if outbound.0 != generation {
                    outbound = (generation, PieceStream::default());
                }
                written.extend(
                    outbound
                        .1
                        .feed(&pending)
                        .into_iter()
                        .map(|p| (generation, p)),
                );
                let expected = (g, piece);
                match written.pop_front() {
                    Some(got) if got == expected => report.compared += 1,
                    got => {
                        return Err(Divergence {
                            line,
                            expected: format!("written {expected:?}"),
                            got: got.map_or("nothing written".into(), |p| format!("written {p:?}")),
                        });
                    }
                }
            }
            Entry::Output { line: expected } => {
                let got = loop {
                    match session.poll_output() {
                        None => break None,
                        Some(output) => match output_line(&output, epoch) {
                            Some(got) => break Some(got),
                            None => continue, // `Transmit`: compared as pieces
                        },
                    }
                };
                match got {
                    Some(got) if got == expected => report.compared += 1,
                    got => {
                        // What the replay would write next tells why, often.
                        let next = outbound.1.clone().feed(session.pending_transmit());
                        let mut got = got.unwrap_or_else(|| "no output".into());
                        if !next.is_empty() {
                            got = format!("{got}, and would write {next:?}");
                        }
                        return Err(Divergence {
                            line,
                            expected,
                            got,
                        });
                    }
                }
            }
            Entry::InRaw { .. } | Entry::OutRaw { .. } => {
                return Err(bad(line, "whole frames, not raw (TLS) bytes".into()));
            }
        }
    }
    Ok(report)
}

/// Gives the session a recorded command (dummy secrets where redacted).
fn apply<A: Adapter>(
    session: &mut Session<A>,
    now: Instant,
    command: Command,
) -> Result<(), SessionError> {
    match command {
        Command::Connect => session.connect(now),
        Command::SendText { text } => session.send_text(now, &text),
        Command::SendBinary { base64 } => {
            let data = BASE64.decode(base64.as_bytes()).unwrap_or_default();
            session.send_binary(now, &data)
        }
        Command::Request { method, params } => {
            let params = if params == REDACTED {
                "{}".to_owned()
            } else {
                params
            };
            session.request(now, &method, &params).map(|_| ())
        }
        Command::Subscribe { channels } => {
            let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
            session.subscribe(now, &channels)
        }
        Command::Unsubscribe { channels } => {
            let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
            session.unsubscribe(now, &channels)
        }
        Command::Authenticate { client_id } => {
            session.authenticate(now, Credentials::new(client_id, REDACTED))
        }
        Command::Ping => session.ping(now),
        Command::Close { code, reason } => session.close(now, CloseCode::from(code), &reason),
        Command::UnixTime { ms } => {
            session.set_unix_time(now, ms);
            Ok(())
        }
        Command::ReadingPaused { paused } => {
            session.set_reading_paused(now, paused);
            Ok(())
        }
        Command::Heartbeat {
            ping_interval_us,
            pong_timeout_us,
            idle_timeout_us,
        } => session.set_heartbeat(
            now,
            HeartbeatConfig {
                ping_interval: ping_interval_us.map(Duration::from_micros),
                pong_timeout: Duration::from_micros(pong_timeout_us),
                idle_timeout: idle_timeout_us.map(Duration::from_micros),
            },
        ),
        Command::RateLimits {
            adapter_defaults,
            overrides,
        } => {
            let limits = super::limits::restore(session.adapter(), adapter_defaults, &overrides)?;
            session.set_rate_limits(now, limits)
        }
    }
}

fn parse(line: usize, text: &str) -> Result<Entry, Divergence> {
    serde_json::from_str(text).map_err(|e| bad(line, format!("a recording line ({e})")))
}

fn bad(line: usize, expected: String) -> Divergence {
    Divergence {
        line,
        expected,
        got: "something else".into(),
    }
}
