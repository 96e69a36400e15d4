//! Determinism: the same seed, start and script give the same trace of
//! outputs, output for output; a different seed changes the jittered
//! reconnect schedule.

use std::time::{Duration, Instant};

use serde_json::json;
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Event, Jitter, SessionConfig, SessionState,
};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(120);

fn is_ready(sim: &Sim<TestRpc>) -> bool {
    sim.client.state() == SessionState::Ready
}

fn has_disconnected(sim: &Sim<TestRpc>) -> bool {
    sim.events
        .iter()
        .any(|e| matches!(e, Event::Disconnected { .. }))
}

/// Heartbeats every second and full-jitter backoff from `seed`.
fn config(seed: u64) -> impl FnOnce(&mut SessionConfig) {
    move |config| {
        config.seed = seed;
        config.heartbeat.ping_interval = Some(Duration::from_secs(1));
        config.heartbeat.pong_timeout = Duration::from_secs(2);
        config.backoff = BackoffConfig {
            strategy: BackoffStrategy::Jittered(Jitter::Full),
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_attempts: None,
        };
    }
}

/// Connect, subscribe, requests, a notification, a drop, a stall; returns the sim.
fn scripted_run(start: Instant, seed: u64) -> Sim<TestRpc> {
    let mut sim = Sim::with_start(TestRpc::default(), start, config(seed));
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    sim.subscribe(&["ticker.A", "ticker.B"]);
    for i in 0..3 {
        sim.request("echo", &json!({ "i": i }).to_string());
    }
    sim.request("silent", "{}");
    sim.run_for(Duration::from_millis(1_500));
    sim.server.notify("ticker.A", json!({"price": 1}));
    sim.run_for(Duration::from_millis(100));

    sim.drop_connection();
    assert!(sim.run_until(has_disconnected, LIMIT));
    sim.take_events();
    assert!(sim.run_until(|s| s.is_ready_and_consistent(), LIMIT));
    sim.request("echo", "[1]");

    sim.stall();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert!(sim.run_until(|s| s.is_ready_and_consistent(), LIMIT));
    sim.run_for(Duration::from_secs(3));
    sim
}

/// Dial times relative to the start, when every one of `refused` dials fails.
fn dial_schedule(seed: u64, refused: u32) -> Vec<Duration> {
    let mut sim = Sim::new(TestRpc::default(), config(seed));
    sim.refuse_dials = refused;
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    assert_eq!(sim.dials.len(), refused as usize + 1);
    sim.dials.iter().map(|(at, _)| *at - sim.start).collect()
}

#[test]
fn same_seed_and_script_give_identical_traces() {
    let start = Instant::now();
    let a = scripted_run(start, 42);
    let b = scripted_run(start, 42);

    assert!(a.trace.len() > 30, "a substantial trace: {:#?}", a.trace);
    assert!(a.trace.iter().any(|line| line.contains("Dial")));
    assert!(a.trace.iter().any(|line| line.contains("Notification")));
    assert!(a.trace.iter().any(|line| line.contains("PongTimeout")));
    for (i, (x, y)) in a.trace.iter().zip(&b.trace).enumerate() {
        assert_eq!(x, y, "traces diverge at output {i}");
    }
    assert_eq!(a.trace.len(), b.trace.len());
    assert_eq!(a.dials, b.dials);
    assert_eq!(a.client.stats(), b.client.stats());
}

#[test]
fn same_seed_gives_the_same_jittered_dial_schedule() {
    assert_eq!(dial_schedule(7, 5), dial_schedule(7, 5));
}

#[test]
fn different_seed_gives_a_different_jittered_dial_schedule() {
    let one = dial_schedule(1, 5);
    let two = dial_schedule(2, 5);
    assert_ne!(one, two);
    // Both still follow the policy: each gap is the refusal latency plus a
    // delay within the full-jitter bounds of its attempt.
    // Full jitter, base 200 ms, cap 10 s (see `config`): uniform in
    // [0, min(10 s, 200 ms × 2^(attempt − 1))], written out by hand.
    let ceilings_ms = [200, 400, 800, 1600, 3200, 6400, 10_000];
    for schedule in [one, two] {
        for (ceiling_ms, w) in ceilings_ms.iter().zip(schedule.windows(2)) {
            let delay = w[1] - w[0] - Duration::from_millis(1);
            assert!(
                delay <= Duration::from_millis(*ceiling_ms),
                "{delay:?} > {ceiling_ms} ms"
            );
        }
    }
}

#[test]
fn different_seed_changes_the_trace_of_the_same_script() {
    let start = Instant::now();
    let a = scripted_run(start, 42);
    let b = scripted_run(start, 43);
    assert_ne!(a.trace, b.trace);
}
