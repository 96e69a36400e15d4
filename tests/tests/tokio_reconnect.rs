//! The tokio driver reconnects: the echo server drops its connections or
//! closes them with a code while its listener stays open, and the client
//! goes Disconnected → Reconnecting → Connected → Ready and echoes again.

use std::time::Duration;
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, DisconnectReason, Event, Initiator, Plain, SessionState,
};
use wsnova_core::wire::{CloseCode, Message, WireError};
use wsnova_tests::EchoServer;
use wsnova_tokio::{Builder, Client, Events};

const STEP: Duration = Duration::from_secs(10);
const BASE: Duration = Duration::from_millis(10);

fn backoff() -> BackoffConfig {
    BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: BASE,
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    }
}

async fn connect(server: &EchoServer) -> (Client, Events) {
    connect_with(server, Duration::from_secs(2)).await
}

async fn connect_with(server: &EchoServer, stable_after: Duration) -> (Client, Events) {
    let builder = Builder::new(&server.url())
        .unwrap()
        .backoff(backoff())
        .stable_after(stable_after);
    timeout(STEP, builder.connect(Plain))
        .await
        .expect("connect in time")
        .expect("connect")
}

async fn next_event(events: &mut Events) -> Event {
    timeout(STEP, events.next())
        .await
        .expect("an event in time")
        .expect("events ended")
}

/// The next event that is not a data message or a pong.
async fn next_lifecycle(events: &mut Events) -> Event {
    loop {
        match next_event(events).await {
            Event::Message(_) | Event::Pong { .. } => continue,
            e => return e,
        }
    }
}

/// The next data message; fails on any lifecycle event.
async fn next_message(events: &mut Events) -> Message {
    loop {
        match next_event(events).await {
            Event::Message(m) => return m,
            Event::Pong { .. } => continue,
            e => panic!("expected a message, got {e:?}"),
        }
    }
}

/// Skips `Connected` and `Ready` of the first connection.
async fn skip_first_ready(events: &mut Events) {
    assert_eq!(next_event(events).await, Event::Connected);
    assert_eq!(next_event(events).await, Event::Ready);
}

/// After a `Disconnected`: exactly `Reconnecting { attempt: 1 }`, `Connected`,
/// `Ready`, with no data message in between.
async fn expect_first_retry_succeeds(events: &mut Events) {
    assert_eq!(next_event(events).await, Event::Reconnecting { attempt: 1 });
    assert_eq!(next_event(events).await, Event::Connected);
    assert_eq!(next_event(events).await, Event::Ready);
}

/// Sends `n` messages tagged with `tag` and checks they all echo back in order.
async fn echo_round(client: &Client, events: &mut Events, tag: &str, n: usize) {
    for i in 0..n {
        client.send_text(format!("{tag}-{i}")).await.unwrap();
    }
    for i in 0..n {
        assert_eq!(
            next_message(events).await,
            Message::text(format!("{tag}-{i}"))
        );
    }
}

