//! permessage-deflate on the wire (RFC 7692), against the scripted server of
//! `wsnova_tests::deflate_peer`: round trips with and without context
//! takeover under any fragmentation and chunking, the frame rules of §6,
//! limits after inflation, UTF-8 on inflated bytes.

use proptest::prelude::*;
use wsnova_core::wire::{
    CloseCode, DeflateConfig, Limits, Message, Wire, WireConfig, WireError, WireEvent, WireState,
};
use wsnova_tests::deflate_peer::{
    DeflatePeer, deflate_once, fragments, open_wire, server_frame, try_open_wire,
};

fn config() -> WireConfig {
    WireConfig::new("ws://localhost/").unwrap()
}

/// Every message the wire delivers from `bytes`, fed in `chunk`-byte reads.
fn receive(wire: &mut Wire, bytes: &[u8], chunk: usize) -> Result<Vec<Message>, WireError> {
    let mut messages = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        wire.handle_bytes(piece);
        while let Some(event) = wire.poll_event()? {
            if let WireEvent::Message(m) = event {
                messages.push(m);
            }
        }
    }
    Ok(messages)
}

/// The wire's error for `bytes` and the close code it queued for the server.
fn fail_with(wire: &mut Wire, bytes: &[u8]) -> (WireError, Option<u16>) {
    let err = receive(wire, bytes, usize::MAX).unwrap_err();
    assert_eq!(wire.state(), WireState::Failed);
    let sent = DeflatePeer::new(15, false).read_client(wire.pending_transmit());
    let close = sent
        .iter()
        .find(|(_, op, _)| *op == 0x8)
        .map(|(_, _, p)| u16::from_be_bytes([p[0], p[1]]));
    (err, close)
}

#[test]
fn negotiation_is_reported_and_refusals_fail_the_upgrade() {
    let wire = open_wire(
        config(),
        Some("permessage-deflate; client_no_context_takeover"),
        1,
    );
    let agreed = wire.compression().unwrap();
    assert!(agreed.client_no_context_takeover);
    assert_eq!(open_wire(config(), None, 1).compression(), None);
    let err = try_open_wire(
        config(),
        Some("permessage-deflate; server_max_window_bits=16"),
        1,
    )
    .unwrap_err();
    assert!(matches!(err, WireError::InvalidHandshake(_)), "{err}");
    assert_eq!(
        err.to_string(),
        r#"invalid upgrade response: permessage-deflate: server_max_window_bits="16" is not a window size from 8 to 15"#
    );
    let off = config().deflate(DeflateConfig::disabled()).unwrap();
    assert!(try_open_wire(off, Some("permessage-deflate"), 1).is_err());
}

#[test]
fn rsv1_without_negotiation_is_a_protocol_error() {
    let mut wire = open_wire(config(), None, 2);
    let frame = fragments(true, true, &deflate_once(b"hello"), 100);
    let (err, close) = fail_with(&mut wire, &frame);
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    assert_eq!(close, Some(1002));
}

#[test]
fn rsv1_on_a_continuation_or_control_frame_is_a_protocol_error() {
    let cases = [
        // RSV1 on the second fragment (RFC 7692 §6.1).
        [server_frame(0x41, b"ab"), server_frame(0xC0, b"cd")].concat(),
        // A "compressed" ping and close (§6.1: control frames never are).
        server_frame(0xC9, b""),
        server_frame(0xC8, &[0x03, 0xe8]),
        // RSV2 and RSV3 stay reserved.
        server_frame(0xA1, b"x"),
        server_frame(0x91, b"x"),
    ];
    for bytes in cases {
        let mut wire = open_wire(config(), Some("permessage-deflate"), 3);
        let (err, close) = fail_with(&mut wire, &bytes);
        assert!(matches!(err, WireError::Protocol(_)), "{bytes:02x?}: {err}");
        assert_eq!(close, Some(1002));
    }
}

