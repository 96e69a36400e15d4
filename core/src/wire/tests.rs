//! Behaviour of a whole [`Wire`] against hand-built server bytes.

use std::io::Cursor;

use proptest::prelude::*;
use rand::SeedableRng;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::FrameHeader;

use super::*;

fn new_wire(url: &str, seed: u64) -> (Wire, String) {
    let config = Arc::new(WireConfig::new(url).unwrap());
    let mut rng = StdRng::seed_from_u64(seed);
    let mut wire = Wire::new(config, &mut rng).unwrap();
    let request = String::from_utf8(take(&mut wire)).unwrap();
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .to_owned();
    (wire, key)
}

fn take(wire: &mut Wire) -> Vec<u8> {
    let bytes = wire.pending_transmit().to_vec();
    wire.advance_transmit(bytes.len());
    bytes
}

fn upgrade_response(key: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
    .into_bytes()
}

fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut out = vec![first, payload.len() as u8];
    out.extend_from_slice(payload);
    out
}

/// Decodes the masked frames a client wrote: (opcode byte with FIN, unmasked payload).
fn client_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let mut cursor = Cursor::new(bytes);
        let (header, len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
        let start = cursor.position() as usize;
        let mut payload = bytes[start..start + len as usize].to_vec();
        encode::apply_mask(&mut payload, header.mask.expect("client frames are masked"));
        frames.push((bytes[0], payload));
        bytes = &bytes[start + len as usize..];
    }
    frames
}

fn drain(wire: &mut Wire) -> Result<Vec<WireEvent>, WireError> {
    let mut events = Vec::new();
    while let Some(event) = wire.poll_event()? {
        events.push(event);
    }
    Ok(events)
}

fn open_wire() -> Wire {
    let (mut wire, key) = new_wire("ws://localhost/", 1);
    wire.handle_bytes(&upgrade_response(&key));
    assert!(matches!(
        drain(&mut wire).unwrap()[..],
        [WireEvent::Open { .. }]
    ));
    wire
}

#[test]
fn frames_in_the_same_read_as_the_101_are_not_lost() {
    let (mut wire, key) = new_wire("ws://localhost/", 1);
    let mut bytes = upgrade_response(&key);
    bytes.extend(server_frame(0x81, b"first"));
    wire.handle_bytes(&bytes);
    assert_eq!(
        drain(&mut wire).unwrap(),
        [
            WireEvent::Open { subprotocol: None },
            WireEvent::Message(Message::text("first"))
        ]
    );
}

#[test]
fn nothing_can_be_sent_before_the_upgrade() {
    let (mut wire, _) = new_wire("ws://localhost/", 1);
    assert!(matches!(
        wire.send_text("early"),
        Err(WireError::NotOpen(_))
    ));
    assert_eq!(wire.state(), WireState::Handshaking);
}

#[test]
fn messages_are_masked_batched_and_survive_partial_writes() {
    let mut wire = open_wire();
    wire.send_text("one").unwrap();
    wire.send_binary(&[1, 2, 3]).unwrap();
    wire.ping(b"p").unwrap();
    let all = wire.pending_transmit().to_vec();
    wire.advance_transmit(3);
    assert_eq!(wire.pending_transmit(), &all[3..]);
    wire.advance_transmit(all.len() - 3);
    assert!(wire.pending_transmit().is_empty());
    assert_eq!(
        client_frames(&all),
        [
            (0x81, b"one".to_vec()),
            (0x82, vec![1, 2, 3]),
            (0x89, b"p".to_vec())
        ]
    );
}

#[test]
fn a_ping_is_answered_with_a_pong_carrying_its_payload() {
    let mut wire = open_wire();
    wire.handle_bytes(&server_frame(0x89, b"tick"));
    assert_eq!(drain(&mut wire).unwrap(), [WireEvent::Ping("tick".into())]);
    assert_eq!(client_frames(&take(&mut wire)), [(0x8A, b"tick".to_vec())]);
}

