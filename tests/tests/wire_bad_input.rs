//! Bad input from the server: the right error, the right close code on the
//! wire (as an independent server reads it), and no panic.

use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use wsnova_core::wire::{Limits, WireConfig, WireError, WireState};
use wsnova_tests::MemPeer;
use wsnova_tests::mem_peer::raw_server_frame;
use wsnova_tests::wire_pair::WirePair;

fn open_pair(limits: Limits) -> WirePair {
    let config = WireConfig::new("ws://localhost/").unwrap().limits(limits);
    let mut pair = WirePair::plain(config, MemPeer::new(WebSocketConfig::default()), 5);
    pair.drive();
    assert_eq!(pair.wire.state(), WireState::Open);
    pair
}

/// Sends raw server bytes and returns the wire's error and the close code the server received.
fn inject(limits: Limits, bytes: &[u8]) -> (WireError, Option<TCloseCode>) {
    let mut pair = open_pair(limits);
    pair.peer.send_raw(bytes);
    pair.drive();
    let err = pair.error.take().expect("the wire must fail");
    assert_eq!(pair.wire.state(), WireState::Failed);
    let close = pair
        .peer
        .read_messages()
        .unwrap()
        .into_iter()
        .find_map(|m| match m {
            tungstenite::Message::Close(frame) => frame.map(|f| f.code),
            _ => None,
        });
    (err, close)
}

#[test]
fn an_oversized_frame_closes_with_1009() {
    let limits = Limits {
        max_frame_size: 1024,
        max_message_size: 4096,
    };
    let (err, code) = inject(limits, &raw_server_frame(0x82, &[0; 2000]));
    assert!(
        matches!(
            err,
            WireError::FrameTooLarge {
                size: 2000,
                limit: 1024
            }
        ),
        "{err}"
    );
    assert_eq!(code, Some(TCloseCode::Size));
}

#[test]
fn an_oversized_fragmented_message_closes_with_1009() {
    let limits = Limits {
        max_frame_size: 1024,
        max_message_size: 1500,
    };
    let mut bytes = raw_server_frame(0x02, &[0; 1000]);
    bytes.extend(raw_server_frame(0x80, &[0; 1000]));
    let (err, code) = inject(limits, &bytes);
    assert!(matches!(err, WireError::MessageTooLarge { .. }), "{err}");
    assert_eq!(code, Some(TCloseCode::Size));
}

#[test]
fn invalid_utf8_closes_with_1007() {
    let (err, code) = inject(
        Limits::default(),
        &raw_server_frame(0x81, &[b'o', b'k', 0xc3, 0x28]),
    );
    assert!(matches!(err, WireError::InvalidUtf8), "{err}");
    assert_eq!(code, Some(TCloseCode::Invalid));
}

#[test]
fn reserved_bits_close_with_1002() {
    let (err, code) = inject(
        Limits::default(),
        &raw_server_frame(0x81 | 0x40, b"compressed?"),
    );
    assert!(matches!(err, WireError::Protocol(_)), "{err}");
    assert_eq!(code, Some(TCloseCode::Protocol));
}

#[test]
fn an_invalid_close_code_closes_with_1002() {
    let (err, code) = inject(
        Limits::default(),
        &raw_server_frame(0x88, &1004u16.to_be_bytes()),
    );
    assert!(matches!(err, WireError::PeerCloseCode(1004)), "{err}");
    assert_eq!(code, Some(TCloseCode::Protocol));
}

#[test]
fn a_non_101_response_reports_status_and_body() {
    let config = WireConfig::new("ws://localhost/").unwrap();
    let mut pair = WirePair::plain(config, MemPeer::new(WebSocketConfig::default()), 5);
    let n = pair.wire.pending_transmit().len();
    pair.wire.advance_transmit(n);
    let body = r#"{"error":{"code":13004,"message":"invalid_credentials"}}"#;
    let response = format!(
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // Delivered in two reads: the error waits for the body.
    let (head, tail) = response.split_at(response.len() - 10);
    pair.wire.handle_bytes(head.as_bytes());
    assert!(pair.wire.poll_event().unwrap().is_none());
    pair.wire.handle_bytes(tail.as_bytes());
    match pair.wire.poll_event() {
        Err(WireError::UpgradeRejected {
            status: 401,
            body_excerpt,
            ..
        }) => {
            assert_eq!(body_excerpt, body);
        }
        other => panic!("expected UpgradeRejected, got {other:?}"),
    }
    assert_eq!(pair.wire.state(), WireState::Failed);
}

#[test]
fn garbage_instead_of_a_handshake_fails_cleanly() {
    let config = WireConfig::new("ws://localhost/").unwrap();
    let mut pair = WirePair::plain(config, MemPeer::new(WebSocketConfig::default()), 5);
    pair.wire
        .handle_bytes(&[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00]); // a TLS hello on a ws:// port
    assert!(matches!(
        pair.wire.poll_event(),
        Err(WireError::InvalidHandshake(_))
    ));
    assert!(
        pair.wire.pending_transmit().starts_with(b"GET"),
        "no close frame before the upgrade"
    );
}
