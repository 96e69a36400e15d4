//! A recording that is broken, foreign or from `wss://` is refused with the
//! line and what was expected there — never a panic, never a silent `Ok`.

use wsnova_core::record::{Divergence, header, replay};
use wsnova_core::session::{Plain, SessionConfig};

const HEADER: &str =
    r#"{"kind":"header","version":1,"endpoint":"ws://127.0.0.1:9001/","seed":7,"tls":false}"#;

fn run(recording: &str) -> Result<usize, Divergence> {
    let mut config = SessionConfig::new("ws://127.0.0.1:9001/").expect("a valid URL");
    config.seed = 7;
    replay(recording, config, Plain).map(|report| report.compared)
}

#[test]
fn the_header_must_come_first() {
    let err = header("").expect_err("an empty recording");
    assert_eq!(err.line, 1);
    assert!(err.expected.starts_with("a recording line ("), "{err}");
    let err = header(r#"{"kind":"timeout","t":5}"#).expect_err("no header");
    assert_eq!(err.line, 1);
    assert!(
        err.expected.starts_with("a header first, not Timeout"),
        "{err}"
    );
    let read = header(HEADER).expect("a header");
    assert_eq!(
        (read.endpoint.as_str(), read.seed),
        ("ws://127.0.0.1:9001/", 7)
    );
}

#[test]
fn a_line_that_is_not_an_entry_names_its_line() {
    let recording = format!("{HEADER}\n{{\"kind\":\"timeout\",\"t\":1}}\nnot json at all\n");
    let err = run(&recording).expect_err("garbage on line 3");
    assert_eq!(err.line, 3);
    assert!(err.expected.starts_with("a recording line ("), "{err}");
    assert_eq!(err.got, "something else");
    let unknown = format!("{HEADER}\n{{\"kind\":\"teleport\",\"t\":1}}\n");
    assert_eq!(run(&unknown).expect_err("an unknown kind").line, 2);
}

#[test]
fn tls_recordings_and_raw_bytes_cannot_be_replayed() {
    let tls = HEADER.replace("\"tls\":false", "\"tls\":true");
    let err = run(&tls).expect_err("ciphertext");
    assert_eq!(
        (err.line, err.expected.as_str()),
        (1, "a ws:// recording (wss:// bytes are ciphertext)")
    );
    let raw = format!("{HEADER}\n{{\"kind\":\"in_raw\",\"t\":1,\"g\":1,\"len\":40}}\n");
    let err = run(&raw).expect_err("raw bytes");
    assert_eq!(
        (err.line, err.expected.as_str()),
        (2, "whole frames, not raw (TLS) bytes")
    );
}

#[test]
fn a_different_result_or_a_missing_output_is_a_divergence() {
    let command = format!(
        "{HEADER}\n{{\"kind\":\"command\",\"t\":0,\"op\":\"connect\",\"result\":\"refused\"}}\n"
    );
    let err = run(&command).expect_err("connect succeeds in the replay");
    assert_eq!(
        (err.line, err.expected.as_str(), err.got.as_str()),
        (2, "refused", "ok")
    );
    let output = format!("{HEADER}\n{{\"kind\":\"output\",\"line\":\"ready\"}}\n");
    let err = run(&output).expect_err("nothing happened, so no output");
    assert_eq!((err.line, err.expected.as_str()), (2, "ready"));
    assert!(err.got.starts_with("no output"), "{err}");
    // The header alone replays: nothing to compare.
    assert_eq!(run(HEADER), Ok(0));
}

#[test]
fn a_recording_of_a_newer_format_is_refused() {
    let newer = HEADER.replace("\"version\":1", "\"version\":3");
    let err = run(&newer).expect_err("a format from the future");
    assert_eq!(
        (err.line, err.expected.as_str()),
        (1, "a recording of format 2 or older, not 3")
    );
}
