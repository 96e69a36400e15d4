//! The wire over a real loopback socket against tokio-tungstenite's echo server.

use std::time::Duration;

use wsnova_core::wire::{CloseCode, Message, WireConfig, WireEvent};
use wsnova_tests::EchoServer;
use wsnova_tests::blocking::BlockingWire;

const STEP: Duration = Duration::from_secs(10);

#[test]
fn echo_round_trip_over_a_real_socket_then_clean_close() {
    let server = EchoServer::start();
    let config = WireConfig::new(&server.url()).unwrap();
    let mut ws = BlockingWire::connect(config, server.addr(), 42).unwrap();
    assert_eq!(
        ws.next_event(STEP).unwrap(),
        WireEvent::Open { subprotocol: None }
    );

    ws.wire.send_text("hello").unwrap();
    let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    ws.wire.send_binary(&big).unwrap();
    ws.wire.ping(b"rtt").unwrap();
    assert_eq!(
        ws.next_message_event(STEP).unwrap(),
        WireEvent::Message(Message::text("hello"))
    );
    assert_eq!(
        ws.next_message_event(STEP).unwrap(),
        WireEvent::Message(Message::binary(big))
    );
    assert_eq!(ws.next_event(STEP).unwrap(), WireEvent::Pong("rtt".into()));

    ws.wire.close(CloseCode::NORMAL, "bye").unwrap();
    match ws.next_message_event(STEP).unwrap() {
        WireEvent::Closed { frame, by_peer } => {
            assert_eq!(frame.code, CloseCode::NORMAL);
            assert!(!by_peer);
        }
        other => panic!("expected Closed, got {other:?}"),
    }
}