#[test]
fn uncompressed_messages_still_flow_after_negotiation() {
    let mut wire = open_wire(config(), Some("permessage-deflate"), 4);
    let mut server = DeflatePeer::new(15, false);
    let bytes = [
        server_frame(0x81, b"plain"),
        server.message(true, b"squeezed", usize::MAX),
        fragments(false, false, b"plain binary", 5),
    ]
    .concat();
    let got = receive(&mut wire, &bytes, 7).unwrap();
    assert_eq!(
        got,
        [
            Message::text("plain"),
            Message::text("squeezed"),
            Message::binary(&b"plain binary"[..])
        ]
    );
}

#[test]
fn the_size_limit_applies_to_the_inflated_message() {
    let limits = Limits {
        max_frame_size: 1 << 20,
        max_message_size: 10_000,
    };
    let mut wire = open_wire(config().limits(limits), Some("permessage-deflate"), 5);
    let mut server = DeflatePeer::new(15, true);
    let exact = receive(&mut wire, &server.message(false, &[7; 10_000], 100), 64).unwrap();
    assert_eq!(exact, [Message::binary(vec![7u8; 10_000])]);
    let over = server.message(false, &[7; 10_001], 100);
    assert!(over.len() < 200, "small on the wire: {}", over.len());
    let (err, close) = fail_with(&mut wire, &over);
    assert!(
        matches!(err, WireError::MessageTooLarge { limit: 10_000, .. }),
        "{err}"
    );
    assert_eq!(close, Some(1009));
}

#[test]
fn a_deflate_bomb_gets_1009_and_memory_stays_within_the_limit() {
    let limit = 1 << 20;
    let limits = Limits {
        max_frame_size: 1 << 20,
        max_message_size: limit,
    };
    let bomb = deflate_once(&vec![0u8; 256 << 20]); // 256 MiB of zeros, ~250 KiB
    let mut wire = open_wire(config().limits(limits), Some("permessage-deflate"), 6);
    // In 16 KiB frames, read 4 KiB at a time: the peak is what the wire holds.
    let frames = fragments(false, true, &bomb, 16 << 10);
    let mut peak = 0;
    let mut result = Ok(());
    for piece in frames.chunks(4096) {
        wire.handle_bytes(piece);
        peak = peak.max(wire.buffered_bytes());
        match wire.poll_event() {
            Ok(_) => peak = peak.max(wire.buffered_bytes()),
            Err(err) => {
                result = Err(err);
                break;
            }
        }
    }
    let err = result.unwrap_err();
    assert!(matches!(err, WireError::MessageTooLarge { .. }), "{err}");
    assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    assert!(
        peak <= limit + (64 << 10),
        "peak {peak} bytes for a {limit}-byte limit"
    );
}

#[test]
fn utf8_is_checked_on_the_inflated_bytes_and_fails_fast() {
    let mut wire = open_wire(config(), Some("permessage-deflate"), 7);
    let mut server = DeflatePeer::new(15, false);
    let (err, close) = fail_with(&mut wire, &server.message(true, b"ok \xff\xfe", usize::MAX));
    assert_eq!(err, WireError::InvalidUtf8);
    assert_eq!(close, Some(1007));
    // The first fragment already inflates to invalid UTF-8: no need for the rest.
    let mut wire = open_wire(config(), Some("permessage-deflate"), 8);
    let mut server = DeflatePeer::new(15, false);
    let mut payload = b"bad \xc0\xaf start ".to_vec();
    payload.extend(std::iter::repeat_n(b'x', 5000));
    let compressed = server.compress(&payload);
    // All but the last bytes, in a first (non-final) frame.
    let first = server_frame(0x41, &compressed[..compressed.len() - 5]);
    let (err, _) = fail_with(&mut wire, &first);
    assert_eq!(err, WireError::InvalidUtf8);
    // A character split across fragments of the inflated stream is fine.
    let mut wire = open_wire(config(), Some("permessage-deflate"), 9);
    let text = "€uro ".repeat(300);
    let got = receive(&mut wire, &server.message(true, text.as_bytes(), 3), 1).unwrap();
    assert_eq!(got, [Message::text(text)]);
}