#[test]
fn a_ping_flood_leaves_a_bounded_number_of_pongs_then_the_latest() {
    let mut wire = open_wire();
    // The socket takes nothing: the first pongs stay unsent.
    for n in 0..10_000u32 {
        wire.handle_bytes(&server_frame(0x89, &n.to_be_bytes()));
        drain(&mut wire).unwrap();
    }
    // MAX_UNSENT_PONGS framed (6 + 4 bytes each), the latest ping's waiting.
    assert_eq!(wire.pending_len(), MAX_UNSENT_PONGS * 10);
    let first: Vec<(u8, Vec<u8>)> = (0..MAX_UNSENT_PONGS as u32)
        .map(|n| (0x8A, n.to_be_bytes().to_vec()))
        .collect();
    assert_eq!(client_frames(&take(&mut wire)), first);
    // Once they left, the waiting one goes: the most recent ping's (§5.5.3).
    assert_eq!(
        client_frames(&take(&mut wire)),
        [(0x8A, 9_999u32.to_be_bytes().to_vec())]
    );
    assert!(take(&mut wire).is_empty());
    // Many pings in one read: 16 pongs, then the latest.
    for n in 0..40u32 {
        wire.handle_bytes(&server_frame(0x89, &n.to_be_bytes()));
    }
    drain(&mut wire).unwrap();
    assert_eq!(client_frames(&take(&mut wire)).len(), MAX_UNSENT_PONGS);
    assert_eq!(
        client_frames(&take(&mut wire)),
        [(0x8A, 39u32.to_be_bytes().to_vec())]
    );
    // A socket that takes what it is given gets a pong for every ping.
    for n in 0..40u32 {
        wire.handle_bytes(&server_frame(0x89, &n.to_be_bytes()));
        drain(&mut wire).unwrap();
        assert_eq!(
            client_frames(&take(&mut wire)),
            [(0x8A, n.to_be_bytes().to_vec())]
        );
    }
    // A close right after a ping carries the pong before it, none after.
    wire.handle_bytes(&server_frame(0x89, b"last"));
    wire.handle_bytes(&server_frame(0x88, &1000u16.to_be_bytes()));
    drain(&mut wire).unwrap();
    let frames = client_frames(&take(&mut wire));
    assert_eq!(
        frames,
        [
            (0x8A, b"last".to_vec()),
            (0x88, 1000u16.to_be_bytes().to_vec())
        ]
    );
}

#[test]
fn lingering_delivers_what_came_before_a_violation_and_lets_replies_leave_first() {
    let mut wire = open_wire();
    wire.set_linger(true);
    let mut bytes = server_frame(0x81, b"hello");
    bytes.extend(server_frame(0xC1, b"bad")); // RSV bits: a violation
    bytes.extend(server_frame(0x81, b"never"));
    wire.handle_bytes(&bytes);
    assert_eq!(
        drain(&mut wire).unwrap(),
        [WireEvent::Message(Message::text("hello"))]
    );
    assert!(wire.violation_pending());
    wire.handle_bytes(&server_frame(0x81, b"ignored"));
    assert_eq!(drain(&mut wire).unwrap(), []);
    wire.send_text("hello").unwrap(); // the echo
    let err = wire.fail_deferred().unwrap();
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    let frames = client_frames(&take(&mut wire));
    assert_eq!(
        frames,
        [
            (0x81, b"hello".to_vec()),
            (0x88, 1002u16.to_be_bytes().to_vec())
        ]
    );
    assert_eq!(wire.state(), WireState::Failed);
    // The socket's end ends the wait at once.
    let mut wire = open_wire();
    wire.set_linger(true);
    wire.handle_bytes(&server_frame(0xC1, b"bad"));
    assert_eq!(drain(&mut wire).unwrap(), []);
    wire.handle_eof();
    assert!(matches!(wire.poll_event(), Err(WireError::Protocol(_))));
}

