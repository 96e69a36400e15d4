//! The mio driver against tokio-tungstenite's echo server: messages of all
//! sizes, pings, pipelining, a clean close with a code, and `status()`.

use std::time::Duration;

use wsnova_core::session::{
    CloseReason, DisconnectReason, Event, Initiator, Plain, SessionConfig, SessionError,
    SessionState,
};
use wsnova_core::wire::{CloseCode, Message};
use wsnova_mio::{EventLoop, Events, Handle};
use wsnova_tests::EchoServer;

const STEP: Duration = Duration::from_secs(10);

fn connect(event_loop: &EventLoop, server: &EchoServer) -> (Handle, Events) {
    let config = SessionConfig::new(&server.url()).unwrap();
    event_loop.connect(config, Plain).expect("connect")
}

fn next_event(events: &Events) -> Event {
    events.recv_timeout(STEP).expect("an event in time")
}

/// The next data message; fails on a lost connection or the end of the stream.
fn next_message(events: &Events) -> Message {
    loop {
        match next_event(events) {
            Event::Message(m) => return m,
            e @ (Event::Disconnected { .. } | Event::Closed { .. } | Event::Lagged { .. }) => {
                panic!("unexpected {e:?}")
            }
            _ => continue,
        }
    }
}

/// Every event until the stream ends.
fn collect(events: &Events) -> Vec<Event> {
    let mut all = Vec::new();
    loop {
        match events.recv_timeout(STEP) {
            Ok(event) => all.push(event),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return all,
            Err(e) => panic!("the event stream did not end: {e:?} after {all:?}"),
        }
    }
}

/// Exactly 1 MiB of valid UTF-8 with multi-byte characters in it.
fn one_mib_text() -> String {
    let unit = "0123456789ab\u{2713}d"; // 12 + 3 + 1 = 16 bytes
    assert_eq!(unit.len(), 16);
    unit.repeat((1 << 20) / 16)
}

#[test]
fn handles_and_events_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Handle>();
    send_sync::<Events>();
    send_sync::<EventLoop>();
    fn send<T: Send>() {}
    send::<wsnova_mio::Connection>();
}

#[test]
fn text_and_binary_messages_round_trip() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    handle.send_text("hello wsnova").unwrap();
    handle.send_binary([0u8, 1, 2, 255]).unwrap();
    handle.send_text("").unwrap();
    handle.send_binary([]).unwrap();
    assert_eq!(next_message(&events), Message::text("hello wsnova"));
    assert_eq!(next_message(&events), Message::binary(vec![0u8, 1, 2, 255]));
    assert_eq!(next_message(&events), Message::text(""));
    assert_eq!(next_message(&events), Message::binary(Vec::<u8>::new()));
    handle.close().unwrap();
}

#[test]
fn one_mib_text_and_binary_messages_round_trip() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    let text = one_mib_text();
    let binary: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
    handle.send_text(&text).unwrap();
    handle.send_binary(&binary).unwrap();
    match next_message(&events) {
        Message::Text(got) => {
            assert_eq!(got.len(), 1 << 20);
            assert!(got.as_str() == text, "1 MiB text differs");
        }
        other => panic!("expected text, got {} binary bytes", other.len()),
    }
    match next_message(&events) {
        Message::Binary(got) => {
            assert_eq!(got.len(), 1 << 20);
            assert!(got[..] == binary[..], "1 MiB binary differs");
        }
        other => panic!("expected binary, got {} text bytes", other.len()),
    }
    handle.close().unwrap();
}

#[test]
fn ping_returns_a_round_trip_time() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    let rtt = handle.ping().expect("ping on a ready connection");
    assert!(rtt > Duration::ZERO && rtt < STEP, "{rtt:?}");
    assert_eq!(handle.status().stats.last_rtt, Some(rtt));
    // The consumers see the same pong.
    loop {
        match next_event(&events) {
            Event::Pong { rtt: seen } => {
                assert_eq!(seen, rtt);
                break;
            }
            Event::Connected | Event::Ready => continue,
            other => panic!("expected Pong, got {other:?}"),
        }
    }
    // Two pings in flight from two threads are answered, each with its own RTT.
    let other = handle.clone();
    let a = std::thread::spawn(move || other.ping());
    let b = handle.ping();
    assert!(a.join().unwrap().unwrap() < STEP);
    assert!(b.unwrap() < STEP);
    handle.close().unwrap();
}

