//! What the fuzz targets share: a wire in a known state, and the input split
//! into the chunks a socket might deliver. It lives in the test kit so the
//! seed corpora (`fuzz/seeds/`) are checked by an ordinary test
//! (`tests/tests/fuzz_seeds.rs`) as well as fuzzed.

use std::sync::Arc;

use rand::SeedableRng;
use wsnova_core::wire::{Limits, Wire, WireConfig, WireEvent};

/// A fresh wire for `ws://fuzz.test/` whose upgrade request was written, and its key.
pub fn new_wire() -> (Wire, String) {
    let limits = Limits {
        max_frame_size: 1 << 16,
        max_message_size: 1 << 17,
    };
    let config = Arc::new(WireConfig::new("ws://fuzz.test/").unwrap().limits(limits));
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut wire = Wire::new(config, &mut rng).unwrap();
    let request = String::from_utf8(wire.pending_transmit().to_vec()).unwrap();
    let n = request.len();
    wire.advance_transmit(n);
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .to_owned();
    (wire, key)
}

/// A wire past a valid `101`, ready for frames.
pub fn open_wire() -> Wire {
    let (mut wire, key) = new_wire();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        tungstenite::handshake::derive_accept_key(key.as_bytes())
    );
    wire.handle_bytes(response.as_bytes());
    assert!(matches!(
        wire.poll_event(),
        Ok(Some(WireEvent::Open { .. }))
    ));
    wire
}

/// Feeds `data` in chunks whose sizes come from the first byte, draining
/// events and output after each; replies to messages to exercise sending.
/// Returns whether the wire ended with an error.
pub fn pump(wire: &mut Wire, data: &[u8]) -> bool {
    let Some((&chunk_seed, mut rest)) = data.split_first() else {
        return false;
    };
    let chunk = usize::from(chunk_seed % 64) + 1;
    while !rest.is_empty() {
        let (now, later) = rest.split_at(chunk.min(rest.len()));
        wire.handle_bytes(now);
        rest = later;
        loop {
            match wire.poll_event() {
                Ok(Some(WireEvent::Message(m))) => {
                    let _ = wire.send_binary(m.as_bytes());
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return true,
            }
        }
        let n = wire.pending_transmit().len();
        wire.advance_transmit(n);
    }
    wire.handle_eof();
    while let Ok(Some(_)) = wire.poll_event() {}
    false
}
