//! The tokio driver over `wss://` against the TLS echo server, with a CA made
//! at test time: echo works with the right roots; a certificate from another
//! CA fails `connect` with the certificate error, and with retries on the
//! default policy stops instead of hammering the server.

use std::time::Duration;
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, CloseReason, DisconnectReason, Event, Plain, SessionState,
};
use wsnova_core::wire::{Message, WireError};
use wsnova_tests::{EchoServer, TestPki};
use wsnova_tokio::{Builder, ConnectError};

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

#[tokio::test]
async fn wss_echo_with_the_test_ca() {
    let pki = TestPki::new(&["localhost", "127.0.0.1"]);
    let server = EchoServer::start_tls(pki.server_config());
    let (client, mut events) = timeout(
        STEP,
        Builder::new(&url(&server))
            .unwrap()
            .root_certificates(pki.root_store())
            .connect(Plain),
    )
    .await
    .expect("connect in time")
    .expect("connect over TLS");
    let big: Vec<u8> = (0..300_000).map(|i| (i % 253) as u8).collect();
    client.send_text("over tls").await.unwrap();
    client.send_binary(&big).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        match timeout(STEP, events.next()).await.unwrap() {
            Some(Event::Message(m)) => got.push(m),
            Some(Event::Connected | Event::Ready) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got[0], Message::text("over tls"));
    assert!(got[1] == Message::binary(big), "300 kB binary differs");
    let rtt = timeout(STEP, client.ping()).await.unwrap().unwrap();
    assert!(rtt < STEP);
    timeout(STEP, client.close()).await.unwrap().unwrap();
    let rest: Vec<Event> = timeout(STEP, events.collect()).await.unwrap();
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

#[tokio::test]
async fn a_certificate_from_another_ca_fails_connect_with_unknown_issuer() {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(server_pki.server_config());
    let result = timeout(
        STEP,
        Builder::new(&url(&server))
            .unwrap()
            .root_certificates(other_ca.root_store())
            .connect(Plain),
    )
    .await
    .expect("connect gives up in time");
    match result {
        Err(ConnectError::Failed(reason)) => assert_eq!(reason, unknown_issuer()),
        Err(other) => panic!("expected Failed(UnknownIssuer), got {other:?}"),
        Ok(_) => panic!("connected with an untrusted certificate"),
    }
    assert_eq!(server.connections_accepted(), 1);
}

#[tokio::test]
async fn a_certificate_for_another_name_fails_connect() {
    let pki = TestPki::new(&["other.test"]);
    let server = EchoServer::start_tls(pki.server_config());
    let result = timeout(
        STEP,
        Builder::new(&url(&server))
            .unwrap()
            .root_certificates(pki.root_store())
            .connect(Plain),
    )
    .await
    .expect("connect gives up in time");
    match result {
        Err(ConnectError::Failed(DisconnectReason::Wire(WireError::Certificate(_)))) => {}
        Err(other) => panic!("expected a certificate error, got {other:?}"),
        Ok(_) => panic!("connected to a certificate for another name"),
    }
}

#[tokio::test]
async fn with_retries_a_certificate_error_stops_after_one_attempt() {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(server_pki.server_config());
    let result = timeout(
        STEP,
        Builder::new(&url(&server))
            .unwrap()
            .root_certificates(other_ca.root_store())
            .backoff(fast_backoff())
            .retry_initial_connect(true)
            .connect(Plain),
    )
    .await
    .expect("connect gives up in time");
    match result {
        Err(ConnectError::Closed(CloseReason::Stopped(reason))) => {
            assert_eq!(reason, unknown_issuer())
        }
        Err(other) => panic!("expected Closed(Stopped(UnknownIssuer)), got {other:?}"),
        Ok(_) => panic!("connected with an untrusted certificate"),
    }
    // No hot loop: nothing dials again, even with a 10 ms backoff. Absence
    // can only be shown by waiting.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(server.connections_accepted(), 1);
}

#[tokio::test]
async fn spawned_without_waiting_a_certificate_error_ends_the_event_stream() {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(server_pki.server_config());
    let (client, events) = Builder::new(&url(&server))
        .unwrap()
        .root_certificates(other_ca.root_store())
        .backoff(fast_backoff())
        .retry_initial_connect(true)
        .spawn_without_waiting(Plain)
        .unwrap();
    let all: Vec<Event> = timeout(STEP, events.collect())
        .await
        .expect("the stream ends");
    assert_eq!(
        all,
        [
            Event::Disconnected {
                reason: unknown_issuer(),
                initiator: wsnova_core::session::Initiator::Library,
                reconnect_in: None,
            },
            Event::Closed {
                reason: CloseReason::Stopped(unknown_issuer())
            },
        ]
    );
    assert_eq!(client.status().state, SessionState::Closed);
    assert_eq!(server.connections_accepted(), 1);
}
