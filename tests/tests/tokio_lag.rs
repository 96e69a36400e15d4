//! Lag policies of the tokio driver's event consumers, against the echo
//! server: `Backpressure` (the default) stops reading and loses nothing;
//! `DropOldest` keeps reading, drops the oldest messages and says so with
//! `Lagged`; every consumer has its own queue.

use std::time::Duration;
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{
    CloseReason, DisconnectReason, Event, HeartbeatConfig, Initiator, Plain,
};
use wsnova_core::wire::Message;
use wsnova_tests::EchoServer;
use wsnova_tokio::{Builder, Client, Events, LagPolicy};

const STEP: Duration = Duration::from_secs(10);
const CAPACITY: usize = 8;
const COUNT: usize = 200;
/// Messages of 32 KiB sent where reading must stop between reads.
const LARGE_COUNT: usize = 64;

async fn connect(server: &EchoServer, policy: LagPolicy) -> (Client, Events) {
    let builder = Builder::new(&server.url())
        .unwrap()
        .event_capacity(CAPACITY)
        .lag_policy(policy);
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

/// Waits (polling the status, bounded) until the driver has read `n` messages.
async fn wait_for_messages_in(client: &Client, n: u64) {
    timeout(STEP, async {
        while client.status().stats.messages_in < n {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the driver read {} of {n} messages",
            client.status().stats.messages_in
        )
    });
}

/// The index in a text message `m<i>`.
fn index(m: &Message) -> usize {
    let Message::Text(t) = m else {
        panic!("expected text, got {m:?}")
    };
    t.as_str()
        .strip_prefix('m')
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("unexpected message {t}"))
}

