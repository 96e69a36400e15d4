//! The mio driver reconnects: the echo server drops its connections or
//! closes them with a code while its listener stays open, and the handle
//! goes Disconnected → Reconnecting → Connected → Ready and echoes again.

use std::time::Duration;
use wsnova_mio::ConnectOn as _;

use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, DisconnectReason, Event, Initiator, Plain, SessionState,
};
use wsnova_core::wire::{CloseCode, Message, WireError};
use wsnova_mio::{Builder, EventLoop, Events, Handle};
use wsnova_tests::EchoServer;

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

fn connect(event_loop: &EventLoop, server: &EchoServer) -> (Handle, Events) {
    connect_with(event_loop, server, Duration::from_secs(2))
}

fn connect_with(
    event_loop: &EventLoop,
    server: &EchoServer,
    stable_after: Duration,
) -> (Handle, Events) {
    Builder::new(&server.url())
        .unwrap()
        .backoff(backoff())
        .stable_after(stable_after)
        .connect(event_loop, Plain)
        .expect("connect")
}

fn next_event(events: &Events) -> Event {
    events.recv_timeout(STEP).expect("an event in time")
}

/// The next event that is not a data message or a pong.
fn next_lifecycle(events: &Events) -> Event {
    loop {
        match next_event(events) {
            Event::Message(_) | Event::Pong { .. } => continue,
            e => return e,
        }
    }
}

/// The next data message; fails on any lifecycle event.
fn next_message(events: &Events) -> Message {
    loop {
        match next_event(events) {
            Event::Message(m) => return m,
            Event::Pong { .. } => continue,
            e => panic!("expected a message, got {e:?}"),
        }
    }
}

fn skip_first_ready(events: &Events) {
    assert_eq!(next_event(events), Event::Connected);
    assert_eq!(next_event(events), Event::Ready);
}

/// After a `Disconnected`: exactly `Reconnecting { attempt: 1 }`, `Connected`, `Ready`.
fn expect_first_retry_succeeds(events: &Events) {
    assert_eq!(next_event(events), Event::Reconnecting { attempt: 1 });
    assert_eq!(next_event(events), Event::Connected);
    assert_eq!(next_event(events), Event::Ready);
}

/// Sends `n` messages tagged with `tag` and checks they all echo back in order.
fn echo_round(handle: &Handle, events: &Events, tag: &str, n: usize) {
    for i in 0..n {
        handle.send_text(format!("{tag}-{i}")).unwrap();
    }
    for i in 0..n {
        assert_eq!(next_message(events), Message::text(format!("{tag}-{i}")));
    }
}

#[test]
fn server_killing_connections_mid_stream_leads_to_reconnect_and_echo() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    skip_first_ready(&events);
    for i in 0..50 {
        handle.send_text(format!("before-{i}")).unwrap();
    }
    assert_eq!(next_message(&events), Message::text("before-0"));
    assert_eq!(server.kill_connections(), 1);

    match next_lifecycle(&events) {
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
    expect_first_retry_succeeds(&events);
    echo_round(&handle, &events, "after", 20);

    let status = handle.status();
    assert_eq!(status.state, SessionState::Ready);
    assert_eq!(status.stats.reconnects, 1);
    assert_eq!(server.connections_accepted(), 2);
    handle.close().unwrap();
}

#[test]
fn server_close_1001_is_reported_with_its_frame_then_reconnects() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    skip_first_ready(&events);
    echo_round(&handle, &events, "before", 3);
    assert_eq!(server.close_connections(1001, "restarting"), 1);

    match next_event(&events) {
        Event::Disconnected {
            reason: DisconnectReason::ServerClosed(frame),
            initiator,
            reconnect_in,
        } => {
            assert_eq!(frame.code, CloseCode::GOING_AWAY);
            assert_eq!(frame.reason.as_str(), "restarting");
            assert_eq!(initiator, Initiator::Remote);
            assert_eq!(reconnect_in, Some(BASE));
        }
        other => panic!("expected Disconnected(ServerClosed), got {other:?}"),
    }
    expect_first_retry_succeeds(&events);
    echo_round(&handle, &events, "after", 3);
    assert_eq!(handle.status().stats.reconnects, 1);
    assert_eq!(server.connections_accepted(), 2);
    handle.close().unwrap();
}

#[test]
fn messages_sent_while_reconnecting_go_out_once_ready() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    skip_first_ready(&events);
    assert_eq!(server.kill_connections(), 1);
    assert!(
        matches!(
            next_event(&events),
            Event::Disconnected {
                initiator: Initiator::Remote,
                ..
            }
        ),
        "the loss comes first"
    );
    assert_ne!(handle.status().state, SessionState::Ready);
    for i in 0..5 {
        handle.send_text(format!("queued-{i}")).unwrap();
    }
    expect_first_retry_succeeds(&events);
    for i in 0..5 {
        assert_eq!(next_message(&events), Message::text(format!("queued-{i}")));
    }
    handle.close().unwrap();
}

#[test]
fn with_stable_after_zero_every_loss_after_ready_starts_a_fresh_streak() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect_with(&event_loop, &server, Duration::ZERO);
    skip_first_ready(&events);
    for round in 1..=3 {
        assert_eq!(server.kill_connections(), 1, "round {round}");
        match next_event(&events) {
            Event::Disconnected { reconnect_in, .. } => {
                assert_eq!(reconnect_in, Some(BASE), "round {round}")
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
        expect_first_retry_succeeds(&events);
        echo_round(&handle, &events, &format!("round{round}"), 2);
    }
    assert_eq!(handle.status().stats.reconnects, 3);
    assert_eq!(server.connections_accepted(), 4);
    handle.close().unwrap();
}

#[test]
fn a_server_that_stays_down_gets_growing_delays_then_close_stops_retrying() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server);
    skip_first_ready(&events);
    drop(server); // listener and connection gone: dials are refused from now on

    let mut delays = Vec::new();
    let mut attempts = Vec::new();
    while delays.len() < 6 {
        match next_lifecycle(&events) {
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
    handle.close().unwrap();
    let mut rest = Vec::new();
    while let Ok(event) = events.recv_timeout(STEP) {
        rest.push(event);
    }
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
    assert_eq!(event_loop.connections(), 0);
}
