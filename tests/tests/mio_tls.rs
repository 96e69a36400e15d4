//! The mio driver over `wss://` against the TLS echo server, with a CA made
//! at test time. `localhost` is resolved on the resolver thread (or the
//! address is given); a certificate from another CA fails `connect` with the
//! certificate error, and with retries stops after one attempt.

use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;
use wsnova_mio::ConnectOn as _;

use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, CloseReason, DisconnectReason, Event, Initiator, Plain,
    SessionState,
};
use wsnova_core::wire::{Message, WireError};
use wsnova_mio::{Builder, ConnectError, EventLoop, Events};
use wsnova_tests::{EchoServer, TestPki};

const STEP: Duration = Duration::from_secs(10);

fn url(server: &EchoServer) -> String {
    format!("wss://localhost:{}/", server.addr().port())
}

fn unknown_issuer() -> DisconnectReason {
    DisconnectReason::Wire(WireError::Certificate(
        rustls::CertificateError::UnknownIssuer,
    ))
}

fn fast_backoff() -> BackoffConfig {
    BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    }
}

/// Every event until the stream ends (bounded).
fn collect(events: &Events) -> Vec<Event> {
    let mut all = Vec::new();
    loop {
        match events.recv_timeout(STEP) {
            Ok(event) => all.push(event),
            Err(RecvTimeoutError::Disconnected) => return all,
            Err(e) => panic!("the event stream did not end: {e:?} after {all:?}"),
        }
    }
}

fn echo_over_tls(builder: Builder, server: &EchoServer) {
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = builder
        .connect(&event_loop, Plain)
        .expect("connect over TLS");
    let big: Vec<u8> = (0..300_000).map(|i| (i % 253) as u8).collect();
    handle.send_text("over tls").unwrap();
    handle.send_binary(&big).unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        match events.recv_timeout(STEP).unwrap() {
            Event::Message(m) => got.push(m),
            Event::Connected | Event::Ready => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got[0], Message::text("over tls"));
    assert!(got[1] == Message::binary(big), "300 kB binary differs");
    assert!(handle.ping().unwrap() < STEP);
    handle.close().unwrap();
    let rest = collect(&events);
    assert!(
        matches!(
            rest.last(),
            Some(Event::Closed {
                reason: CloseReason::User
            })
        ),
        "{rest:?}"
    );
    assert_eq!(server.connections_accepted(), 1);
}

#[test]
fn wss_echo_with_the_test_ca_resolving_localhost() {
    let pki = TestPki::new(&["localhost", "127.0.0.1"]);
    let server = EchoServer::start_tls(pki.server_config());
    let builder = Builder::new(&url(&server))
        .unwrap()
        .root_certificates(pki.root_store());
    echo_over_tls(builder, &server);
}

#[test]
fn wss_echo_with_a_given_address() {
    let pki = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(pki.server_config());
    // The URL names the certificate's host; the address is dialed.
    let builder = Builder::new("wss://localhost:1/")
        .unwrap()
        .root_certificates(pki.root_store())
        .dial_to(server.addr().ip().to_string(), server.addr().port());
    echo_over_tls(builder, &server);
}

#[test]
fn a_certificate_from_another_ca_fails_connect_with_unknown_issuer() {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(server_pki.server_config());
    let event_loop = EventLoop::new().unwrap();
    let result = Builder::new(&url(&server))
        .unwrap()
        .root_certificates(other_ca.root_store())
        .connect(&event_loop, Plain);
    match result {
        Err(ConnectError::Failed(reason)) => assert_eq!(reason, unknown_issuer()),
        Err(other) => panic!("expected Failed(UnknownIssuer), got {other:?}"),
        Ok(_) => panic!("connected with an untrusted certificate"),
    }
    assert_eq!(server.connections_accepted(), 1);
}

#[test]
fn a_certificate_for_another_name_fails_connect() {
    let pki = TestPki::new(&["other.test"]);
    let server = EchoServer::start_tls(pki.server_config());
    let event_loop = EventLoop::new().unwrap();
    let result = Builder::new(&url(&server))
        .unwrap()
        .root_certificates(pki.root_store())
        .connect(&event_loop, Plain);
    match result {
        Err(ConnectError::Failed(DisconnectReason::Wire(WireError::Certificate(_)))) => {}
        Err(other) => panic!("expected a certificate error, got {other:?}"),
        Ok(_) => panic!("connected to a certificate for another name"),
    }
}

#[test]
fn with_retries_a_certificate_error_stops_after_one_attempt() {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(server_pki.server_config());
    let event_loop = EventLoop::new().unwrap();
    let result = Builder::new(&url(&server))
        .unwrap()
        .root_certificates(other_ca.root_store())
        .backoff(fast_backoff())
        .retry_initial_connect(true)
        .connect(&event_loop, Plain);
    match result {
        Err(ConnectError::Closed(CloseReason::Stopped(reason))) => {
            assert_eq!(reason, unknown_issuer())
        }
        Err(other) => panic!("expected Closed(Stopped(UnknownIssuer)), got {other:?}"),
        Ok(_) => panic!("connected with an untrusted certificate"),
    }
    // No hot loop: nothing dials again, even with a 10 ms backoff. Absence
    // can only be shown by waiting.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(server.connections_accepted(), 1);
    assert_eq!(event_loop.connections(), 0);
}

#[test]
fn spawned_without_waiting_a_certificate_error_ends_the_event_stream() {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(server_pki.server_config());
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = Builder::new(&url(&server))
        .unwrap()
        .root_certificates(other_ca.root_store())
        .backoff(fast_backoff())
        .retry_initial_connect(true)
        .spawn_without_waiting(&event_loop, Plain)
        .unwrap();
    assert_eq!(
        collect(&events),
        [
            Event::Disconnected {
                reason: unknown_issuer(),
                initiator: Initiator::Library,
                reconnect_in: None,
            },
            Event::Closed {
                reason: CloseReason::Stopped(unknown_issuer())
            },
        ]
    );
    assert_eq!(handle.status().state, SessionState::Closed);
    assert_eq!(server.connections_accepted(), 1);
}