/// Drains a DropOldest consumer until the message `m<COUNT-1>`; returns the
/// indices received and the total `Lagged` count.
async fn drain_lagging(events: &mut Events) -> (Vec<usize>, u64) {
    let mut received = Vec::new();
    let mut dropped = 0;
    loop {
        match next_event(events).await {
            Event::Lagged { dropped: n } => {
                assert!(n > 0);
                dropped += n;
            }
            Event::Message(m) => {
                received.push(index(&m));
                if received.last() == Some(&(COUNT - 1)) {
                    return (received, dropped);
                }
            }
            Event::Connected | Event::Ready | Event::Pong { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Closes; `events` ends with the user close and `Closed`, nothing else.
async fn assert_ends_with_user_close(events: Events) {
    let rest: Vec<Event> = timeout(STEP, events.collect())
        .await
        .expect("the stream ends");
    assert_eq!(
        rest,
        [
            Event::Disconnected {
                reason: DisconnectReason::UserClose,
                initiator: Initiator::User,
                reconnect_in: None,
            },
            Event::Closed {
                reason: CloseReason::User
            },
        ]
    );
}

#[tokio::test]
async fn backpressure_delivers_every_message_in_order() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server, LagPolicy::Backpressure).await;
    // Not polling `events` while all are sent and echoed.
    for i in 0..COUNT {
        client.send_text(format!("m{i}")).await.unwrap();
    }
    // The driver works while nobody polls: it reads at least until the
    // queue is full (Connected and Ready take two of its places).
    wait_for_messages_in(&client, (CAPACITY - 2) as u64).await;
    assert_eq!(next_event(&mut events).await, Event::Connected);
    assert_eq!(next_event(&mut events).await, Event::Ready);
    for i in 0..COUNT {
        match next_event(&mut events).await {
            Event::Message(m) => assert_eq!(index(&m), i),
            other => panic!("expected message {i}, got {other:?}"),
        }
    }
    assert_eq!(client.status().stats.messages_in, COUNT as u64);
    timeout(STEP, client.close()).await.unwrap().unwrap();
    assert_ends_with_user_close(events).await;
}

#[tokio::test]
async fn backpressure_stops_reading_while_a_consumer_is_full() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server, LagPolicy::Backpressure).await;
    // 200 × 32 KiB: far more than the queue, and more than one read.
    let payload = |i: usize| {
        let mut data = vec![(i % 256) as u8; 32 * 1024];
        data[..8].copy_from_slice(&(i as u64).to_be_bytes());
        data
    };
    let sender = {
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..COUNT {
                client.send_binary(payload(i)).await.unwrap();
            }
        })
    };
    wait_for_messages_in(&client, 1).await;
    // Reading stopped: the count stays near the queue's capacity. Only
    // waiting can show that it does not grow.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stalled = client.status().stats.messages_in;
    assert!(
        stalled <= 2 * CAPACITY as u64,
        "read {stalled} messages for a queue of {CAPACITY}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.status().stats.messages_in, stalled, "still paused");

    // Polling resumes reading: everything arrives, in order, nothing lost.
    let mut lagged = false;
    let mut next = 0;
    while next < COUNT {
        match next_event(&mut events).await {
            Event::Message(Message::Binary(data)) => {
                assert!(data[..] == payload(next)[..], "message {next} differs");
                next += 1;
            }
            Event::Lagged { .. } => lagged = true,
            Event::Connected | Event::Ready => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(!lagged, "Backpressure never drops");
    timeout(STEP, sender).await.unwrap().unwrap();
    assert_eq!(client.status().stats.messages_in, COUNT as u64);
    timeout(STEP, client.close()).await.unwrap().unwrap();
    assert_ends_with_user_close(events).await;
}

/// Pings every 100 ms, a pong within 400 ms, some data within 800 ms:
/// tight enough that a stall of [`STALL`] would trip all of them, loose
/// enough that a loaded CI machine does not.
const TIGHT_HEARTBEAT: HeartbeatConfig = HeartbeatConfig {
    ping_interval: Some(Duration::from_millis(100)),
    pong_timeout: Duration::from_millis(400),
    idle_timeout: Some(Duration::from_millis(800)),
};

/// How long the consumer stops polling: several pong and idle timeouts.
const STALL: Duration = Duration::from_millis(2_500);

#[tokio::test]
async fn a_consumer_stalled_past_the_pong_timeout_keeps_the_connection() {
    let server = EchoServer::start();
    let builder = Builder::new(&server.url())
        .unwrap()
        .event_capacity(CAPACITY)
        .heartbeat(TIGHT_HEARTBEAT);
    let (client, mut events) = timeout(STEP, builder.connect(Plain))
        .await
        .expect("connect in time")
        .expect("connect");
    for i in 0..COUNT {
        client.send_text(format!("m{i}")).await.unwrap();
    }
    wait_for_messages_in(&client, (CAPACITY - 2) as u64).await;
    // Reading stopped for the consumer's sake: pongs and data wait unread
    // for many pong and idle timeouts. Only waiting can show that neither
    // deadline fires.
    tokio::time::sleep(STALL).await;
    let mut next = 0;
    while next < COUNT {
        match next_event(&mut events).await {
            Event::Message(m) => {
                assert_eq!(index(&m), next);
                next += 1;
            }
            Event::Connected | Event::Ready | Event::Pong { .. } => {}
            other => panic!("the connection was not kept: {other:?}"),
        }
    }
    // Liveness checks run again once reading resumed.
    let rtt = timeout(STEP, client.ping()).await.unwrap().unwrap();
    assert!(rtt < STEP);
    assert_eq!(client.status().stats.reconnects, 0);
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn dropping_the_consumer_reading_waits_for_resumes_reading_at_once() {
    let server = EchoServer::start();
    let builder = Builder::new(&server.url())
        .unwrap()
        .event_capacity(CAPACITY)
        .heartbeat(HeartbeatConfig {
            ping_interval: None, // no timer may wake the driver
            ..HeartbeatConfig::default()
        })
        .stable_after(Duration::from_secs(3600)); // nor may this one
    let (client, events) = timeout(STEP, builder.connect(Plain))
        .await
        .expect("connect in time")
        .expect("connect");
    // 64 x 32 KiB: more than one read, so reading can stop between reads,
    // and little enough for any loopback buffers (sends never block).
    for _ in 0..LARGE_COUNT {
        client.send_binary(vec![7; 32 * 1024]).await.unwrap();
    }
    wait_for_messages_in(&client, 1).await;
    // Only waiting can show that reading stopped: the count holds still
    // across a second wait, far below what was sent.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stalled = client.status().stats.messages_in;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let still = client.status().stats.messages_in;
    assert_eq!(
        stalled, still,
        "reading went on while the consumer was full"
    );
    assert!(
        stalled < LARGE_COUNT as u64 / 2,
        "reading stopped only at {stalled}"
    );
    drop(events); // the only consumer, full: reading stopped for it
    let dropped_at = std::time::Instant::now();
    wait_for_messages_in(&client, LARGE_COUNT as u64).await;
    // At once: the 2 MiB left take far less than the 10 s bound of the wait.
    let resumed_in = dropped_at.elapsed();
    assert!(resumed_in < Duration::from_secs(2), "{resumed_in:?}");
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_dropped_consumer_does_not_stall_backpressure() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server, LagPolicy::Backpressure).await;
    let abandoned = client.events();
    drop(abandoned);
    for i in 0..COUNT {
        client.send_text(format!("m{i}")).await.unwrap();
    }
    let mut next = 0;
    while next < COUNT {
        match next_event(&mut events).await {
            Event::Message(m) => {
                assert_eq!(index(&m), next);
                next += 1;
            }
            Event::Connected | Event::Ready => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn drop_oldest_reports_lagged_and_keeps_the_newest() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server, LagPolicy::DropOldest).await;
    for i in 0..COUNT {
        client.send_text(format!("m{i}")).await.unwrap();
    }
    // The driver keeps reading although nobody polls.
    wait_for_messages_in(&client, COUNT as u64).await;

    assert!(
        matches!(next_event(&mut events).await, Event::Lagged { dropped } if dropped > 0),
        "the consumer is told first"
    );
    // Lifecycle events are never dropped.
    assert_eq!(next_event(&mut events).await, Event::Connected);
    assert_eq!(next_event(&mut events).await, Event::Ready);
    let (received, more_dropped) = drain_lagging(&mut events).await;
    assert_eq!(more_dropped, 0);
    assert!(received.len() < COUNT, "{}", received.len());
    assert!(received.len() <= CAPACITY, "{received:?}");
    assert_eq!(received.last(), Some(&(COUNT - 1)), "the newest survives");
    assert!(
        received.windows(2).all(|w| w[0] + 1 == w[1]),
        "{received:?}"
    );
    timeout(STEP, client.close()).await.unwrap().unwrap();
    assert_ends_with_user_close(events).await;
}

#[tokio::test]
async fn drop_oldest_counts_every_dropped_message() {
    let server = EchoServer::start();
    let (client, mut events) = connect(&server, LagPolicy::DropOldest).await;
    for i in 0..COUNT {
        client.send_text(format!("m{i}")).await.unwrap();
    }
    wait_for_messages_in(&client, COUNT as u64).await;
    let (received, dropped) = drain_lagging(&mut events).await;
    assert!(dropped > 0);
    assert_eq!(
        received.len() as u64 + dropped,
        COUNT as u64,
        "{received:?}"
    );
    timeout(STEP, client.close()).await.unwrap().unwrap();
    assert_ends_with_user_close(events).await;
}

#[tokio::test]
async fn a_lagging_consumer_does_not_hold_back_another() {
    let server = EchoServer::start();
    let (client, mut lagging) = connect(&server, LagPolicy::DropOldest).await;
    // From now on: no Connected / Ready for this one.
    let mut keeping_up = client.events();
    for i in 0..COUNT {
        client.send_text(format!("m{i}")).await.unwrap();
        match next_event(&mut keeping_up).await {
            Event::Message(m) => assert_eq!(index(&m), i),
            other => panic!("expected message {i}, got {other:?}"),
        }
    }
    // The other consumer, never polled so far, has its own queue and count.
    assert!(
        matches!(next_event(&mut lagging).await, Event::Lagged { dropped } if dropped > 0),
        "the lagging consumer is told"
    );
    assert_eq!(next_event(&mut lagging).await, Event::Connected);
    assert_eq!(next_event(&mut lagging).await, Event::Ready);
    let (received, _) = drain_lagging(&mut lagging).await;
    assert!(received.len() < COUNT);
    assert_eq!(received.last(), Some(&(COUNT - 1)));

    timeout(STEP, client.close()).await.unwrap().unwrap();
    assert_ends_with_user_close(keeping_up).await;
    assert_ends_with_user_close(lagging).await;
}
