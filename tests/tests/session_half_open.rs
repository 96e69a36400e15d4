//! Half-open connections: heartbeat pings find a silent path within
//! `ping_interval + pong_timeout`, and the idle timeout finds a silent server.
//! While the driver does not read (backpressure), neither can fire.

use std::time::Duration;

use wsnova_core::session::{
    Credentials, DisconnectReason, Event, Initiator, SessionConfig, SessionState,
};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(60);
const PING_INTERVAL: Duration = Duration::from_secs(1);
const PONG_TIMEOUT: Duration = Duration::from_secs(2);

fn is_ready(sim: &Sim<TestRpc>) -> bool {
    sim.client.state() == SessionState::Ready
}

fn has_disconnected(sim: &Sim<TestRpc>) -> bool {
    sim.events
        .iter()
        .any(|e| matches!(e, Event::Disconnected { .. }))
}

/// Pings every second, a pong may take 2 s.
fn heartbeats(config: &mut SessionConfig) {
    config.heartbeat.ping_interval = Some(PING_INTERVAL);
    config.heartbeat.pong_timeout = PONG_TIMEOUT;
}

/// No pings; the connection dies after `idle` without input.
fn idle_only(idle: Duration) -> impl FnOnce(&mut SessionConfig) {
    move |config| {
        config.heartbeat.ping_interval = None;
        config.heartbeat.idle_timeout = Some(idle);
    }
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

/// The first `Disconnected` event's reason and initiator.
fn first_loss(events: &[Event]) -> (DisconnectReason, Initiator, Option<Duration>) {
    events
        .iter()
        .find_map(|e| match e {
            Event::Disconnected {
                reason,
                initiator,
                reconnect_in,
            } => Some((reason.clone(), *initiator, *reconnect_in)),
            _ => None,
        })
        .expect("a Disconnected event")
}

fn pong_rtts(events: &[Event]) -> Vec<Duration> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Pong { rtt } => Some(*rtt),
            _ => None,
        })
        .collect()
}

#[test]
fn stalled_path_is_detected_by_pong_timeout_within_interval_plus_timeout() {
    let mut sim = ready_sim(heartbeats);
    // Let a few heartbeats succeed first, so the stall hits mid-interval.
    sim.run_for(Duration::from_millis(2_500));
    assert!(!has_disconnected(&sim));
    sim.stall();
    let stalled_at = sim.now;

    assert!(sim.run_until(has_disconnected, LIMIT));
    let detected_after = sim.now - stalled_at;
    assert!(
        detected_after >= PONG_TIMEOUT && detected_after <= PING_INTERVAL + PONG_TIMEOUT,
        "detected after {detected_after:?}"
    );
    let (reason, initiator, reconnect_in) = first_loss(&sim.events);
    assert_eq!(reason, DisconnectReason::PongTimeout);
    assert_eq!(initiator, Initiator::Library);
    assert!(reconnect_in.is_some());
}

#[test]
fn while_reading_is_paused_no_liveness_deadline_fires_and_a_dead_path_is_found_after() {
    let mut sim = ready_sim(|config| {
        heartbeats(config);
        config.heartbeat.idle_timeout = Some(Duration::from_secs(3));
    });
    sim.run_for(Duration::from_millis(1_500));
    sim.client.set_reading_paused(sim.now, true);
    sim.stall(); // nothing is read: to the session, the same as a dead path
    sim.run_for(Duration::from_secs(30));
    assert!(!has_disconnected(&sim), "{:?}", sim.events);

    sim.client.set_reading_paused(sim.now, false);
    let resumed_at = sim.now;
    assert!(sim.run_until(has_disconnected, LIMIT));
    // Pings go out again on their schedule, each with its full pong timeout.
    let detected_after = sim.now - resumed_at;
    assert!(
        detected_after >= PONG_TIMEOUT && detected_after <= PING_INTERVAL + PONG_TIMEOUT,
        "detected after {detected_after:?}"
    );
    assert_eq!(first_loss(&sim.events).0, DisconnectReason::PongTimeout);
}

