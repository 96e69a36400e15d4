//! Lag policies of the mio driver's event consumers, against the echo
//! server: `Backpressure` (the default) stops reading and loses nothing;
//! `DropOldest` keeps reading, drops the oldest messages and says so with
//! `Lagged`; every consumer has its own queue; a callback sees everything.

use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wsnova_mio::ConnectOn as _;

use wsnova_core::session::{
    CloseReason, DisconnectReason, Event, HeartbeatConfig, Initiator, Plain,
};
use wsnova_core::wire::Message;
use wsnova_mio::{Builder, EventLoop, Events, Handle, LagPolicy};
use wsnova_tests::EchoServer;

const STEP: Duration = Duration::from_secs(10);
const CAPACITY: usize = 8;
const COUNT: usize = 200;
/// Messages of 32 KiB sent where reading must stop between reads.
const LARGE_COUNT: usize = 64;

fn connect(event_loop: &EventLoop, server: &EchoServer, policy: LagPolicy) -> (Handle, Events) {
    Builder::new(&server.url())
        .unwrap()
        .event_capacity(CAPACITY)
        .lag_policy(policy)
        .connect(event_loop, Plain)
        .expect("connect")
}

fn next_event(events: &Events) -> Event {
    events.recv_timeout(STEP).expect("an event in time")
}

/// Waits (polling the status, bounded) until the driver has read `n` messages.
fn wait_for_messages_in(handle: &Handle, n: u64) {
    let deadline = Instant::now() + STEP;
    while handle.status().stats.messages_in < n {
        assert!(
            Instant::now() < deadline,
            "the driver read {} of {n} messages",
            handle.status().stats.messages_in
        );
        std::thread::sleep(Duration::from_millis(2));
    }
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

/// Drains a DropOldest consumer until `m<COUNT-1>`; returns the indices and
/// the total `Lagged` count.
fn drain_lagging(events: &Events) -> (Vec<usize>, u64) {
    let mut received = Vec::new();
    let mut dropped = 0;
    loop {
        match next_event(events) {
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

/// `events` ends with the user close and `Closed`, nothing else.
fn assert_ends_with_user_close(events: &Events) {
    let mut rest = Vec::new();
    loop {
        match events.recv_timeout(STEP) {
            Ok(event) => rest.push(event),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(e) => panic!("the stream did not end: {e:?}"),
        }
    }
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

#[test]
fn backpressure_delivers_every_message_in_order() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server, LagPolicy::Backpressure);
    for i in 0..COUNT {
        handle.send_text(format!("m{i}")).unwrap();
    }
    wait_for_messages_in(&handle, (CAPACITY - 2) as u64);
    assert_eq!(next_event(&events), Event::Connected);
    assert_eq!(next_event(&events), Event::Ready);
    for i in 0..COUNT {
        match next_event(&events) {
            Event::Message(m) => assert_eq!(index(&m), i),
            other => panic!("expected message {i}, got {other:?}"),
        }
    }
    assert_eq!(handle.status().stats.messages_in, COUNT as u64);
    handle.close().unwrap();
    assert_ends_with_user_close(&events);
}

#[test]
fn backpressure_stops_reading_while_a_consumer_is_full() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server, LagPolicy::Backpressure);
    // 200 × 32 KiB: far more than the queue, and more than one read.
    let payload = |i: usize| {
        let mut data = vec![(i % 256) as u8; 32 * 1024];
        data[..8].copy_from_slice(&(i as u64).to_be_bytes());
        data
    };
    let sender = {
        let handle = handle.clone();
        std::thread::spawn(move || {
            for i in 0..COUNT {
                handle.send_binary(payload(i)).unwrap();
            }
        })
    };
    wait_for_messages_in(&handle, 1);
    // Reading stopped: the count stays near the queue's capacity. Only
    // waiting can show that it does not grow.
    std::thread::sleep(Duration::from_millis(300));
    let stalled = handle.status().stats.messages_in;
    assert!(
        stalled <= 2 * CAPACITY as u64,
        "read {stalled} messages for a queue of {CAPACITY}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(handle.status().stats.messages_in, stalled, "still paused");

    // Receiving resumes reading: everything arrives, in order, nothing lost.
    let mut next = 0;
    while next < COUNT {
        match next_event(&events) {
            Event::Message(Message::Binary(data)) => {
                assert!(data[..] == payload(next)[..], "message {next} differs");
                next += 1;
            }
            Event::Connected | Event::Ready => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    sender.join().unwrap();
    assert_eq!(handle.status().stats.messages_in, COUNT as u64);
    handle.close().unwrap();
    assert_ends_with_user_close(&events);
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

#[test]
fn a_consumer_stalled_past_the_pong_timeout_keeps_the_connection() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = Builder::new(&server.url())
        .unwrap()
        .event_capacity(CAPACITY)
        .heartbeat(TIGHT_HEARTBEAT)
        .connect(&event_loop, Plain)
        .expect("connect");
    for i in 0..COUNT {
        handle.send_text(format!("m{i}")).unwrap();
    }
    wait_for_messages_in(&handle, (CAPACITY - 2) as u64);
    // Reading stopped for the consumer's sake: pongs and data wait unread
    // for many pong and idle timeouts. Only waiting can show that neither
    // deadline fires.
    std::thread::sleep(STALL);
    let mut next = 0;
    while next < COUNT {
        match next_event(&events) {
            Event::Message(m) => {
                assert_eq!(index(&m), next);
                next += 1;
            }
            Event::Connected | Event::Ready | Event::Pong { .. } => {}
            other => panic!("the connection was not kept: {other:?}"),
        }
    }
    // Liveness checks run again once reading resumed.
    let rtt = handle.ping().unwrap();
    assert!(rtt < STEP);
    assert_eq!(handle.status().stats.reconnects, 0);
    handle.close().unwrap();
}

#[test]
fn dropping_the_consumer_reading_waits_for_resumes_reading_at_once() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = Builder::new(&server.url())
        .unwrap()
        .event_capacity(CAPACITY)
        .heartbeat(HeartbeatConfig {
            ping_interval: None, // no timer may wake the loop
            ..HeartbeatConfig::default()
        })
        .stable_after(Duration::from_secs(3600)) // nor may this one
        .connect(&event_loop, Plain)
        .expect("connect");
    // 64 x 32 KiB: more than one read, so reading can stop between reads,
    // and little enough for any loopback buffers (sends never block).
    for _ in 0..LARGE_COUNT {
        handle.send_binary(vec![7; 32 * 1024]).unwrap();
    }
    wait_for_messages_in(&handle, 1);
    // Only waiting can show that reading stopped: the count holds still
    // across a second wait, far below what was sent.
    std::thread::sleep(Duration::from_millis(300));
    let stalled = handle.status().stats.messages_in;
    std::thread::sleep(Duration::from_millis(300));
    let still = handle.status().stats.messages_in;
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
    wait_for_messages_in(&handle, LARGE_COUNT as u64);
    // At once: the 2 MiB left take far less than the 10 s bound of the wait.
    let resumed_in = dropped_at.elapsed();
    assert!(resumed_in < Duration::from_secs(2), "{resumed_in:?}");
    handle.close().unwrap();
}

#[test]
fn a_dropped_consumer_does_not_stall_backpressure() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server, LagPolicy::Backpressure);
    drop(handle.events());
    for i in 0..COUNT {
        handle.send_text(format!("m{i}")).unwrap();
    }
    let mut next = 0;
    while next < COUNT {
        match next_event(&events) {
            Event::Message(m) => {
                assert_eq!(index(&m), next);
                next += 1;
            }
            Event::Connected | Event::Ready => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    handle.close().unwrap();
}

#[test]
fn drop_oldest_reports_lagged_and_keeps_the_newest() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server, LagPolicy::DropOldest);
    for i in 0..COUNT {
        handle.send_text(format!("m{i}")).unwrap();
    }
    // The driver keeps reading although nobody receives.
    wait_for_messages_in(&handle, COUNT as u64);
    assert!(
        matches!(next_event(&events), Event::Lagged { dropped } if dropped > 0),
        "the consumer is told first"
    );
    // Lifecycle events are never dropped.
    assert_eq!(next_event(&events), Event::Connected);
    assert_eq!(next_event(&events), Event::Ready);
    let (received, more_dropped) = drain_lagging(&events);
    assert_eq!(more_dropped, 0);
    assert!(received.len() <= CAPACITY, "{received:?}");
    assert_eq!(received.last(), Some(&(COUNT - 1)), "the newest survives");
    assert!(
        received.windows(2).all(|w| w[0] + 1 == w[1]),
        "{received:?}"
    );
    handle.close().unwrap();
    assert_ends_with_user_close(&events);
}

#[test]
fn drop_oldest_counts_every_dropped_message() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server, LagPolicy::DropOldest);
    for i in 0..COUNT {
        handle.send_text(format!("m{i}")).unwrap();
    }
    wait_for_messages_in(&handle, COUNT as u64);
    let (received, dropped) = drain_lagging(&events);
    assert!(dropped > 0);
    assert_eq!(
        received.len() as u64 + dropped,
        COUNT as u64,
        "{received:?}"
    );
    handle.close().unwrap();
    assert_ends_with_user_close(&events);
}

