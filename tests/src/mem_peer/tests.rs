//! Tests of [`MemPeer`] against hand-written client bytes.

use tungstenite::error::ProtocolError;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::{Bytes, Error, Message};

use super::*;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn open_peer(peer: &mut MemPeer, extra_headers: &str) -> String {
    peer.feed(handshake_request(RFC_SAMPLE_KEY, extra_headers).as_bytes());
    assert!(peer.poll_handshake(), "{:?}", peer.handshake_error());
    String::from_utf8(peer.take_output()).expect("HTTP response is UTF-8")
}

fn new_peer() -> MemPeer {
    MemPeer::new(WebSocketConfig::default())
}

#[test]
fn handshake_from_a_hand_written_request() {
    let mut peer = new_peer();
    assert!(!peer.poll_handshake(), "nothing fed yet");
    let request = "GET /chat?x=1 HTTP/1.1\r\n\
                   Host: example.com\r\n\
                   Upgrade: websocket\r\n\
                   Connection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                   Sec-WebSocket-Version: 13\r\n\r\n";
    peer.feed(request.as_bytes());
    assert!(peer.poll_handshake());
    assert!(peer.is_open());
    let response = String::from_utf8(peer.take_output()).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{response}"
    );
    assert!(response.ends_with("\r\n\r\n"));
    let lower = response.to_ascii_lowercase();
    assert!(lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"));
    assert!(!lower.contains("sec-websocket-protocol"));

    let seen = peer.client_request().expect("request recorded");
    assert_eq!(seen.uri().path(), "/chat");
    assert_eq!(seen.headers()["host"], "example.com");
    assert!(peer.poll_handshake(), "stays open");
}

#[test]
fn handshake_waits_for_the_complete_request() {
    let mut peer = new_peer();
    let request = handshake_request(RFC_SAMPLE_KEY, "");
    let (a, b) = request.as_bytes().split_at(request.len() - 3);
    peer.feed(a);
    assert!(!peer.poll_handshake());
    assert!(peer.take_output().is_empty());
    peer.feed(b);
    assert!(peer.poll_handshake());
    assert!(peer.take_output().starts_with(b"HTTP/1.1 101"));
}

#[test]
fn frame_in_the_same_segment_as_the_request_is_kept() {
    let mut peer = new_peer();
    let mut bytes = handshake_request(RFC_SAMPLE_KEY, "").into_bytes();
    bytes.extend(raw_client_frame(0x81, MASK, b"early"));
    peer.feed(&bytes);
    assert!(peer.poll_handshake(), "{:?}", peer.handshake_error());
    assert_eq!(peer.read_messages().unwrap(), vec![Message::text("early")]);
}

#[test]
fn invalid_request_fails_the_handshake() {
    let mut peer = new_peer();
    peer.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(!peer.poll_handshake());
    assert!(matches!(peer.handshake_error(), Some(Error::Protocol(_))));
    assert!(!peer.poll_handshake(), "failure is final");
}

#[test]
fn subprotocol_is_selected_only_if_offered() {
    let mut peer = new_peer().with_subprotocol("v2.json");
    let resp = open_peer(&mut peer, "Sec-WebSocket-Protocol: v1.json, v2.json");
    assert!(
        resp.contains("sec-websocket-protocol: v2.json\r\n"),
        "{resp}"
    );

    let mut peer = new_peer().with_subprotocol("v2.json");
    let resp = open_peer(&mut peer, "Sec-WebSocket-Protocol: v1.json");
    assert!(!resp.contains("sec-websocket-protocol"), "{resp}");
}

