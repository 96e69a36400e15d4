//! The tokio driver against tokio-tungstenite's echo server: messages of all
//! sizes, pings, pipelining, a clean close with a code, and `status()`.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{
    CloseReason, DisconnectReason, Event, Initiator, Plain, SessionConfig, SessionError,
    SessionState,
};
use wsnova_core::wire::{CloseCode, Message};
use wsnova_tests::EchoServer;
use wsnova_tokio::{Client, Events};

const STEP: Duration = Duration::from_secs(10);

async fn connect(server: &EchoServer) -> (Client, Events) {
    let config = SessionConfig::new(&server.url()).unwrap();
    timeout(STEP, wsnova_tokio::connect(config, Plain))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// The next data message; fails on a lost connection or the end of the stream.
async fn next_message(events: &mut Events) -> Message {
    loop {
        match timeout(STEP, events.next())
            .await
            .expect("an event in time")
        {
            Some(Event::Message(m)) => return m,
            Some(
                e @ (Event::Disconnected { .. } | Event::Closed { .. } | Event::Lagged { .. }),
            ) => {
                panic!("unexpected {e:?}")
            }
            Some(_) => continue,
            None => panic!("events ended"),
        }
    }
}

/// Exactly 1 MiB of valid UTF-8 with multi-byte characters in it.
fn one_mib_text() -> String {
    let unit = "0123456789ab\u{2713}d"; // 12 + 3 + 1 = 16 bytes
    assert_eq!(unit.len(), 16);
    unit.repeat((1 << 20) / 16)
}

#[tokio::test]
async fn text_and_binary_messages_round_trip() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    client.send_text("hello wsnova").await.unwrap();
    client.send_binary([0u8, 1, 2, 255]).await.unwrap();
    client.send_text("").await.unwrap();
    client.send_binary([]).await.unwrap();
    assert_eq!(
        next_message(&mut events).await,
        Message::text("hello wsnova")
    );
    assert_eq!(
        next_message(&mut events).await,
        Message::binary(vec![0u8, 1, 2, 255])
    );
    assert_eq!(next_message(&mut events).await, Message::text(""));
    assert_eq!(
        next_message(&mut events).await,
        Message::binary(Vec::<u8>::new())
    );
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn one_mib_text_and_binary_messages_round_trip() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    let text = one_mib_text();
    let binary: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
    client.send_text(&text).await.unwrap();
    client.send_binary(&binary).await.unwrap();
    match next_message(&mut events).await {
        Message::Text(got) => {
            assert_eq!(got.len(), 1 << 20);
            assert!(got.as_str() == text, "1 MiB text differs");
        }
        other => panic!("expected text, got {} binary bytes", other.len()),
    }
    match next_message(&mut events).await {
        Message::Binary(got) => {
            assert_eq!(got.len(), 1 << 20);
            assert!(got[..] == binary[..], "1 MiB binary differs");
        }
        other => panic!("expected binary, got {} text bytes", other.len()),
    }
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn ping_returns_a_round_trip_time() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    let rtt = timeout(STEP, client.ping())
        .await
        .expect("pong in time")
        .expect("ping on a ready connection");
    assert!(rtt > Duration::ZERO && rtt < STEP, "{rtt:?}");
    assert_eq!(client.status().stats.last_rtt, Some(rtt));
    // The consumers see the same pong.
    loop {
        match timeout(STEP, events.next()).await.unwrap() {
            Some(Event::Pong { rtt: seen }) => {
                assert_eq!(seen, rtt);
                break;
            }
            Some(Event::Connected | Event::Ready) => continue,
            other => panic!("expected Pong, got {other:?}"),
        }
    }
    // Two pings in flight are answered in order, each with its own RTT.
    let (a, b) = tokio::join!(client.ping(), client.ping());
    assert!(a.unwrap() < STEP);
    assert!(b.unwrap() < STEP);
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_thousand_pipelined_messages_arrive_in_order() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    for i in 0..1000 {
        if i % 2 == 0 {
            client.send_text(format!("m{i}")).await.unwrap();
        } else {
            client.send_binary(format!("b{i}")).await.unwrap();
        }
    }
    for i in 0..1000 {
        let want = if i % 2 == 0 {
            Message::text(format!("m{i}"))
        } else {
            Message::binary(format!("b{i}").into_bytes())
        };
        assert_eq!(next_message(&mut events).await, want, "message {i}");
    }
    let stats = client.status().stats;
    assert_eq!((stats.messages_out, stats.messages_in), (1000, 1000));
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn close_with_a_code_ends_with_user_close_then_closed() {
    let server = EchoServer::start();
    let (client, events) = connect(&server).await;
    client.send_text("last words").await.unwrap();
    timeout(STEP, client.close_with(CloseCode::GOING_AWAY, "bye"))
        .await
        .expect("close handshake in time")
        .expect("close accepted");
    assert_eq!(client.status().state, SessionState::Closed);
    // The stream ends (collect returns) after Closed.
    let all: Vec<Event> = timeout(STEP, events.collect())
        .await
        .expect("the event stream ends");
    let n = all.len();
    assert!(n >= 4, "{all:?}");
    assert_eq!(&all[..2], &[Event::Connected, Event::Ready], "{all:?}");
    assert_eq!(
        &all[n - 2..],
        &[
            Event::Disconnected {
                reason: DisconnectReason::UserClose,
                initiator: Initiator::User,
                reconnect_in: None,
            },
            Event::Closed {
                reason: CloseReason::User
            },
        ],
        "{all:?}"
    );
    // Nothing about a reconnect anywhere.
    assert!(
        !all.iter()
            .any(|e| matches!(e, Event::Reconnecting { .. } | Event::Lagged { .. })),
        "{all:?}"
    );
    // A closed client refuses commands; closing again is a no-op.
    assert_eq!(client.send_text("late").await, Err(SessionError::Closed));
    assert_eq!(client.ping().await, Err(SessionError::Closed));
    assert_eq!(client.close().await, Ok(()));
    // A consumer created after the end ends at once.
    let late: Vec<Event> = timeout(STEP, client.events().collect()).await.unwrap();
    assert!(late.is_empty(), "{late:?}");
}

#[tokio::test]
async fn an_invalid_close_code_is_refused_and_the_connection_stays_up() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    let err = client
        .close_with(CloseCode::ABNORMAL, "1006 may not be sent")
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::Wire(_)), "{err:?}");
    assert_eq!(client.status().state, SessionState::Ready);
    client.send_text("still here").await.unwrap();
    assert_eq!(next_message(&mut events).await, Message::text("still here"));
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn status_reports_ready_and_counters_move() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server).await;
    let before = client.status();
    assert_eq!(before.state, SessionState::Ready);
    assert!(before.subscriptions.is_empty());
    assert!(before.desired_subscriptions.is_empty());
    assert!(!before.authenticated);
    assert_eq!(before.stats.reconnects, 0);
    assert_eq!(
        (before.stats.messages_in, before.stats.messages_out),
        (0, 0)
    );
    assert_eq!(before.stats.last_rtt, None);
    // The upgrade went both ways.
    assert!(before.stats.bytes_out > 0 && before.stats.bytes_in > 0);

    let payload = "x".repeat(10_000);
    for _ in 0..3 {
        client.send_text(&payload).await.unwrap();
    }
    for _ in 0..3 {
        assert_eq!(next_message(&mut events).await.len(), 10_000);
    }
    let rtt = timeout(STEP, client.ping()).await.unwrap().unwrap();
    let after = client.status();
    assert_eq!(after.state, SessionState::Ready);
    assert_eq!(after.stats.messages_out, 3);
    assert_eq!(after.stats.messages_in, 3);
    assert!(
        after.stats.bytes_out >= before.stats.bytes_out + 30_000,
        "{before:?} -> {after:?}"
    );
    assert!(
        after.stats.bytes_in >= before.stats.bytes_in + 30_000,
        "{before:?} -> {after:?}"
    );
    assert_eq!(after.stats.last_rtt, Some(rtt));
    assert_eq!(after.stats.reconnects, 0);
    // Debug shows the status without secrets or panics.
    assert!(format!("{client:?}").contains("Ready"));
    timeout(STEP, client.close()).await.unwrap().unwrap();
    assert_eq!(client.status().state, SessionState::Closed);
}
