//! A session recorded in memory (no socket) replays with every output and
//! written piece compared; a recording changed in one place is refused at
//! that line, with what was expected and what the replay did.

use std::time::{Duration, Instant};

use tungstenite::handshake::derive_accept_key;
use wsnova_core::record::{RecordingSession, replay};
use wsnova_core::session::{Input, Output, Plain, SessionConfig};

fn config() -> SessionConfig {
    let mut config = SessionConfig::new("ws://127.0.0.1:9001/").expect("a valid URL");
    config.seed = 7;
    // A ping a second: a timer whose effect (a ping frame) is recorded.
    config.heartbeat.ping_interval = Some(Duration::from_secs(1));
    config
}

/// Connects, upgrades, sends "hello" and two requests, receives "world",
/// lets the first ping
/// go, loses the socket and connects again: the recording's JSON Lines.
fn record() -> String {
    let t0 = Instant::now();
    let mut s = RecordingSession::new(config(), Plain, t0, Vec::new());
    let drain = |s: &mut RecordingSession<Plain, Vec<u8>>| {
        while let Some(output) = s.poll_output() {
            if let Output::Transmit { .. } = output {
                let n = s.pending_transmit().len();
                s.advance_transmit(n);
            }
        }
    };
    s.connect(t0).unwrap();
    drain(&mut s);
    let t1 = t0 + Duration::from_millis(1);
    s.handle_input(t1, Input::Connected { generation: 1 });
    let request = String::from_utf8(s.pending_transmit().to_vec()).unwrap();
    drain(&mut s);
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    let t2 = t0 + Duration::from_millis(2);
    s.handle_input(
        t2,
        Input::Bytes {
            generation: 1,
            data: reply.as_bytes(),
        },
    );
    drain(&mut s);
    s.send_text(t2, "hello").unwrap();
    // A request with params (replayed as recorded) and an auth request,
    // whose params are redacted (replayed with dummy ones).
    s.request(t2, "public/get_time", r#"{"x":1}"#).unwrap();
    s.request(t2, "public/auth", r#"{"client_secret":"s3cret"}"#)
        .unwrap();
    drain(&mut s);
    let t3 = t0 + Duration::from_millis(3);
    s.handle_input(
        t3,
        Input::Bytes {
            generation: 1,
            data: &[0x81, 5, b'w', b'o', b'r', b'l', b'd'],
        },
    );
    drain(&mut s);
    // The next timer (the first ping) fires.
    let due = s.poll_timeout().expect("a timer");
    s.handle_timeout(due);
    drain(&mut s);
    s.handle_input(
        due + Duration::from_secs(1),
        Input::Closed { generation: 1 },
    );
    drain(&mut s);
    // After the backoff, a second connection, whose upgrade request starts
    // a new stream of written pieces.
    let backoff = s.poll_timeout().expect("a reconnect");
    s.handle_timeout(backoff);
    drain(&mut s);
    assert_eq!(s.generation(), 2);
    s.handle_input(backoff, Input::Connected { generation: 2 });
    drain(&mut s);
    String::from_utf8(s.finish().unwrap()).unwrap()
}

fn kinds(recording: &str) -> Vec<String> {
    recording
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["kind"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn an_in_memory_recording_replays_with_every_output_compared() {
    let recording = record();
    let kinds = kinds(&recording);
    let compared = kinds
        .iter()
        .filter(|k| *k == "out" || *k == "output")
        .count();
    assert!(compared >= 8, "{recording}");
    assert!(!recording.contains("s3cret"));
    assert!(kinds.iter().any(|k| k == "command") && kinds.iter().any(|k| k == "timeout"));
    let report = replay(&recording, config(), Plain).expect("no divergence");
    assert_eq!(report.lines, kinds.len());
    assert_eq!(report.compared, compared);
}

/// The recording with its `n`th line of `kind` changed by `change`.
fn changed(recording: &str, kind: &str, change: impl Fn(&str) -> String) -> (String, usize) {
    let mut at = 0;
    let lines: Vec<String> = recording
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if at == 0 && l.contains(&format!("\"kind\":\"{kind}\"")) && l != change(l) {
                at = i + 1;
                change(l)
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert_ne!(at, 0, "nothing to change in {recording}");
    (lines.join("\n") + "\n", at)
}

#[test]
fn a_changed_output_is_reported_at_its_line() {
    let (recording, line) = changed(&record(), "output", |l| {
        l.replace("message text world", "message text w0rld")
    });
    let err = replay(&recording, config(), Plain).expect_err("a divergence");
    assert_eq!(err.line, line);
    assert_eq!(err.expected, "message text w0rld");
    assert_eq!(err.got, "message text world");
}

#[test]
fn a_changed_written_piece_is_reported_at_its_line() {
    let (recording, line) = changed(&record(), "out", |l| l.replace("\"hello\"", "\"hullo\""));
    let err = replay(&recording, config(), Plain).expect_err("a divergence");
    assert_eq!(err.line, line);
    assert!(err.expected.contains("hullo"), "{err}");
    assert!(err.got.contains("hello"), "{err}");
}

#[test]
fn a_changed_command_result_is_reported_at_its_line() {
    let (recording, line) = changed(&record(), "command", |l| {
        l.replace("\"result\":\"ok\"", "\"result\":\"refused\"")
    });
    let err = replay(&recording, config(), Plain).expect_err("a divergence");
    assert_eq!(
        (err.line, err.expected.as_str(), err.got.as_str()),
        (line, "refused", "ok")
    );
}