#[test]
fn server_close_is_echoed_and_reported() {
    let mut wire = open_wire();
    wire.handle_bytes(&server_frame(0x88, &[0x03, 0xe9, b'b', b'y', b'e']));
    let events = drain(&mut wire).unwrap();
    assert_eq!(
        events,
        [WireEvent::Closed {
            frame: CloseFrame {
                code: CloseCode::GOING_AWAY,
                reason: "bye".into()
            },
            by_peer: true
        }]
    );
    assert_eq!(client_frames(&take(&mut wire)), [(0x88, vec![0x03, 0xe9])]);
    assert_eq!(wire.state(), WireState::Closed);
    assert!(wire.send_text("late").is_err());
    // The server now closes TCP: that is the normal end, not an error.
    wire.handle_eof();
    assert_eq!(drain(&mut wire).unwrap(), []);
}

#[test]
fn client_close_completes_when_the_server_answers() {
    let mut wire = open_wire();
    wire.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(wire.state(), WireState::Closing);
    assert_eq!(
        client_frames(&take(&mut wire)),
        [(0x88, [&[0x03, 0xe8][..], b"done"].concat())]
    );
    assert!(matches!(
        wire.send_text("x"),
        Err(WireError::NotOpen("closing"))
    ));
    // Data still arriving before the server's close is delivered.
    let mut bytes = server_frame(0x81, b"last");
    bytes.extend(server_frame(0x88, &[0x03, 0xe8]));
    wire.handle_bytes(&bytes);
    let events = drain(&mut wire).unwrap();
    assert_eq!(events[0], WireEvent::Message(Message::text("last")));
    assert!(
        matches!(&events[1], WireEvent::Closed { by_peer: false, frame } if frame.code == CloseCode::NORMAL)
    );
    assert!(take(&mut wire).is_empty(), "no second close frame");
}

#[test]
fn closing_with_reserved_codes_or_long_reasons_is_refused() {
    let mut wire = open_wire();
    assert!(matches!(
        wire.close(CloseCode::ABNORMAL, ""),
        Err(WireError::InvalidCloseCode(1006))
    ));
    assert!(matches!(
        wire.close(CloseCode::NORMAL, &"x".repeat(124)),
        Err(WireError::ControlPayloadTooLong(_))
    ));
    assert!(matches!(
        wire.ping(&[0; 126]),
        Err(WireError::ControlPayloadTooLong(126))
    ));
    assert_eq!(wire.state(), WireState::Open);
}

#[test]
fn peer_errors_queue_the_matching_close_code() {
    let cases: [(&[u8], u16); 3] = [
        (&[0xC1, 0x00], 1002),                         // reserved bit
        (&[0x81, 0x01, 0xff], 1007),                   // invalid UTF-8
        (&[0x82, 0x7f, 0, 0, 0, 0, 1, 0, 0, 1], 1009), // 16 MiB + 1: over the frame limit
    ];
    for (bytes, code) in cases {
        let mut wire = open_wire();
        wire.handle_bytes(bytes);
        let err = drain(&mut wire).unwrap_err();
        assert_eq!(err.close_code().map(u16::from), Some(code), "{err}");
        assert_eq!(
            client_frames(&take(&mut wire)),
            [(0x88, code.to_be_bytes().to_vec())]
        );
        assert_eq!(wire.state(), WireState::Failed);
        // Further input is ignored; nothing panics.
        wire.handle_bytes(&server_frame(0x81, b"more"));
        assert_eq!(drain(&mut wire).unwrap(), []);
    }
}

