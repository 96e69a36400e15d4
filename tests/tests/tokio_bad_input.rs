//! The tokio driver against a misbehaving server on raw TCP: invalid UTF-8,
//! oversized messages, garbage instead of a `101`, a `401` refusal. Each
//! ends with the right error (and the right close code on the wire, read by
//! the server), the client closes its socket, and retrying does not turn
//! into a busy loop.

use std::time::Duration;
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, CloseReason, DisconnectReason, Event, Initiator, Plain,
};
use wsnova_core::wire::{Limits, Message, WireError};
use wsnova_tests::bad_server::{BadServer, ConnectionReport, Misbehaviour};
use wsnova_tests::mem_peer::raw_server_frame;
use wsnova_tokio::{Builder, Client, ConnectError, Events};

const STEP: Duration = Duration::from_secs(10);
const JSON_BODY: &str = r#"{"error":{"code":13004,"message":"invalid_credentials"}}"#;

fn backoff(base_ms: u64) -> BackoffConfig {
    BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_millis(base_ms),
        max_delay: Duration::from_secs(5),
        max_attempts: None,
    }
}

fn small_limits() -> Limits {
    Limits {
        max_message_size: 1024,
        ..Limits::default()
    }
}

fn invalid_utf8() -> Misbehaviour {
    Misbehaviour::AfterUpgrade(raw_server_frame(0x81, &[b'o', b'k', 0xc3, 0x28]))
}

/// A message of exactly the limit (accepted), then one over it.
fn oversized() -> Misbehaviour {
    let mut bytes = raw_server_frame(0x82, &[7; 1024]);
    bytes.extend(raw_server_frame(0x82, &[0; 2000]));
    Misbehaviour::AfterUpgrade(bytes)
}

fn garbage() -> Misbehaviour {
    Misbehaviour::Respond(b"SSH-2.0-OpenSSH\r\n".to_vec())
}

fn unauthorized() -> Misbehaviour {
    Misbehaviour::json_refusal(401, "Unauthorized", JSON_BODY)
}

async fn next_event(events: &mut Events) -> Event {
    timeout(STEP, events.next())
        .await
        .expect("an event in time")
        .expect("events ended")
}

async fn next_report(server: &mut BadServer) -> ConnectionReport {
    timeout(STEP, server.next_report())
        .await
        .expect("a report in time")
        .expect("the server runs")
}

/// Closes the client and checks the driver task is alive and ends cleanly:
/// the close completes and the event stream ends with `Closed`.
async fn close_and_drain(client: Client, events: Events) -> Vec<Event> {
    timeout(STEP, client.close())
        .await
        .expect("close completes (the driver task is alive)")
        .expect("close accepted");
    let rest: Vec<Event> = timeout(STEP, events.collect())
        .await
        .expect("the event stream ends");
    assert!(
        matches!(rest.last(), Some(Event::Closed { .. })),
        "{rest:?}"
    );
    rest
}

