//! Generations: every dial has a new generation, input tagged with an older
//! one (a late event from a dead socket) changes nothing, and the client never
//! holds two transports at once.

use std::time::Duration;

use wsnova_core::session::{Event, Input, SessionConfig, SessionState};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(60);

fn is_ready(sim: &Sim<TestRpc>) -> bool {
    sim.client.state() == SessionState::Ready
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

/// Drops the connection and runs until the next one is ready.
fn reconnect(sim: &mut Sim<TestRpc>) {
    sim.drop_connection();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert!(sim.run_until(is_ready, LIMIT));
    sim.take_events();
}

#[test]
fn stale_input_after_a_reconnect_changes_nothing() {
    let mut sim = ready_sim(|_| {});
    reconnect(&mut sim);
    assert_eq!(sim.client.generation(), 2);
    sim.run_for(Duration::from_millis(100));
    sim.take_events();
    let before = sim.stale_snapshot();

    sim.feed_stale(1);
    assert_eq!(sim.client.poll_output(), None, "no output at all");
    assert_eq!(sim.stale_snapshot(), before);

    // Nor later: the current connection stays up and nothing is redialed.
    sim.run_for(Duration::from_secs(60));
    assert_eq!(
        sim.take_events()
            .iter()
            .filter(|e| !matches!(e, Event::Pong { .. }))
            .count(),
        0
    );
    assert_eq!(sim.client.state(), SessionState::Ready);
    assert_eq!(sim.dials.len(), 2);
    assert_eq!(sim.live_generation(), Some(2));

    // The live connection still works.
    let id = sim.request("echo", r#"{"x":1}"#);
    sim.drive();
    assert!(
        sim.events
            .iter()
            .any(|e| matches!(e, Event::Response { id: i, .. } if *i == id))
    );
}

#[test]
fn stale_input_while_backing_off_neither_connects_nor_dials() {
    let mut sim = ready_sim(|c| c.backoff.base = Duration::from_secs(5));
    sim.drop_connection();
    assert!(sim.run_until(has_disconnected, LIMIT));
    sim.take_events();
    assert_eq!(sim.client.state(), SessionState::BackingOff);
    let before = sim.stale_snapshot();

    // The generation that was just lost is now stale too.
    sim.feed_stale(1);
    assert_eq!(sim.client.poll_output(), None);
    assert_eq!(sim.stale_snapshot(), before);
    assert_eq!(sim.client.state(), SessionState::BackingOff);
}

#[test]
fn input_for_a_future_generation_is_ignored() {
    let mut sim = ready_sim(|_| {});
    let before = sim.stale_snapshot();
    sim.feed_stale(7);
    assert_eq!(sim.client.poll_output(), None);
    assert_eq!(sim.stale_snapshot(), before);
}

#[test]
fn stale_connected_during_the_next_attempt_does_not_open_it() {
    let mut sim = ready_sim(|_| {});
    sim.blackhole_dials = true;
    sim.drop_connection();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert!(sim.run_until(|s| s.dials.len() == 2, LIMIT));
    sim.run_for(Duration::from_millis(50));
    assert_eq!(sim.client.state(), SessionState::Connecting);
    sim.take_events();

    let now = sim.now;
    sim.client
        .handle_input(now, Input::Connected { generation: 1 });
    sim.client
        .handle_input(now, Input::Closed { generation: 1 });
    assert_eq!(sim.client.poll_output(), None);
    assert_eq!(sim.client.state(), SessionState::Connecting);
}

#[test]
fn never_more_than_one_live_transport_across_many_losses() {
    let mut sim = ready_sim(|c| {
        c.heartbeat.ping_interval = Some(Duration::from_secs(1));
        c.heartbeat.pong_timeout = Duration::from_secs(2);
        c.connect_timeout = Duration::from_secs(3);
    });
    assert_eq!(sim.max_live_transports, 1);

    // A server drop.
    reconnect(&mut sim);
    // A half-open path.
    sim.stall();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert!(sim.run_until(is_ready, LIMIT));
    sim.take_events();
    // A server close frame.
    let generation = sim.live_generation().expect("connected");
    sim.server.close(generation, 1001, "restart");
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert!(sim.run_until(is_ready, LIMIT));
    sim.take_events();
    // Refused dials and a hung dial.
    sim.refuse_dials = 2;
    sim.drop_connection();
    assert!(sim.run_until(has_disconnected, LIMIT));
    sim.blackhole_dials = true;
    assert!(sim.run_until(|s| s.dials.len() >= 7, LIMIT));
    sim.blackhole_dials = false;
    assert!(sim.run_until(is_ready, LIMIT));

    assert!(sim.dials.len() >= 8, "{:?}", sim.dials);
    let generations: Vec<u64> = sim.dials.iter().map(|(_, g)| *g).collect();
    let expected: Vec<u64> = (1..=sim.dials.len() as u64).collect();
    assert_eq!(generations, expected, "one new generation per dial");
    assert_eq!(sim.max_live_transports, 1);
    assert_eq!(sim.live_generation(), Some(sim.client.generation()));
}

#[test]
fn duplicate_connected_for_the_live_generation_is_ignored() {
    let mut sim = ready_sim(|_| {});
    let before = sim.stale_snapshot();
    let now = sim.now;
    sim.client
        .handle_input(now, Input::Connected { generation: 1 });
    assert_eq!(sim.client.poll_output(), None);
    assert_eq!(sim.stale_snapshot(), before);
    let id = sim.request("echo", "{}");
    sim.drive();
    assert!(
        sim.events
            .iter()
            .any(|e| matches!(e, Event::Response { id: i, .. } if *i == id))
    );
}