#[tokio::test]
async fn server_killing_connections_mid_stream_leads_to_reconnect_and_echo() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    skip_first_ready(&mut events).await;
    // Traffic is flowing when the server drops the socket.
    for i in 0..50 {
        client.send_text(format!("before-{i}")).await.unwrap();
    }
    assert_eq!(next_message(&mut events).await, Message::text("before-0"));
    assert_eq!(server.kill_connections(), 1);

    // Echoes of the first batch may still arrive; then the loss.
    match next_lifecycle(&mut events).await {
        Event::Disconnected {
            reason,
            initiator,
            reconnect_in,
        } => {
            // The server drops its socket: a FIN without a close frame,
            // or a reset when our messages were still unread there (RFC
            // 2525 §2.17) — reported with the OS error, not as a clean end.
            assert!(
                matches!(&reason, DisconnectReason::Wire(WireError::AbnormalClosure))
                    || matches!(&reason, DisconnectReason::Reset(e) if e.contains("reset")),
                "{reason:?}"
            );
            assert_eq!(initiator, Initiator::Remote);
            assert_eq!(reconnect_in, Some(BASE));
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    expect_first_retry_succeeds(&mut events).await;
    echo_round(&client, &mut events, "after", 20).await;

    let status = client.status();
    assert_eq!(status.state, SessionState::Ready);
    assert_eq!(status.stats.reconnects, 1);
    assert_eq!(server.connections_accepted(), 2);
    assert_eq!(server.live_connections(), 1, "the old connection is gone");
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn server_close_1001_is_reported_with_its_frame_then_reconnects() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    skip_first_ready(&mut events).await;
    echo_round(&client, &mut events, "before", 3).await;
    assert_eq!(server.close_connections(1001, "restarting"), 1);

    match next_event(&mut events).await {
        Event::Disconnected {
            reason: DisconnectReason::ServerClosed(frame),
            initiator,
            reconnect_in,
        } => {
            assert_eq!(frame.code, CloseCode::GOING_AWAY);
            assert_eq!(u16::from(frame.code), 1001);
            assert_eq!(frame.reason.as_str(), "restarting");
            assert_eq!(initiator, Initiator::Remote);
            assert_eq!(reconnect_in, Some(BASE));
        }
        other => panic!("expected Disconnected(ServerClosed), got {other:?}"),
    }
    expect_first_retry_succeeds(&mut events).await;
    echo_round(&client, &mut events, "after", 3).await;
    assert_eq!(client.status().stats.reconnects, 1);
    assert_eq!(server.connections_accepted(), 2);
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn messages_sent_while_reconnecting_go_out_once_ready() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    skip_first_ready(&mut events).await;
    assert_eq!(server.kill_connections(), 1);
    assert!(
        matches!(
            next_event(&mut events).await,
            Event::Disconnected {
                initiator: Initiator::Remote,
                ..
            }
        ),
        "the loss comes first"
    );
    // Not ready: these wait in the session's queue.
    assert_ne!(client.status().state, SessionState::Ready);
    for i in 0..5 {
        client.send_text(format!("queued-{i}")).await.unwrap();
    }
    expect_first_retry_succeeds(&mut events).await;
    for i in 0..5 {
        assert_eq!(
            next_message(&mut events).await,
            Message::text(format!("queued-{i}"))
        );
    }
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn with_stable_after_zero_every_loss_after_ready_starts_a_fresh_streak() {
    let server = EchoServer::start();
    let (client, mut events) = connect_with(&server, Duration::ZERO).await;
    skip_first_ready(&mut events).await;
    for round in 1..=3 {
        assert_eq!(server.kill_connections(), 1, "round {round}");
        match next_event(&mut events).await {
            Event::Disconnected { reconnect_in, .. } => {
                assert_eq!(reconnect_in, Some(BASE), "round {round}")
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
        expect_first_retry_succeeds(&mut events).await;
        echo_round(&client, &mut events, &format!("round{round}"), 2).await;
    }
    assert_eq!(client.status().stats.reconnects, 3);
    assert_eq!(server.connections_accepted(), 4);
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_server_that_stays_down_gets_growing_delays_then_close_stops_retrying() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    skip_first_ready(&mut events).await;
    drop(server); // listener and connection gone: dials are refused from now on

    // The loss of the live connection, then failed dials with 10, 20, 40, 80,
    // 100 (capped), 100 ms delays; attempts count up.
    let mut delays = Vec::new();
    let mut attempts = Vec::new();
    while delays.len() < 6 {
        match next_lifecycle(&mut events).await {
            Event::Disconnected {
                reason,
                initiator,
                reconnect_in,
            } => {
                assert_eq!(initiator, Initiator::Remote, "{reason:?}");
                if !delays.is_empty() {
                    assert!(
                        matches!(reason, DisconnectReason::ConnectFailed(_)),
                        "{reason:?}"
                    );
                }
                delays.push(reconnect_in.expect("retries forever"));
            }
            Event::Reconnecting { attempt } => attempts.push(attempt),
            other => panic!("unexpected {other:?}"),
        }
    }
    let ms = Duration::from_millis;
    assert_eq!(delays, [ms(10), ms(20), ms(40), ms(80), ms(100), ms(100)]);
    assert_eq!(attempts, [1, 2, 3, 4, 5]);

    // Closing while backing off ends it for good: no more dials.
    timeout(STEP, client.close()).await.unwrap().unwrap();
    let rest: Vec<Event> = timeout(STEP, events.collect()).await.unwrap();
    assert!(
        matches!(rest.last(), Some(Event::Closed { .. })),
        "{rest:?}"
    );
    assert!(
        !rest
            .iter()
            .any(|e| matches!(e, Event::Connected | Event::Ready)),
        "{rest:?}"
    );
}
