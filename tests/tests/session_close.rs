//! The application's `close`: a close handshake when connected, `Closed` at
//! once otherwise, exactly one outcome for every open request, and never a
//! dial afterwards.

use std::time::Duration;

use wsnova_core::session::{
    CloseReason, Credentials, DisconnectReason, Event, Initiator, RequestError, RequestId,
    SessionConfig, SessionError, SessionState,
};
use wsnova_core::wire::{CloseCode, WireError};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

fn is_ready(sim: &Sim<TestRpc>) -> bool {
    sim.client.state() == SessionState::Ready
}

fn is_closed(sim: &Sim<TestRpc>) -> bool {
    sim.client.state() == SessionState::Closed
}

fn has_disconnected(sim: &Sim<TestRpc>) -> bool {
    sim.events
        .iter()
        .any(|e| matches!(e, Event::Disconnected { .. }))
}

/// A connected, ready session whose event log is empty.
fn ready_sim(configure: impl FnOnce(&mut SessionConfig)) -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), configure);
    sim.connect();
    assert!(
        sim.run_until(is_ready, LIMIT),
        "the first connection is ready"
    );
    assert_eq!(sim.take_events(), [Event::Connected, Event::Ready]);
    sim
}

/// A session that lost its connection and waits to reconnect (empty event log).
fn backing_off_sim() -> Sim<TestRpc> {
    let mut sim = ready_sim(|c| c.backoff.base = Duration::from_secs(5));
    sim.drop_connection();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert_eq!(sim.client.state(), SessionState::BackingOff);
    sim.take_events();
    sim
}

fn close(sim: &mut Sim<TestRpc>) {
    sim.client
        .close(sim.now, CloseCode::NORMAL, "bye")
        .expect("close is accepted");
}

/// Lets the simulation deliver what is due now, without advancing the clock.
fn settle(sim: &mut Sim<TestRpc>) {
    while sim.step() {}
}

fn user_close_loss() -> Event {
    Event::Disconnected {
        reason: DisconnectReason::UserClose,
        initiator: Initiator::User,
        reconnect_in: None,
    }
}

fn closed_by_user() -> Event {
    Event::Closed {
        reason: CloseReason::User,
    }
}

/// Every outcome (`Response` or `RequestFailed`) reported for `id`.
fn outcomes(events: &[Event], id: RequestId) -> Vec<Event> {
    events
        .iter()
        .filter(|e| {
            matches!(e, Event::Response { id: i, .. } | Event::RequestFailed { id: i, .. } if *i == id)
        })
        .cloned()
        .collect()
}

fn failed_closed(id: RequestId) -> Event {
    Event::RequestFailed {
        id,
        error: RequestError::Closed,
    }
}

#[test]
fn close_while_ready_does_the_handshake_then_closes_for_good() {
    let mut sim = ready_sim(|_| {});
    let closed_at = sim.now;
    close(&mut sim);
    assert_eq!(sim.client.state(), SessionState::Closing);
    assert!(sim.run_until(is_closed, LIMIT));

    // The server's close reply ended the handshake: one round trip, no timeout.
    assert_eq!(sim.now - closed_at, 2 * sim.latency);
    assert_eq!(sim.take_events(), [user_close_loss(), closed_by_user()]);
    assert_eq!(sim.live_generation(), None, "the socket is closed");

    sim.run_for(HOUR);
    assert_eq!(sim.dials.len(), 1, "no dial after close, ever");
    assert_eq!(sim.take_events(), []);
    assert_eq!(sim.client.poll_timeout(), None);
}

#[test]
fn close_while_backing_off_closes_at_once_without_dialing() {
    let mut sim = backing_off_sim();
    close(&mut sim);
    assert_eq!(sim.client.state(), SessionState::Closed);
    settle(&mut sim);
    assert_eq!(sim.take_events(), [closed_by_user()]);

    sim.run_for(HOUR);
    assert_eq!(sim.dials.len(), 1, "the scheduled reconnect is cancelled");
    assert_eq!(sim.take_events(), []);
}

