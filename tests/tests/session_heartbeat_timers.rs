//! The heartbeat's deadlines in virtual time, each checked to the
//! millisecond against the fake exchange: pings carry a counter from 1, a
//! round trip longer than the ping interval is healthy, new settings move
//! the pong and idle deadlines at once, a ping lost with its connection is
//! not waited for on the next one, and time spent not reading moves each
//! deadline only reading can meet (the upgrade, a pong, a request of the
//! core's own) on by the pause.

use std::time::Duration;

use wsnova_core::session::{DisconnectReason, Event, HeartbeatConfig, SessionConfig, SessionState};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(120);
const SECOND: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);
const PONG_TIMEOUT: Duration = Duration::from_secs(2);

/// No ping timer, no idle timeout: pings only when the test sends one.
const EXPLICIT_PINGS: HeartbeatConfig = HeartbeatConfig {
    ping_interval: None,
    pong_timeout: PONG_TIMEOUT,
    idle_timeout: None,
};

fn explicit_pings(config: &mut SessionConfig) {
    config.heartbeat = EXPLICIT_PINGS;
}

/// A ping every second, each answered within 2 s.
fn every_second(config: &mut SessionConfig) {
    config.heartbeat = HeartbeatConfig {
        ping_interval: Some(SECOND),
        ..EXPLICIT_PINGS
    };
}

fn losses(sim: &Sim<TestRpc>) -> Vec<DisconnectReason> {
    sim.events
        .iter()
        .filter_map(|e| match e {
            Event::Disconnected { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

fn has_disconnected(sim: &Sim<TestRpc>) -> bool {
    !losses(sim).is_empty()
}

fn ready(configure: impl FnOnce(&mut SessionConfig)) -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), configure);
    sim.connect_until_ready();
    sim.take_events();
    sim
}

#[test]
fn ping_payloads_count_up_from_one_on_every_kind_of_ping() {
    let mut sim = ready(every_second);
    sim.run_for(3 * SECOND + 500 * MS);
    sim.client.ping(sim.now).unwrap();
    sim.drive();
    let generation = sim.client.generation();
    let counters: Vec<u64> = sim
        .server
        .pings
        .iter()
        .map(|(g, payload)| {
            assert_eq!(*g, generation);
            u64::from_be_bytes(payload.as_slice().try_into().expect("8 bytes"))
        })
        .collect();
    // Three from the timer, then the one asked for.
    assert_eq!(counters, [1, 2, 3, 4]);
}

#[test]
fn a_round_trip_longer_than_the_ping_interval_is_healthy() {
    // 1.2 s round trips with a ping every second: when a pong arrives the
    // next ping is already waiting, and its deadline is its own.
    let mut sim = Sim::new(TestRpc::default(), every_second);
    sim.latency = 600 * MS;
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    sim.run_for(10 * SECOND);
    assert_eq!(losses(&sim), []);
    let rtts: Vec<Duration> = sim
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Pong { rtt } => Some(*rtt),
            _ => None,
        })
        .collect();
    assert!(rtts.len() >= 8, "{rtts:?}");
    assert!(rtts.iter().all(|rtt| *rtt == 1_200 * MS), "{rtts:?}");
    // The same round trips in the stats.
    let ping_rtt = sim.client.stats().ping_rtt;
    assert_eq!(ping_rtt.samples, rtts.len());
    assert_eq!(
        (ping_rtt.p50, ping_rtt.p99),
        (Some(1_200 * MS), Some(1_200 * MS))
    );
}

#[test]
fn a_shorter_pong_timeout_applies_to_the_ping_already_waiting() {
    let mut sim = ready(explicit_pings);
    sim.stall();
    sim.client.ping(sim.now).unwrap();
    let pinged_at = sim.now;
    sim.run_for(500 * MS);
    let shorter = HeartbeatConfig {
        pong_timeout: SECOND,
        ..EXPLICIT_PINGS
    };
    sim.client.set_heartbeat(sim.now, shorter).unwrap();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert_eq!(sim.now - pinged_at, SECOND);
    assert_eq!(losses(&sim), [DisconnectReason::PongTimeout]);
}

