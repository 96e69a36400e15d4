//! Tests written for mutants that the wire's own tests missed (issue #19,
//! `docs/testing.md`, "Mutation testing"). Each asserts RFC 6455 / RFC 7692
//! behaviour or the documented API with literal expectations.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tungstenite::handshake::derive_accept_key;
use wsnova_core::wire::{CloseCode, Message, PerMessageDeflate, Wire, WireConfig, WireEvent};

/// A wire to `ws://localhost/` after its `101`, with the request taken.
fn open_wire() -> Wire {
    open_wire_with("")
}

/// [`open_wire`] with `extra` header lines in the `101`.
fn open_wire_with(extra: &str) -> Wire {
    let config = Arc::new(WireConfig::new("ws://localhost/").unwrap());
    let mut wire = Wire::new(config, &mut StdRng::seed_from_u64(7)).unwrap();
    let request = String::from_utf8(wire.pending_transmit().to_vec()).unwrap();
    wire.advance_transmit(request.len());
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        derive_accept_key(key.as_bytes())
    );
    wire.handle_bytes(response.as_bytes());
    assert!(matches!(
        wire.poll_event(),
        Ok(Some(WireEvent::Open { .. }))
    ));
    wire
}

#[test]
fn a_violation_is_pending_only_between_the_bad_frame_and_fail_deferred() {
    let mut wire = open_wire();
    wire.set_linger(true);
    assert!(!wire.violation_pending(), "nothing wrong yet");
    assert!(wire.fail_deferred().is_none());
    // A text frame with RSV1 set and no extension agreed (RFC 6455 §5.2).
    wire.handle_bytes(&[0xC1, 0x03, b'b', b'a', b'd']);
    assert!(matches!(wire.poll_event(), Ok(None)));
    assert!(wire.violation_pending());
    let err = wire.fail_deferred().expect("the deferred violation");
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    assert!(!wire.violation_pending(), "failed, no longer pending");
    assert!(wire.fail_deferred().is_none());
}

#[test]
fn an_agreed_permessage_deflate_inflates_the_servers_messages() {
    let mut wire = open_wire_with("Sec-WebSocket-Extensions: permessage-deflate\r\n");
    assert_eq!(wire.compression(), Some(&PerMessageDeflate::default()));
    // RFC 7692 §7.2.3.1: "Hello" compressed, in one frame with RSV1 set.
    wire.handle_bytes(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    assert_eq!(
        wire.poll_event().unwrap(),
        Some(WireEvent::Message(Message::text("Hello")))
    );
}

#[test]
fn nothing_to_transmit_once_everything_is_written() {
    let mut wire = open_wire();
    assert!(!wire.may_transmit(), "the request was taken, nothing else");
    wire.send_text("hi").unwrap();
    assert!(wire.may_transmit());
    assert_eq!(wire.pending_len(), 8); // 2-byte header, 4-byte mask, "hi"
    let n = wire.pending_transmit().len();
    wire.advance_transmit(n);
    assert_eq!(wire.pending_len(), 0);
    assert!(!wire.may_transmit());
}

#[test]
fn buffered_bytes_count_every_buffer_held() {
    let mut wire = open_wire_with("Sec-WebSocket-Extensions: permessage-deflate\r\n");
    // Queued for the socket: a 40,000-byte binary message of bytes that do
    // not compress (random bytes).
    let mut noise = vec![0; 40_000];
    StdRng::seed_from_u64(1).fill_bytes(&mut noise);
    wire.send_binary(&noise).unwrap();
    let queued = wire.pending_len();
    assert!(queued > 39_000, "{queued}");
    // Received: a first fragment of 5,000 bytes (FIN clear, binary), held
    // until the message ends (RFC 6455 §5.4)…
    wire.handle_bytes(&[0x02, 0x7e, 0x13, 0x88]);
    wire.handle_bytes(&[5; 5_000]);
    assert!(matches!(wire.poll_event(), Ok(None)));
    // …and the first 30,000 of a 60,000-byte continuation frame
    // (FIN, continuation, 64-bit length; RFC 6455 §5.2).
    let mut head = vec![0x80, 127];
    head.extend_from_slice(&60_000u64.to_be_bytes());
    wire.handle_bytes(&head);
    wire.handle_bytes(&[7; 30_000]);
    assert!(matches!(wire.poll_event(), Ok(None)));
    let held = wire.buffered_bytes();
    assert!(held >= queued + 35_000, "{held}");
    assert!(held <= 4 * (queued + 35_000 + 64 * 1024), "{held}");
}

#[test]
fn bytes_after_a_violation_or_a_failure_are_dropped() {
    let mut wire = open_wire();
    wire.set_linger(true);
    // A text frame with RSV1 set and no extension agreed (RFC 6455 §5.2).
    wire.handle_bytes(&[0xC1, 0x03, b'b', b'a', b'd']);
    assert!(matches!(wire.poll_event(), Ok(None)));
    assert!(wire.violation_pending());
    let held = wire.buffered_bytes();
    wire.handle_bytes(&[0x81, 0x7e, 0x27, 0x10]); // a 10,000-byte text frame…
    wire.handle_bytes(&[b'x'; 10_000]);
    assert_eq!(
        wire.buffered_bytes(),
        held,
        "dropped while the violation waits"
    );
    assert!(wire.fail_deferred().is_some());
    let held = wire.buffered_bytes();
    wire.handle_bytes(&[0x81, 0x7e, 0x27, 0x10]);
    wire.handle_bytes(&[b'x'; 10_000]);
    assert_eq!(wire.buffered_bytes(), held, "dropped once failed");
}