#[test]
fn close_while_connecting_closes_at_once_and_drops_the_attempt() {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    sim.blackhole_dials = true; // the upgrade never completes
    sim.connect();
    sim.run_for(Duration::from_millis(500));
    assert_eq!(sim.client.state(), SessionState::Connecting);
    assert_eq!(sim.live_generation(), Some(1));

    close(&mut sim);
    assert_eq!(sim.client.state(), SessionState::Closed);
    settle(&mut sim);
    assert_eq!(
        sim.live_generation(),
        None,
        "the half-made socket is closed"
    );
    let events = sim.take_events();
    assert_eq!(events.last(), Some(&closed_by_user()), "{events:?}");
    assert!(
        events.iter().all(|e| !matches!(
            e,
            Event::Disconnected {
                reconnect_in: Some(_),
                ..
            }
        )),
        "{events:?}"
    );

    sim.run_for(HOUR);
    assert_eq!(sim.dials.len(), 1, "no connect-timeout retry after close");
    assert_eq!(sim.take_events(), []);
}

#[test]
fn close_before_the_dial_completes_ignores_the_late_socket() {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    sim.connect();
    settle(&mut sim); // the dial is out; its outcome comes one latency later
    assert_eq!(sim.dials.len(), 1);
    close(&mut sim);
    assert_eq!(sim.client.state(), SessionState::Closed);

    sim.run_for(HOUR);
    assert_eq!(sim.client.state(), SessionState::Closed);
    assert_eq!(sim.take_events(), [closed_by_user()]);
    assert_eq!(sim.dials.len(), 1);
    assert_eq!(
        sim.client.stats().bytes_out,
        0,
        "nothing written after close"
    );
}

#[test]
fn close_before_connect_never_dials() {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    close(&mut sim);
    settle(&mut sim);
    assert_eq!(sim.take_events(), [closed_by_user()]);
    assert_eq!(sim.client.connect(sim.now), Err(SessionError::Closed));
    sim.run_for(HOUR);
    assert!(sim.dials.is_empty());
}

#[test]
fn requests_in_flight_at_close_fail_exactly_once_with_closed() {
    let mut sim = ready_sim(|_| {});
    let ids = [sim.request("silent", "{}"), sim.request("silent", "{}")];
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.server.count("silent"), 2, "both were sent");
    assert_eq!(sim.client.pending_requests(), 2);

    close(&mut sim);
    assert!(sim.run_until(is_closed, LIMIT));
    sim.run_for(HOUR); // well past the request timeout
    for id in ids {
        assert_eq!(outcomes(&sim.events, id), [failed_closed(id)], "{id:?}");
    }
    assert_eq!(sim.client.pending_requests(), 0);
}

#[test]
fn requests_queued_while_backing_off_fail_exactly_once_with_closed() {
    let mut sim = backing_off_sim();
    let ids = [sim.request("echo", "{}"), sim.request("echo", "{}")];
    assert_eq!(sim.client.pending_requests(), 2);

    close(&mut sim);
    settle(&mut sim);
    assert_eq!(
        sim.events,
        [
            failed_closed(ids[0]),
            failed_closed(ids[1]),
            closed_by_user()
        ]
    );
    sim.run_for(HOUR);
    for id in ids {
        assert_eq!(outcomes(&sim.events, id), [failed_closed(id)]);
    }
    assert_eq!(sim.client.pending_requests(), 0);
    assert_eq!(sim.server.count("echo"), 0, "never sent");
}

#[test]
fn requests_queued_while_connecting_fail_exactly_once_with_closed() {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    sim.blackhole_dials = true;
    sim.connect();
    sim.run_for(Duration::from_millis(100));
    let id = sim.request("echo", "{}");
    close(&mut sim);
    sim.run_for(HOUR);
    assert_eq!(outcomes(&sim.events, id), [failed_closed(id)]);
    assert_eq!(sim.events.last(), Some(&closed_by_user()));
}