#[test]
fn an_idle_timeout_set_on_an_open_connection_counts_from_then() {
    let mut sim = ready(explicit_pings);
    sim.stall();
    sim.run_for(3 * SECOND);
    let set_at = sim.now;
    let idle = HeartbeatConfig {
        idle_timeout: Some(5 * SECOND),
        ..EXPLICIT_PINGS
    };
    sim.client.set_heartbeat(sim.now, idle).unwrap();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert_eq!(sim.now - set_at, 5 * SECOND);
    assert_eq!(losses(&sim), [DisconnectReason::IdleTimeout]);
}

#[test]
fn a_ping_lost_with_its_connection_is_not_waited_for_on_the_next() {
    let mut sim = ready(explicit_pings);
    sim.stall();
    sim.client.ping(sim.now).unwrap();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert_eq!(losses(&sim), [DisconnectReason::PongTimeout]);
    let first = sim.client.generation();
    assert!(sim.run_until(
        |s| s.client.generation() > first && s.client.state() == SessionState::Ready,
        LIMIT
    ));
    // New settings re-arm the pong deadline from the oldest ping waiting:
    // on this connection there is none.
    sim.client.set_heartbeat(sim.now, EXPLICIT_PINGS).unwrap();
    sim.run_for(10 * SECOND);
    assert_eq!(
        losses(&sim),
        [DisconnectReason::PongTimeout],
        "one loss only"
    );
}

#[test]
fn a_connect_deadline_moves_on_by_the_time_reading_was_paused() {
    let mut sim = Sim::new(TestRpc::default(), |config| {
        explicit_pings(config);
        config.connect_timeout = 10 * SECOND;
    });
    sim.blackhole_dials = true;
    sim.connect();
    let dialed_at = sim.now;
    sim.run_for(3 * SECOND);
    sim.pause_reading(true);
    sim.run_for(20 * SECOND);
    assert_eq!(losses(&sim), []);
    sim.pause_reading(false);
    assert!(sim.run_until(has_disconnected, LIMIT));
    // 10 s of connect timeout plus the 20 s paused.
    assert_eq!(sim.now - dialed_at, 30 * SECOND);
    assert_eq!(losses(&sim), [DisconnectReason::ConnectTimeout]);
}

#[test]
fn a_pong_deadline_moves_on_by_the_time_reading_was_paused() {
    let mut sim = ready(explicit_pings);
    sim.stall();
    sim.client.ping(sim.now).unwrap();
    let pinged_at = sim.now;
    sim.run_for(500 * MS);
    sim.pause_reading(true);
    sim.run_for(30 * SECOND);
    assert_eq!(losses(&sim), []);
    sim.pause_reading(false);
    assert!(sim.run_until(has_disconnected, LIMIT));
    // 2 s of pong timeout plus the 30 s paused.
    assert_eq!(sim.now - pinged_at, 32 * SECOND);
    assert_eq!(losses(&sim), [DisconnectReason::PongTimeout]);
}

#[test]
fn a_subscribe_waiting_through_a_pause_keeps_the_rest_of_its_timeout() {
    // `request_timeout` is 10 s by default.
    let mut sim = ready(explicit_pings);
    // The subscribe takes 100 s to arrive (and what follows it on the
    // stream with it): only its timeout can make the client write again.
    sim.latency = 100 * SECOND;
    sim.subscribe(&["ticker.A"]);
    sim.step();
    let sent_at = sim.now;
    let writes = |sim: &Sim<TestRpc>| sim.trace.iter().filter(|t| t.contains("Transmit")).count();
    let written = writes(&sim);
    sim.run_for(SECOND);
    sim.pause_reading(true);
    sim.run_for(30 * SECOND);
    sim.pause_reading(false);
    // 10 s of timeout plus the 30 s paused: asked again at 40 s.
    sim.run_for(sent_at + 40 * SECOND - sim.now - MS);
    assert_eq!(writes(&sim), written);
    sim.run_for(2 * MS);
    assert_eq!(writes(&sim), written + 1, "{:?}", sim.trace);
    assert_eq!(losses(&sim), []);
}