#[test]
fn a_thousand_pipelined_messages_arrive_in_order() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    for i in 0..1000 {
        if i % 2 == 0 {
            handle.send_text(format!("m{i}")).unwrap();
        } else {
            handle.send_binary(format!("b{i}")).unwrap();
        }
    }
    for i in 0..1000 {
        let want = if i % 2 == 0 {
            Message::text(format!("m{i}"))
        } else {
            Message::binary(format!("b{i}").into_bytes())
        };
        assert_eq!(next_message(&events), want, "message {i}");
    }
    let stats = handle.status().stats;
    assert_eq!((stats.messages_out, stats.messages_in), (1000, 1000));
    handle.close().unwrap();
}

#[test]
fn close_with_a_code_ends_with_user_close_then_closed() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    handle.send_text("last words").unwrap();
    handle
        .close_with(CloseCode::GOING_AWAY, "bye")
        .expect("close accepted");
    assert_eq!(handle.status().state, SessionState::Closed);
    let all = collect(&events);
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
    assert!(
        !all.iter()
            .any(|e| matches!(e, Event::Reconnecting { .. } | Event::Lagged { .. })),
        "{all:?}"
    );
    // A closed handle refuses commands; closing again is a no-op.
    assert_eq!(handle.send_text("late"), Err(SessionError::Closed));
    assert_eq!(handle.ping(), Err(SessionError::Closed));
    assert_eq!(handle.close(), Ok(()));
    // A consumer created after the end ends at once.
    assert!(collect(&handle.events()).is_empty());
    // The loop let go of the connection.
    assert_eq!(event_loop.connections(), 0);
}

#[test]
fn an_invalid_close_code_is_refused_and_the_connection_stays_up() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    let err = handle
        .close_with(CloseCode::ABNORMAL, "1006 may not be sent")
        .unwrap_err();
    assert!(matches!(err, SessionError::Wire(_)), "{err:?}");
    assert_eq!(handle.status().state, SessionState::Ready);
    handle.send_text("still here").unwrap();
    assert_eq!(next_message(&events), Message::text("still here"));
    handle.close().unwrap();
}

#[test]
fn status_reports_ready_and_counters_move() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    let before = handle.status();
    assert_eq!(before.state, SessionState::Ready);
    assert!(before.subscriptions.is_empty());
    assert!(!before.authenticated);
    assert_eq!(before.stats.reconnects, 0);
    assert_eq!(before.stats.last_rtt, None);
    assert!(before.stats.bytes_out > 0 && before.stats.bytes_in > 0);

    let payload = "x".repeat(10_000);
    for _ in 0..3 {
        handle.send_text(&payload).unwrap();
    }
    for _ in 0..3 {
        assert_eq!(next_message(&events).len(), 10_000);
    }
    let rtt = handle.ping().unwrap();
    let after = handle.status();
    assert_eq!(after.stats.messages_out, 3);
    assert_eq!(after.stats.messages_in, 3);
    assert!(after.stats.bytes_out >= before.stats.bytes_out + 30_000);
    assert!(after.stats.bytes_in >= before.stats.bytes_in + 30_000);
    assert_eq!(after.stats.last_rtt, Some(rtt));
    handle.close().unwrap();
    assert_eq!(handle.status().state, SessionState::Closed);
}

#[test]
fn dropping_the_last_handle_closes_the_connection() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    let clone = handle.clone();
    drop(handle);
    clone.send_text("a clone keeps it open").unwrap();
    assert_eq!(
        next_message(&events),
        Message::text("a clone keeps it open")
    );
    drop(clone);
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
    assert_eq!(event_loop.connections(), 0);
}

#[test]
fn dropping_the_loop_ends_the_events_and_fails_later_commands() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    drop(event_loop); // closes every connection, bounded, and joins the thread
    let rest = collect(&events);
    assert!(
        matches!(rest.last(), Some(Event::Closed { .. })),
        "{rest:?}"
    );
    assert_eq!(handle.send_text("after"), Err(SessionError::Closed));
    assert_eq!(handle.status().state, SessionState::Closed);
}
