//! A pool connection's budget of (un)subscribe messages per second: what
//! waits for it goes exactly when it frees up (the pool asks to be woken
//! then), never at a later, unrelated wake-up, and never early.

use std::time::{Duration, Instant};

use wsnova_core::pool::PoolLimits;
use wsnova_tests::sim::{PoolSim, TestRpc};

const LIMIT: Duration = Duration::from_secs(10);

/// When each (un)subscribe message reached the server.
fn subscribe_messages(sim: &PoolSim<TestRpc>) -> Vec<(String, Instant)> {
    sim.server
        .received
        .iter()
        .zip(&sim.received_at)
        .filter(|(r, _)| r.method.ends_with("subscribe"))
        .map(|(r, at)| (r.method.clone(), *at))
        .collect()
}

fn one_a_second() -> PoolLimits {
    PoolLimits {
        max_subscribe_messages_per_second: Some(1),
        ..PoolLimits::default()
    }
}

#[test]
fn a_subscribe_waiting_for_the_budget_goes_the_moment_it_frees_up() {
    let mut sim = PoolSim::new(TestRpc::default(), one_a_second(), |c| {
        c.heartbeat.ping_interval = None; // nothing else wakes the pool
    });
    sim.connect();
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, LIMIT));
    // The budget is spent for a second: ticker.B waits for it.
    sim.subscribe(&["ticker.B"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 2, LIMIT));
    let confirmed: Vec<&str> = sim.pool.confirmed_channels().collect();
    assert_eq!(confirmed, ["ticker.A", "ticker.B"]);
    let sent = subscribe_messages(&sim);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let gap = sent[1].1 - sent[0].1;
    assert!(
        gap >= Duration::from_secs(1) && gap <= Duration::from_millis(1_001),
        "the second subscribe came {gap:?} after the first"
    );
}

#[test]
fn an_unsubscribe_and_a_subscribe_share_the_budget_in_turn() {
    let mut sim = PoolSim::new(TestRpc::default(), one_a_second(), |c| {
        c.heartbeat.ping_interval = None;
    });
    sim.connect();
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, LIMIT));
    sim.run_for(Duration::from_secs(2)); // a full budget again
    sim.unsubscribe(&["ticker.A"]);
    sim.subscribe(&["ticker.B"]);
    assert!(sim.run_until(
        |s| s.confirmed_everywhere() == 1 && s.server_subscriptions() == ["ticker.B"],
        LIMIT
    ));
    let confirmed: Vec<&str> = sim.pool.confirmed_channels().collect();
    assert_eq!(confirmed, ["ticker.B"], "the unsubscribed one is gone");
    let sent = subscribe_messages(&sim);
    let methods: Vec<&str> = sent.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        methods,
        ["public/subscribe", "public/unsubscribe", "public/subscribe"]
    );
    let gap = sent[2].1 - sent[1].1;
    assert!(
        gap >= Duration::from_secs(1) && gap <= Duration::from_millis(1_001),
        "the subscribe came {gap:?} after the unsubscribe"
    );
}

#[test]
fn channels_waiting_for_the_connection_window_get_their_connection_the_moment_it_frees_up() {
    let limits = PoolLimits {
        max_streams_per_connection: Some(1),
        max_new_connections: Some(1),
        per_window: Duration::from_secs(10),
        ..PoolLimits::default()
    };
    let mut sim = PoolSim::new(TestRpc::default(), limits, |c| {
        c.heartbeat.ping_interval = None; // nothing else wakes the pool
    });
    sim.connect();
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, LIMIT));
    sim.subscribe(&["ticker.B"]); // needs a second connection: the window is full
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 2, Duration::from_secs(15)));
    assert_eq!(sim.dials.len(), 2);
    let wait = sim.dials[1].0 - sim.dials[0].0;
    assert!(
        wait >= Duration::from_secs(10) && wait <= Duration::from_millis(10_001),
        "the second connection opened {wait:?} after the first"
    );
}