#[test]
fn reads_a_hand_masked_text_frame_and_answers() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    // RFC 6455 §5.7 "Hello", masked, built by hand.
    peer.feed(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    assert_eq!(peer.read_messages().unwrap(), vec![Message::text("Hello")]);
    assert!(peer.read_messages().unwrap().is_empty(), "would block");

    peer.send(Message::text("Hello"));
    assert_eq!(
        peer.take_output(),
        [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']
    );
    peer.send(Message::binary(vec![1u8, 2, 3]));
    assert_eq!(peer.take_output(), raw_server_frame(0x82, &[1, 2, 3]));
}

#[test]
fn reads_several_messages_and_fragments_across_feeds() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    let mut bytes = raw_client_frame(0x01, MASK, b"frag");
    bytes.extend(raw_client_frame(0x80, MASK, b"mented"));
    bytes.extend(raw_client_frame(0x82, MASK, &[9; 300]));
    let (a, b) = bytes.split_at(7);
    peer.feed(a);
    assert!(peer.read_messages().unwrap().is_empty());
    peer.feed(b);
    let msgs = peer.read_messages().unwrap();
    assert_eq!(
        msgs,
        vec![Message::text("fragmented"), Message::binary(vec![9u8; 300])]
    );
}

#[test]
fn ping_is_answered_with_pong() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    peer.feed(&raw_client_frame(0x89, MASK, b"hb"));
    let msgs = peer.read_messages().unwrap();
    assert_eq!(msgs, vec![Message::Ping(Bytes::from_static(b"hb"))]);
    assert_eq!(peer.take_output(), raw_server_frame(0x8A, b"hb"));
}

#[test]
fn client_close_is_echoed_and_ends_the_connection() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    peer.feed(&raw_client_frame(0x88, MASK, &[0x03, 0xe8, b'o', b'k']));
    let msgs = peer.read_messages().unwrap();
    let expected = CloseFrame {
        code: 1000.into(),
        reason: "ok".into(),
    };
    assert_eq!(msgs, vec![Message::Close(Some(expected))]);
    assert_eq!(
        peer.take_output(),
        raw_server_frame(0x88, &[0x03, 0xe8, b'o', b'k'])
    );
    assert!(peer.is_closed());
    assert!(peer.read_messages().unwrap().is_empty());
}

#[test]
fn server_initiated_close() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    peer.close(4001, "bye");
    assert_eq!(
        peer.take_output(),
        raw_server_frame(0x88, &[0x0f, 0xa1, b'b', b'y', b'e'])
    );
    assert!(peer.try_send(Message::text("late")).is_err());
    assert!(!peer.is_closed(), "waiting for the client's reply");
    peer.feed(&raw_client_frame(0x88, MASK, &[0x0f, 0xa1]));
    let msgs = peer.read_messages().unwrap();
    assert!(matches!(&msgs[..], [Message::Close(Some(f))] if u16::from(f.code) == 4001));
    assert!(peer.is_closed());
    assert!(peer.take_output().is_empty(), "no second close frame");
}

#[test]
fn unmasked_client_frame_is_a_protocol_error() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    peer.feed(&raw_server_frame(0x81, b"naked"));
    let err = peer.read_messages().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::UnmaskedFrameFromClient)),
        "{err:?}"
    );
}

#[test]
fn messages_before_an_error_come_first() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    let mut bytes = raw_client_frame(0x81, MASK, b"good");
    bytes.extend(raw_client_frame(0x83, MASK, b"reserved opcode"));
    peer.feed(&bytes);
    assert_eq!(peer.read_messages().unwrap(), vec![Message::text("good")]);
    let err = peer.read_messages().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidOpcode(3))),
        "{err:?}"
    );
}

#[test]
fn configured_limits_apply() {
    let config = WebSocketConfig::default().max_message_size(Some(8));
    let mut peer = MemPeer::new(config);
    open_peer(&mut peer, "");
    peer.feed(&raw_client_frame(0x82, MASK, &[0; 9]));
    assert!(matches!(peer.read_messages(), Err(Error::Capacity(_))));
}

#[test]
fn eof_without_close_is_reported() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    peer.feed_eof();
    let err = peer.read_messages().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)
        ),
        "{err:?}"
    );
}

#[test]
fn send_raw_appends_after_sent_messages() {
    let mut peer = new_peer();
    open_peer(&mut peer, "");
    peer.send(Message::text("a"));
    peer.send_raw(&raw_server_frame(0x83, b"bad"));
    let mut expected = raw_server_frame(0x81, b"a");
    expected.extend(raw_server_frame(0x83, b"bad"));
    assert_eq!(peer.take_output(), expected);
}

#[test]
#[should_panic(expected = "before the handshake completed")]
fn send_before_handshake_panics() {
    new_peer().send(Message::text("too early"));
}
