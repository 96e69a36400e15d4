//! `wss://` in memory: our wire (rustls client as a byte transform) against a
//! rustls server with a certificate made at test time.

use tungstenite::protocol::WebSocketConfig;
use wsnova_core::wire::{Message, WireConfig, WireError, WireEvent};
use wsnova_tests::MemPeer;
use wsnova_tests::TestPki;
use wsnova_tests::wire_pair::WirePair;

fn peer() -> MemPeer {
    MemPeer::new(WebSocketConfig::default())
}

#[test]
fn tls_handshake_upgrade_and_messages_both_ways() {
    let pki = TestPki::new(&["localhost"]);
    let config = WireConfig::new("wss://localhost:8443/feed")
        .unwrap()
        .root_certificates(pki.root_store());
    let mut pair = WirePair::tls(config, pki.server_config(), peer(), 3);
    pair.drive();
    assert_eq!(pair.events, [WireEvent::Open { subprotocol: None }]);
    assert_eq!(
        pair.tls.as_ref().unwrap().server_name(),
        Some("localhost"),
        "SNI from the URL"
    );
    let request = pair.peer.client_request().unwrap();
    assert_eq!(request.uri().path(), "/feed");
    assert_eq!(request.headers()["host"], "localhost:8443");

    for i in 0..50 {
        pair.wire.send_text(&format!("msg {i}")).unwrap();
    }
    pair.wire.send_binary(&vec![9; 100_000]).unwrap();
    pair.drive();
    let got = pair.peer.read_messages().unwrap();
    assert_eq!(got.len(), 51);
    assert_eq!(got[49], tungstenite::Message::text("msg 49"));
    assert_eq!(got[50].len(), 100_000);

    pair.peer.send(tungstenite::Message::text("from server"));
    pair.drive();
    assert_eq!(
        pair.events.last(),
        Some(&WireEvent::Message(Message::text("from server")))
    );
}

#[test]
fn a_certificate_from_an_unknown_ca_fails_with_the_certificate_error() {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let config = WireConfig::new("wss://localhost/")
        .unwrap()
        .root_certificates(other_ca.root_store());
    let mut pair = WirePair::tls(config, server_pki.server_config(), peer(), 3);
    pair.drive();
    match pair.error {
        Some(WireError::Certificate(rustls::CertificateError::UnknownIssuer)) => {}
        other => panic!("expected UnknownIssuer, got {other:?}"),
    }
    assert!(pair.events.is_empty(), "no Open after a bad certificate");
    // The client told the server why, with a TLS alert.
    assert!(
        matches!(pair.tls_error, Some(rustls::Error::AlertReceived(_))),
        "{:?}",
        pair.tls_error
    );
}

#[test]
fn a_certificate_for_another_name_is_rejected() {
    let pki = TestPki::new(&["other.test"]);
    let config = WireConfig::new("wss://localhost/")
        .unwrap()
        .root_certificates(pki.root_store());
    let mut pair = WirePair::tls(config, pki.server_config(), peer(), 3);
    pair.drive();
    let err = pair.error.expect("must fail");
    assert!(matches!(err, WireError::Certificate(_)), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
}

#[test]
fn webpki_roots_do_not_trust_a_test_ca() {
    let pki = TestPki::new(&["localhost"]);
    let config = WireConfig::new("wss://localhost/").unwrap();
    let mut pair = WirePair::tls(config, pki.server_config(), peer(), 3);
    pair.drive();
    assert!(
        matches!(pair.error, Some(WireError::Certificate(_))),
        "{:?}",
        pair.error
    );
}

#[test]
fn after_the_close_handshake_the_client_sends_close_notify() {
    let pki = TestPki::new(&["localhost"]);
    let config = WireConfig::new("wss://localhost:8443/")
        .unwrap()
        .root_certificates(pki.root_store());
    let mut pair = WirePair::tls(config, pki.server_config(), peer(), 5);
    pair.drive();
    pair.peer.close(1000, "bye");
    pair.drive();
    assert!(matches!(
        pair.events.last(),
        Some(WireEvent::Closed { by_peer: true, .. })
    ));
    let server = pair.tls.as_mut().unwrap();
    assert!(!server.process_new_packets().unwrap().peer_has_closed());
    // What the session does before it closes the socket (RFC 8446 §6.1).
    pair.wire.finish_transport();
    pair.drive();
    let server = pair.tls.as_mut().unwrap();
    assert!(
        server.process_new_packets().unwrap().peer_has_closed(),
        "close_notify arrived"
    );
}