/// The failed connection's close frame: exactly one, masked, final, with `code`.
fn assert_closed_with(report: &ConnectionReport, code: u16) {
    assert!(report.client_closed, "the client closed its socket");
    assert_eq!(report.close_code(), Some(code), "{report:?}");
    assert_eq!(report.frames.len(), 1, "{report:?}");
    let close = &report.frames[0];
    assert!(close.masked && close.fin, "{close:?}");
    assert!(report.trailing.is_empty(), "{report:?}");
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007_and_reports_invalid_utf8() {
    let mut server = BadServer::start(invalid_utf8());
    let (client, mut events) = timeout(
        STEP,
        Builder::new(&server.url())
            .unwrap()
            .backoff(backoff(50))
            .connect(Plain),
    )
    .await
    .expect("connect in time")
    .expect("the upgrade itself succeeds");
    assert_eq!(next_event(&mut events).await, Event::Connected);
    assert_eq!(next_event(&mut events).await, Event::Ready);
    match next_event(&mut events).await {
        Event::Disconnected {
            reason,
            initiator,
            reconnect_in,
        } => {
            assert_eq!(reason, DisconnectReason::Wire(WireError::InvalidUtf8));
            assert_eq!(initiator, Initiator::Library);
            assert!(reconnect_in.is_some());
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    let report = next_report(&mut server).await;
    assert_closed_with(&report, 1007);
    assert!(report.request.starts_with("GET / HTTP/1.1\r\n"));
    close_and_drain(client, events).await;
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009_after_one_at_the_limit() {
    let mut server = BadServer::start(oversized());
    let (client, mut events) = timeout(
        STEP,
        Builder::new(&server.url())
            .unwrap()
            .limits(small_limits())
            .backoff(backoff(50))
            .connect(Plain),
    )
    .await
    .expect("connect in time")
    .expect("the upgrade itself succeeds");
    assert_eq!(next_event(&mut events).await, Event::Connected);
    assert_eq!(next_event(&mut events).await, Event::Ready);
    assert_eq!(
        next_event(&mut events).await,
        Event::Message(Message::binary(vec![7u8; 1024])),
        "a message of exactly max_message_size is delivered"
    );
    match next_event(&mut events).await {
        Event::Disconnected {
            reason: DisconnectReason::Wire(err),
            initiator,
            ..
        } => {
            assert!(
                matches!(
                    err,
                    WireError::MessageTooLarge { limit: 1024, .. }
                        | WireError::FrameTooLarge { .. }
                ),
                "{err:?}"
            );
            assert_eq!(initiator, Initiator::Library);
        }
        other => panic!("expected Disconnected(Wire(..TooLarge)), got {other:?}"),
    }
    assert_closed_with(&next_report(&mut server).await, 1009);
    close_and_drain(client, events).await;
}

#[tokio::test]
async fn an_oversized_fragmented_message_closes_with_1009() {
    let mut bytes = raw_server_frame(0x02, &[1; 600]);
    bytes.extend(raw_server_frame(0x80, &[2; 600]));
    let mut server = BadServer::start(Misbehaviour::AfterUpgrade(bytes));
    let (client, mut events) = timeout(
        STEP,
        Builder::new(&server.url())
            .unwrap()
            .limits(small_limits())
            .backoff(backoff(50))
            .connect(Plain),
    )
    .await
    .unwrap()
    .unwrap();
    loop {
        match next_event(&mut events).await {
            Event::Connected | Event::Ready => continue,
            Event::Disconnected { reason, .. } => {
                assert!(
                    matches!(
                        reason,
                        DisconnectReason::Wire(WireError::MessageTooLarge { limit: 1024, .. })
                    ),
                    "{reason:?}"
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_closed_with(&next_report(&mut server).await, 1009);
    close_and_drain(client, events).await;
}

#[tokio::test]
async fn garbage_instead_of_a_101_fails_connect_with_invalid_handshake() {
    let mut server = BadServer::start(garbage());
    let result = timeout(STEP, Builder::new(&server.url()).unwrap().connect(Plain))
        .await
        .expect("connect gives up in time");
    match result {
        Err(ConnectError::Failed(DisconnectReason::Wire(WireError::InvalidHandshake(what)))) => {
            assert!(!what.is_empty())
        }
        Err(other) => panic!("expected InvalidHandshake, got {other:?}"),
        Ok(_) => panic!("connected to an SSH server"),
    }
    let report = next_report(&mut server).await;
    assert!(report.client_closed, "the client closed its socket");
    assert!(
        report.frames.is_empty() && report.trailing.is_empty(),
        "no close frame before an upgrade: {report:?}"
    );
    assert_eq!(server.connections_accepted(), 1, "fail-fast: no retry");
}

#[tokio::test]
async fn a_401_with_a_json_body_fails_connect_with_upgrade_rejected() {
    let mut server = BadServer::start(unauthorized());
    let result = timeout(STEP, Builder::new(&server.url()).unwrap().connect(Plain))
        .await
        .expect("connect gives up in time");
    match result {
        Err(ConnectError::Failed(DisconnectReason::Wire(WireError::UpgradeRejected {
            status,
            reason,
            retry_after,
            body_excerpt,
        }))) => {
            assert_eq!(status, 401);
            assert_eq!(reason, "Unauthorized");
            assert_eq!(retry_after, None);
            assert!(body_excerpt.contains(JSON_BODY), "{body_excerpt:?}");
        }
        Err(other) => panic!("expected UpgradeRejected, got {other:?}"),
        Ok(_) => panic!("connected despite a 401"),
    }
    let report = next_report(&mut server).await;
    assert!(report.client_closed, "the client closed its socket");
    assert!(report.frames.is_empty(), "{report:?}");
    assert_eq!(server.connections_accepted(), 1, "fail-fast: no retry");
}

/// With retries and a 50 ms base backoff: how many connections the server
/// accepts in the first second. Closes the client afterwards and returns the
/// count and the events.
async fn connections_in_one_second(
    behaviour: Misbehaviour,
    limits: Option<Limits>,
) -> (usize, Vec<Event>) {
    let server = BadServer::start(behaviour);
    let mut builder = Builder::new(&server.url())
        .unwrap()
        .backoff(backoff(50))
        .retry_initial_connect(true);
    if let Some(limits) = limits {
        builder = builder.limits(limits);
    }
    let (client, events) = builder.spawn_without_waiting(Plain).unwrap();
    // A rate over a fixed window: only waiting can measure it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let accepted = server.connections_accepted();
    let all = close_and_drain(client, events).await;
    assert!(accepted >= 2, "it does retry: {accepted}");
    (accepted, all)
}

/// Every loss in `events` is the expected one.
fn assert_losses(events: &[Event], expected: impl Fn(&DisconnectReason) -> bool) {
    for e in events {
        if let Event::Disconnected { reason, .. } = e
            && *reason != DisconnectReason::UserClose
        {
            assert!(expected(reason), "{reason:?}");
        }
    }
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed {
                reason: CloseReason::User
            })
        ),
        "{events:?}"
    );
}

#[tokio::test]
async fn garbage_with_retries_does_not_busy_loop() {
    let (accepted, events) = connections_in_one_second(garbage(), None).await;
    assert!(accepted <= 10, "{accepted} connections in 1 s");
    assert_losses(&events, |r| {
        matches!(r, DisconnectReason::Wire(WireError::InvalidHandshake(_)))
    });
}

#[tokio::test]
async fn a_401_with_retries_does_not_busy_loop() {
    let (accepted, events) = connections_in_one_second(unauthorized(), None).await;
    assert!(accepted <= 10, "{accepted} connections in 1 s");
    assert_losses(&events, |r| {
        matches!(
            r,
            DisconnectReason::Wire(WireError::UpgradeRejected { status: 401, .. })
        )
    });
}

// The failure comes right after the upgrade, so every connection reaches
// `Ready` first. The streak only ends after a connection stayed Ready for
// `stable_after`, so the delays keep growing: no reconnect storm.
#[tokio::test]
async fn invalid_utf8_with_retries_does_not_busy_loop() {
    let (accepted, events) = connections_in_one_second(invalid_utf8(), None).await;
    assert!(accepted <= 10, "{accepted} connections in 1 s");
    assert_losses(&events, |r| {
        *r == DisconnectReason::Wire(WireError::InvalidUtf8)
    });
}

#[tokio::test]
async fn oversized_messages_with_retries_do_not_busy_loop() {
    let (accepted, events) = connections_in_one_second(oversized(), Some(small_limits())).await;
    assert!(accepted <= 10, "{accepted} connections in 1 s");
    assert_losses(&events, |r| {
        matches!(
            r,
            DisconnectReason::Wire(
                WireError::MessageTooLarge { .. } | WireError::FrameTooLarge { .. }
            )
        )
    });
}
