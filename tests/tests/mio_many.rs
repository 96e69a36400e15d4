//! Many connections on one event loop: 200 sessions share one thread, one
//! `mio::Poll` and one heap of deadlines.

use std::time::{Duration, Instant};
use wsnova_mio::ConnectOn as _;

use wsnova_core::session::{Event, HeartbeatConfig, Plain, SessionState};
use wsnova_core::wire::Message;
use wsnova_mio::{Builder, EventLoop, Events, Handle};
use wsnova_tests::EchoServer;

const STEP: Duration = Duration::from_secs(20);
const CONNECTIONS: usize = 200;

fn next_event(events: &Events) -> Event {
    events.recv_timeout(STEP).expect("an event in time")
}

fn open_all(
    event_loop: &EventLoop,
    server: &EchoServer,
    ping: Option<Duration>,
) -> Vec<(Handle, Events)> {
    let heartbeat = HeartbeatConfig {
        ping_interval: ping,
        pong_timeout: Duration::from_secs(5),
        idle_timeout: None,
    };
    // All dial at once; then each must become ready.
    let all: Vec<(Handle, Events)> = (0..CONNECTIONS)
        .map(|_| {
            Builder::new(&server.url())
                .unwrap()
                .heartbeat(heartbeat)
                .spawn_without_waiting(event_loop, Plain)
                .unwrap()
        })
        .collect();
    for (i, (_, events)) in all.iter().enumerate() {
        assert_eq!(next_event(events), Event::Connected, "connection {i}");
        assert_eq!(next_event(events), Event::Ready, "connection {i}");
    }
    all
}

#[test]
fn two_hundred_connections_echo_on_one_loop() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let all = open_all(&event_loop, &server, None);
    assert_eq!(event_loop.connections(), CONNECTIONS);
    assert_eq!(server.connections_accepted(), CONNECTIONS);
    for (i, (handle, _)) in all.iter().enumerate() {
        handle.send_text(format!("from {i}")).unwrap();
        handle.send_binary(vec![i as u8; 1000 + i]).unwrap();
    }
    for (i, (_, events)) in all.iter().enumerate() {
        assert_eq!(
            next_event(events),
            Event::Message(Message::text(format!("from {i}")))
        );
        assert_eq!(
            next_event(events),
            Event::Message(Message::binary(vec![i as u8; 1000 + i]))
        );
    }
    for (handle, _) in &all {
        handle.close().unwrap();
    }
    for (handle, events) in &all {
        assert_eq!(handle.status().state, SessionState::Closed);
        let mut last = None;
        while let Ok(event) = events.recv_timeout(STEP) {
            last = Some(event);
        }
        assert!(matches!(last, Some(Event::Closed { .. })), "{last:?}");
    }
    assert_eq!(event_loop.connections(), 0);
}

#[test]
fn heartbeats_of_two_hundred_connections_run_from_one_timer_heap() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let all = open_all(&event_loop, &server, Some(Duration::from_millis(20)));
    // Every session pings on its own schedule; the loop fires each one.
    let deadline = Instant::now() + STEP;
    for (i, (handle, _)) in all.iter().enumerate() {
        while handle.status().stats.last_rtt.is_none() {
            assert!(Instant::now() < deadline, "connection {i} never pinged");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    for (handle, _) in &all {
        let status = handle.status();
        assert_eq!(status.state, SessionState::Ready);
        assert_eq!(status.stats.reconnects, 0);
    }
    // Dropping the loop closes them all (bounded) and joins its thread.
    drop(event_loop);
    for (handle, _) in &all {
        assert_eq!(handle.status().state, SessionState::Closed);
    }
}