#[test]
fn commands_after_closed_are_refused() {
    let mut sim = ready_sim(|_| {});
    close(&mut sim);
    assert!(sim.run_until(is_closed, LIMIT));
    sim.take_events();

    let now = sim.now;
    let c = &mut sim.client;
    assert_eq!(c.connect(now), Err(SessionError::Closed));
    assert_eq!(c.request(now, "echo", "{}"), Err(SessionError::Closed));
    assert_eq!(
        c.request_json(now, "echo", &[1, 2]),
        Err(SessionError::Closed)
    );
    assert_eq!(c.subscribe(now, &["ticker.A"]), Err(SessionError::Closed));
    assert_eq!(c.unsubscribe(now, &["ticker.A"]), Err(SessionError::Closed));
    assert_eq!(c.send_text(now, "hi"), Err(SessionError::Closed));
    assert_eq!(c.send_binary(now, b"hi"), Err(SessionError::Closed));
    assert_eq!(
        c.authenticate(now, Credentials::new("client", "s3cret")),
        Err(SessionError::Closed)
    );
    assert_eq!(c.ping(now), Err(SessionError::Closed));
    assert_eq!(
        c.close(now, CloseCode::NORMAL, "again"),
        Err(SessionError::Closed)
    );

    sim.run_for(HOUR);
    assert_eq!(sim.take_events(), [], "refused commands have no effect");
    assert_eq!(sim.dials.len(), 1);
    assert_eq!(sim.client.state(), SessionState::Closed);
}

#[test]
fn close_without_an_answer_finishes_after_close_timeout() {
    let close_timeout = Duration::from_secs(2);
    let mut sim = ready_sim(|c| c.close_timeout = close_timeout);
    sim.stall(); // the server will never see our close frame, nor answer it
    let closed_at = sim.now;
    close(&mut sim);
    assert!(sim.run_until(is_closed, LIMIT));

    assert_eq!(sim.now - closed_at, close_timeout);
    assert_eq!(sim.take_events(), [user_close_loss(), closed_by_user()]);
    sim.run_for(HOUR);
    assert_eq!(sim.dials.len(), 1);
    assert_eq!(sim.take_events(), []);
}

#[test]
fn close_with_an_invalid_code_is_refused_and_changes_nothing() {
    let mut sim = ready_sim(|_| {});
    let now = sim.now;
    assert_eq!(
        sim.client
            .close(now, CloseCode::ABNORMAL, "1006 is reserved"),
        Err(SessionError::Wire(WireError::InvalidCloseCode(1006)))
    );
    settle(&mut sim);
    assert_eq!(sim.client.state(), SessionState::Ready);
    assert_eq!(sim.take_events(), []);

    // A valid close still does the handshake.
    close(&mut sim);
    assert_eq!(sim.client.state(), SessionState::Closing);
    assert!(sim.run_until(is_closed, LIMIT));
}

#[test]
fn a_direct_send_goes_only_while_ready_and_never_after_close() {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    assert!(
        !sim.client.try_send_text_direct("early"),
        "not connected yet"
    );
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    assert!(sim.client.try_send_text_direct("hello"));
    assert!(sim.client.try_send_binary_direct(b"bytes"));
    assert!(!sim.client.pending_transmit().is_empty(), "framed at once");
    sim.client
        .close(sim.now, CloseCode::NORMAL, "bye")
        .expect("close");
    assert!(!sim.client.try_send_text_direct("late"), "closing");
    assert!(sim.run_until(is_closed, LIMIT));
    assert!(!sim.client.try_send_binary_direct(b"later"), "closed");
    assert_eq!(
        sim.client.send_text(sim.now, "later"),
        Err(SessionError::Closed)
    );
}

#[test]
fn a_terminal_request_the_server_never_closes_for_ends_the_session_after_close_timeout() {
    let close_timeout = Duration::from_secs(2);
    let adapter = TestRpc {
        terminal_methods: vec!["silent".into()], // recorded, never answered
        ..TestRpc::default()
    };
    let mut sim = Sim::new(adapter, |c| c.close_timeout = close_timeout);
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    sim.take_events();
    let sent_at = sim.now;
    let id = sim.request("silent", "{}");
    sim.run_for(close_timeout - Duration::from_millis(1));
    assert_eq!(sim.server.count("silent"), 1, "written at once");
    assert_ne!(
        sim.client.state(),
        SessionState::Closed,
        "the server's close is awaited"
    );
    assert!(sim.run_until(is_closed, LIMIT));
    assert_eq!(sim.now - sent_at, close_timeout);
    let events = sim.take_events();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0], user_close_loss());
    assert!(
        matches!(&events[1], Event::Response { id: i, result } if *i == id && result.as_str() == "null"),
        "the close was what it asked for: {events:?}"
    );
    assert_eq!(events[2], closed_by_user());
    sim.run_for(HOUR);
    assert_eq!(sim.dials.len(), 1, "never redialed");
}