#[test]
fn a_token_refresh_answered_during_a_long_pause_does_not_cost_the_connection() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        heartbeats(c);
        c.credentials = Some(Credentials::new("client", "s3cret"));
    });
    sim.server.behaviour.token_lifetime = 10; // refreshed after 8 s
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    sim.take_events();
    sim.pause_reading(true);
    // The refresh goes out at 8 s; its answer waits unread far past the
    // request timeout: the core's own requests are held while paused.
    sim.run_for(Duration::from_secs(60));
    assert!(sim.server.count("public/auth") >= 2, "the refresh was sent");
    assert!(!has_disconnected(&sim), "{:?}", sim.events);
    sim.pause_reading(false);
    sim.run_for(Duration::from_secs(5));
    assert!(!has_disconnected(&sim), "{:?}", sim.events);
    assert!(
        sim.events
            .iter()
            .any(|e| matches!(e, Event::Authenticated { .. })),
        "the refresh's answer is read after the pause"
    );
}

#[test]
fn stall_right_after_ready_is_detected_at_first_ping_plus_pong_timeout() {
    let mut sim = ready_sim(heartbeats);
    sim.stall();
    let stalled_at = sim.now;
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert_eq!(sim.now - stalled_at, PING_INTERVAL + PONG_TIMEOUT);
    assert_eq!(first_loss(&sim.events).0, DisconnectReason::PongTimeout);
}

#[test]
fn after_pong_timeout_the_session_reconnects_on_a_fresh_connection() {
    let mut sim = ready_sim(heartbeats);
    let old = sim.live_generation().expect("connected");
    sim.stall();
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert!(
        !sim.server.is_open(old),
        "the dead socket is closed by the client"
    );
    assert!(sim.run_until(is_ready, LIMIT));

    let new = sim.live_generation().expect("reconnected");
    assert_eq!(new, old + 1);
    assert!(sim.server.is_open(new));
    assert_eq!(sim.dials.len(), 2);
    let events = sim.take_events();
    assert_eq!(
        events[1..],
        [
            Event::Reconnecting { attempt: 1 },
            Event::Connected,
            Event::Ready
        ]
    );

    // The fresh connection is healthy: pings are answered, nothing is lost.
    sim.run_for(Duration::from_secs(10));
    let events = sim.take_events();
    assert!(!has_disconnected(&sim), "{events:?}");
    assert!(pong_rtts(&events).len() >= 9, "{events:?}");
}

#[test]
fn healthy_connection_reports_pongs_with_round_trip_of_twice_the_latency() {
    let mut sim = Sim::new(TestRpc::default(), heartbeats);
    sim.latency = Duration::from_millis(7);
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    sim.take_events();

    sim.run_for(Duration::from_millis(5_500));
    let events = sim.take_events();
    let rtts = pong_rtts(&events);
    assert_eq!(rtts.len(), 5, "one pong per second: {events:?}");
    assert!(rtts.iter().all(|rtt| *rtt == 2 * sim.latency), "{rtts:?}");
    assert_eq!(sim.client.stats().last_rtt, Some(2 * sim.latency));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. }))
    );
}

#[test]
fn silent_server_is_dropped_by_idle_timeout() {
    let idle = Duration::from_secs(3);
    let mut sim = ready_sim(idle_only(idle));
    let ready_at = sim.now;
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert_eq!(
        sim.now - ready_at,
        idle,
        "nothing arrived since the upgrade"
    );
    let (reason, initiator, reconnect_in) = first_loss(&sim.events);
    assert_eq!(reason, DisconnectReason::IdleTimeout);
    assert_eq!(initiator, Initiator::Library);
    assert!(reconnect_in.is_some());
    assert!(sim.run_until(is_ready, LIMIT), "and reconnects");
    assert_eq!(sim.dials.len(), 2);
}

#[test]
fn inbound_traffic_keeps_the_idle_timeout_from_firing() {
    let idle = Duration::from_secs(3);
    let mut sim = ready_sim(idle_only(idle));
    let generation = sim.live_generation().expect("connected");
    for _ in 0..10 {
        sim.server.send_text(generation, "tick");
        sim.run_for(Duration::from_secs(2));
    }
    let events = sim.take_events();
    assert!(!has_disconnected(&sim), "{events:?}");
    let ticks = events
        .iter()
        .filter(|e| matches!(e, Event::Message(_)))
        .count();
    assert_eq!(ticks, 10);

    // Once the server falls silent, the timeout counts from the last message.
    let last_input = sim.now - Duration::from_secs(2) + sim.latency;
    assert!(sim.run_until(has_disconnected, LIMIT));
    assert_eq!(sim.now, last_input + idle);
    assert_eq!(first_loss(&sim.events).0, DisconnectReason::IdleTimeout);
}
