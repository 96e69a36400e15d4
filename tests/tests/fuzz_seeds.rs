//! The fuzz targets' seed corpora (`fuzz/seeds/`, written by
//! `fuzz/make_seeds.py`) do what they are there for: the handshake seeds
//! reach the `Sec-WebSocket-Accept` check and, with the right key, the open
//! connection behind it (RFC 6455 §4.2.2), so fuzzing starts from there
//! rather than hoping to guess a SHA-1.

use std::path::PathBuf;

use wsnova_core::wire::{WireError, WireEvent};
use wsnova_tests::fuzz_kit::{new_wire, open_wire, pump};

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// The first event (or error) the wire reports after the seed's response.
fn first_outcome(seed: &[u8]) -> Result<WireEvent, WireError> {
    let (mut wire, _key) = new_wire();
    wire.handle_bytes(&seed[1..]); // byte 0 is `pump`'s chunk-size seed
    let mut at_eof = false;
    loop {
        match wire.poll_event() {
            Ok(Some(event)) => return Ok(event),
            // A refusal may only be complete when the server closes.
            Ok(None) if !at_eof => {
                wire.handle_eof();
                at_eof = true;
            }
            Ok(None) => panic!("the seed ends before the handshake does"),
            Err(error) => return Err(error),
        }
    }
}

#[test]
fn handshake_seeds_reach_the_accept_check_and_the_open_connection() {
    let seeds = seeds("handshake_response");
    let mut opened = 0;
    for (name, seed) in &seeds {
        let outcome = first_outcome(seed);
        match name.as_str() {
            n if n.starts_with("open") => {
                assert!(
                    matches!(outcome, Ok(WireEvent::Open { .. })),
                    "{n}: {outcome:?}"
                );
                opened += 1;
            }
            "wrong_accept" => {
                let error = outcome.expect_err("a wrong accept key is refused");
                assert!(
                    error.to_string().contains("Sec-WebSocket-Accept"),
                    "{error}"
                );
            }
            n => assert!(outcome.is_err(), "{n}: {outcome:?}"),
        }
        // And the target's own path runs the seed to the end.
        let (mut wire, _key) = new_wire();
        pump(&mut wire, seed);
    }
    assert!(opened >= 4, "only {opened} seeds open the connection");
}

#[test]
fn frame_seeds_decode_after_the_upgrade() {
    let mut messages = 0;
    for (name, seed) in seeds("wire_frames") {
        let mut wire = open_wire();
        wire.handle_bytes(&seed[1..]);
        while let Ok(Some(event)) = wire.poll_event() {
            messages += usize::from(matches!(event, WireEvent::Message(_)));
        }
        let mut wire = open_wire();
        pump(&mut wire, &seed);
        assert!(wire.buffered_bytes() < 4 << 20, "{name}");
    }
    assert!(messages >= 6, "the frame seeds carry messages: {messages}");
}