#[test]
fn eof_without_a_close_frame_is_an_abnormal_closure() {
    let mut wire = open_wire();
    wire.handle_bytes(&server_frame(0x81, b"a"));
    wire.handle_eof();
    assert_eq!(
        wire.poll_event().unwrap(),
        Some(WireEvent::Message(Message::text("a")))
    );
    assert!(matches!(wire.poll_event(), Err(WireError::AbnormalClosure)));
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let run = |seed| {
        let mut wire = open_wire_with_seed(seed);
        wire.send_text("x").unwrap();
        take(&mut wire)
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

fn open_wire_with_seed(seed: u64) -> Wire {
    let (mut wire, key) = new_wire("ws://localhost/", seed);
    wire.handle_bytes(&upgrade_response(&key));
    drain(&mut wire).unwrap();
    wire
}

#[test]
fn an_idle_plain_connection_holds_little_memory() {
    let mut wire = open_wire();
    wire.send_text(&"x".repeat(100_000)).unwrap();
    take(&mut wire);
    wire.handle_bytes(&server_frame(0x81, b"hi"));
    drain(&mut wire).unwrap();
    wire.shrink_buffers();
    assert_eq!(wire.buffered_bytes(), 0);
    let size = std::mem::size_of::<Wire>();
    assert!(size < 1024, "Wire is {size} bytes");
}

/// Inbound streams: the 101, then data messages (some fragmented), pings and a close.
fn server_stream(key: &str, items: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut bytes = upgrade_response(key);
    for (kind, payload) in items {
        match kind % 4 {
            0 => bytes.extend(server_frame(0x82, payload)),
            1 => {
                let text: String = payload.iter().map(|b| char::from(b'a' + b % 26)).collect();
                let (a, b) = text.as_bytes().split_at(text.len() / 2);
                bytes.extend(server_frame(0x01, a));
                bytes.extend(server_frame(0x89, b"mid"));
                bytes.extend(server_frame(0x80, b));
            }
            2 => bytes.extend(server_frame(0x89, &payload[..payload.len().min(125)])),
            _ => bytes.extend(server_frame(
                0x81,
                "é€😀".repeat(payload.len() % 5).as_bytes(),
            )),
        }
    }
    bytes.extend(server_frame(0x88, &[0x03, 0xe8]));
    bytes
}

proptest! {
    /// Any chunking of the input gives the events the whole input gives,
    /// each chunk handed over either as `handle_bytes` does (a copy) or as
    /// a driver reading straight into the wire's buffer does
    /// (`read_buffer`, `bytes_read`, which always offers room for a read).
    #[test]
    fn any_chunking_of_inbound_bytes_yields_the_same_events(
        items in prop::collection::vec((any::<u8>(), prop::collection::vec(any::<u8>(), 0..100)), 0..12),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 0..20),
    ) {
        let (mut whole, key) = new_wire("ws://localhost/", 9);
        let stream = server_stream(&key, &items);
        whole.handle_bytes(&stream);
        let expected = drain(&mut whole).unwrap();

        let (mut chunked, _) = new_wire("ws://localhost/", 9);
        let mut points: Vec<(usize, bool)> =
            cuts.iter().map(|(i, direct)| (i.index(stream.len() + 1), *direct)).collect();
        points.push((0, false));
        points.push((stream.len(), false));
        points.sort();
        let mut events = Vec::new();
        for pair in points.windows(2) {
            let ((from, direct), (to, _)) = (pair[0], pair[1]);
            let mut rest = &stream[from..to];
            if !direct {
                chunked.handle_bytes(rest);
                rest = &[];
            }
            while !rest.is_empty() {
                let buf = chunked.read_buffer().expect("plaintext, not closed");
                let room = buf.capacity() - buf.len();
                prop_assert!(room >= 4096, "room {}", room);
                let n = rest.len().min(room);
                buf.extend_from_slice(&rest[..n]);
                chunked.bytes_read(n);
                rest = &rest[n..];
            }
            events.extend(drain(&mut chunked).unwrap());
        }
        prop_assert_eq!(events, expected);
        prop_assert_eq!(take(&mut chunked), take(&mut whole));
    }
}