#[test]
fn small_messages_go_out_uncompressed_and_control_frames_never_compressed() {
    let mut wire = open_wire(config(), Some("permessage-deflate"), 10);
    wire.send_text("tiny").unwrap();
    wire.send_text(&"t".repeat(1023)).unwrap();
    wire.send_binary(&[1u8; 1024]).unwrap();
    wire.ping(&[b'p'; 100]).unwrap();
    wire.close(CloseCode::NORMAL, &"r".repeat(100)).unwrap();
    let sent = DeflatePeer::new(15, false).read_client(wire.pending_transmit());
    let shape: Vec<_> = sent.iter().map(|(c, op, p)| (*c, *op, p.len())).collect();
    assert_eq!(
        shape,
        [
            (false, 0x1, 4),
            (false, 0x1, 1023),
            (true, 0x2, 1024),
            (false, 0x9, 100),
            (false, 0x8, 102)
        ]
    );
}

#[test]
fn a_server_demanding_window_bits_8_gets_uncompressed_messages() {
    let mut wire = open_wire(
        config(),
        Some("permessage-deflate; client_max_window_bits=8"),
        11,
    );
    let long = "x".repeat(5000);
    wire.send_text(&long).unwrap();
    let sent = DeflatePeer::new(15, false).read_client(wire.pending_transmit());
    assert_eq!(sent, [(false, 0x1, long.into_bytes())]);
    // ... while it may compress with 8 bits itself (we inflate with 9).
    let mut server = DeflatePeer::new(9, false);
    let got = receive(&mut wire, &server.message(true, b"abcabcabcabc", 4), 3).unwrap();
    assert_eq!(got, [Message::text("abcabcabcabc")]);
}

/// A message for the round-trip properties: JSON-like text or bytes.
fn message() -> impl Strategy<Value = (bool, Vec<u8>)> {
    prop_oneof![
        "[a-z{}\":,0-9 .€]{0,3000}".prop_map(|s| (true, s.into_bytes())),
        proptest::collection::vec(any::<u8>(), 0..2000).prop_map(|b| (false, b)),
        (0usize..40_000).prop_map(|n| (false, vec![b'z'; n])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_fragmentation_and_chunking_delivers_the_same_payloads(
        messages in proptest::collection::vec(message(), 1..10),
        no_context in any::<bool>(),
        bits in 9u8..=15,
        fragment in 1usize..3000,
        chunk in 1usize..5000,
        seed in any::<u64>(),
    ) {
        let extension = format!(
            "permessage-deflate; server_max_window_bits={bits}{}",
            if no_context { "; server_no_context_takeover" } else { "" }
        );
        let mut wire = open_wire(config(), Some(&extension), seed);
        let mut server = DeflatePeer::new(bits, no_context);
        let bytes: Vec<u8> = messages
            .iter()
            .flat_map(|(text, data)| server.message(*text, data, fragment))
            .collect();
        let got = receive(&mut wire, &bytes, chunk).unwrap();
        let expected: Vec<Message> = messages
            .iter()
            .map(|(text, data)| match text {
                true => Message::text(String::from_utf8(data.clone()).unwrap()),
                false => Message::binary(data.clone()),
            })
            .collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn what_the_client_sends_inflates_to_what_it_was_given(
        messages in proptest::collection::vec(message(), 1..10),
        no_context in any::<bool>(),
        bits in 9u8..=15,
        threshold in 0usize..100,
    ) {
        let extension = format!(
            "permessage-deflate; client_max_window_bits={bits}{}",
            if no_context { "; client_no_context_takeover" } else { "" }
        );
        let deflate = DeflateConfig { min_compress_size: threshold, ..DeflateConfig::default() };
        let mut wire = open_wire(config().deflate(deflate).unwrap(), Some(&extension), 12);
        for (text, data) in &messages {
            if *text {
                wire.send_text(std::str::from_utf8(data).unwrap()).unwrap();
            } else {
                wire.send_binary(data).unwrap();
            }
        }
        let sent = DeflatePeer::new(bits, no_context).read_client(wire.pending_transmit());
        prop_assert_eq!(sent.len(), messages.len());
        for ((compressed, opcode, payload), (text, data)) in sent.iter().zip(&messages) {
            prop_assert_eq!(*compressed, data.len() >= threshold);
            prop_assert_eq!(*opcode, if *text { 0x1 } else { 0x2 });
            prop_assert_eq!(payload, data);
        }
    }
}