#[test]
fn a_lagging_consumer_does_not_hold_back_another() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, lagging) = connect(&event_loop, &server, LagPolicy::DropOldest);
    let keeping_up = handle.events_with(CAPACITY, LagPolicy::DropOldest);
    for i in 0..COUNT {
        handle.send_text(format!("m{i}")).unwrap();
        match next_event(&keeping_up) {
            Event::Message(m) => assert_eq!(index(&m), i),
            other => panic!("expected message {i}, got {other:?}"),
        }
    }
    assert!(
        matches!(next_event(&lagging), Event::Lagged { dropped } if dropped > 0),
        "the lagging consumer is told"
    );
    assert_eq!(next_event(&lagging), Event::Connected);
    assert_eq!(next_event(&lagging), Event::Ready);
    let (received, _) = drain_lagging(&lagging);
    assert!(received.len() < COUNT);
    assert_eq!(received.last(), Some(&(COUNT - 1)));
    handle.close().unwrap();
    assert_ends_with_user_close(&keeping_up);
    assert_ends_with_user_close(&lagging);
}

#[test]
fn a_callback_gets_every_event_on_the_loop_thread() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = {
        let seen = seen.clone();
        Builder::new(&server.url())
            .unwrap()
            .connect_with_callback(&event_loop, Plain, move |event| {
                seen.lock().unwrap().push(event.clone());
                if let Event::Message(m) = event
                    && index(m) == COUNT - 1
                {
                    let _ = tx.send(());
                }
            })
            .expect("connect")
    };
    for i in 0..COUNT {
        handle.send_text(format!("m{i}")).unwrap();
    }
    rx.recv_timeout(STEP).expect("the last message in time");
    handle.close().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(&seen[..2], &[Event::Connected, Event::Ready]);
    let indices: Vec<usize> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(index(m)),
            _ => None,
        })
        .collect();
    assert_eq!(indices, (0..COUNT).collect::<Vec<_>>());
    assert!(
        matches!(seen.last(), Some(Event::Closed { .. })),
        "{seen:?}"
    );
}
