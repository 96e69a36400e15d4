//! Messages through our wire and tungstenite's server come out as they went in.

use proptest::prelude::*;
use tungstenite::Message as TMessage;
use tungstenite::protocol::WebSocketConfig;
use wsnova_core::wire::{Message, WireConfig, WireEvent};
use wsnova_tests::MemPeer;
use wsnova_tests::mem_peer::raw_server_frame;
use wsnova_tests::wire_pair::WirePair;

fn open_pair(seed: u64) -> WirePair {
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(64 << 20);
    let mut pair = WirePair::plain(
        WireConfig::new("ws://localhost/").unwrap(),
        MemPeer::new(config),
        seed,
    );
    pair.drive();
    assert_eq!(pair.events.len(), 1, "Open");
    pair.events.clear();
    pair
}

/// A message to send: text or binary, with a size spanning all three length encodings.
fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        ".{0,200}".prop_map(Message::text),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Message::binary),
        (0usize..3).prop_map(|k| Message::binary(vec![k as u8; [125, 65_535, 70_000][k]])),
    ]
}

fn to_tungstenite(m: &Message) -> TMessage {
    match m {
        Message::Text(t) => TMessage::text(t.as_str()),
        Message::Binary(b) => TMessage::binary(b.clone()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn client_messages_arrive_intact_at_an_independent_server(
        messages in prop::collection::vec((message(), any::<bool>()), 0..20),
        seed in any::<u64>(),
    ) {
        let mut pair = open_pair(seed);
        let mut expected = Vec::new();
        for (m, ping_after) in &messages {
            match m {
                Message::Text(t) => pair.wire.send_text(t).unwrap(),
                Message::Binary(b) => pair.wire.send_binary(b).unwrap(),
            }
            expected.push(to_tungstenite(m));
            if *ping_after {
                pair.wire.ping(b"p").unwrap();
                expected.push(TMessage::Ping("p".into()));
            }
        }
        pair.drive();
        prop_assert_eq!(pair.peer.read_messages().unwrap(), expected);
    }

    #[test]
    fn server_messages_arrive_intact_including_fragments_and_pings(
        messages in prop::collection::vec((message(), 1usize..4), 0..20),
    ) {
        let mut pair = open_pair(1);
        let mut pings = 0;
        for (m, pieces) in &messages {
            let bytes = m.as_bytes();
            if *pieces == 1 || bytes.len() > 65_535 {
                pair.peer.send(to_tungstenite(m));
                continue;
            }
            // Fragment by hand, with a ping between the fragments (RFC 6455 §5.4).
            let chunk = bytes.len().div_ceil(*pieces).max(1);
            let parts: Vec<&[u8]> = if bytes.is_empty() { vec![&[][..]] } else { bytes.chunks(chunk).collect() };
            for (i, part) in parts.iter().enumerate() {
                let opcode = if i == 0 { if m.is_text() { 0x1 } else { 0x2 } } else { 0x0 };
                let fin = if i + 1 == parts.len() { 0x80 } else { 0 };
                pair.peer.send_raw(&raw_server_frame(opcode | fin, part));
                if i == 0 && parts.len() > 1 {
                    pair.peer.send_raw(&raw_server_frame(0x89, b"between"));
                    pings += 1;
                }
            }
        }
        pair.drive();
        let got: Vec<Message> = pair.events.iter().filter_map(|e| match e {
            WireEvent::Message(m) => Some(m.clone()),
            _ => None,
        }).collect();
        let want: Vec<Message> = messages.iter().map(|(m, _)| m.clone()).collect();
        prop_assert_eq!(got, want);
        // Every ping was answered with a pong the server saw.
        let pongs = pair.peer.read_messages().unwrap().iter().filter(|m| m.is_pong()).count();
        prop_assert_eq!(pongs, pings);
    }
}

#[test]
fn the_real_handshake_response_split_at_every_byte_boundary() {
    // Capture tungstenite's bytes for seed 11 (hence a known key): the 101 plus one frame.
    let mut peer = MemPeer::new(WebSocketConfig::default());
    let mut probe = WirePair::plain(
        WireConfig::new("ws://localhost/").unwrap(),
        MemPeer::new(WebSocketConfig::default()),
        11,
    );
    let request = probe.wire.pending_transmit().to_vec();
    peer.feed(&request);
    assert!(peer.poll_handshake());
    peer.send(TMessage::text("after"));
    let response = peer.take_output();
    for split in 0..=response.len() {
        probe = WirePair::plain(
            WireConfig::new("ws://localhost/").unwrap(),
            MemPeer::new(WebSocketConfig::default()),
            11,
        );
        let n = probe.wire.pending_transmit().len();
        probe.wire.advance_transmit(n);
        let mut events = Vec::new();
        for part in [&response[..split], &response[split..]] {
            probe.wire.handle_bytes(part);
            while let Some(e) = probe.wire.poll_event().unwrap() {
                events.push(e);
            }
        }
        assert_eq!(
            events,
            [
                WireEvent::Open { subprotocol: None },
                WireEvent::Message(Message::text("after"))
            ],
            "split at {split}"
        );
    }
}

#[test]
fn the_chosen_subprotocol_is_reported() {
    let config = WireConfig::new("ws://localhost/")
        .unwrap()
        .subprotocol("v2")
        .subprotocol("json");
    let peer = MemPeer::new(WebSocketConfig::default()).with_subprotocol("json");
    let mut pair = WirePair::plain(config, peer, 1);
    pair.drive();
    assert_eq!(
        pair.events,
        [WireEvent::Open {
            subprotocol: Some("json".into())
        }]
    );
}
