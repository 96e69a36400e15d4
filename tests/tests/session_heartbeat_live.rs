//! `Session::set_heartbeat` on a live connection (what `wsnova run` uses on
//! a reload): pings turned on start within the new interval, turned off
//! stop, a shorter pong timeout finds a silent path sooner — all on the
//! same connection (one dial, the same generation). And a recording of a
//! session whose heartbeat changed replays with no divergence.

use std::time::Duration;

use wsnova_core::record::{RecordingSession, replay};
use wsnova_core::session::{
    DisconnectReason, Event, HeartbeatConfig, Input, Output, Plain, SessionConfig, SessionState,
};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(60);

fn pongs(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Pong { .. }))
        .count()
}

fn ready_sim(heartbeat: HeartbeatConfig) -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), |c| c.heartbeat = heartbeat);
    sim.connect();
    assert!(
        sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT),
        "ready"
    );
    sim.take_events();
    sim
}

fn pings(every: Option<Duration>, pong_timeout: Duration) -> HeartbeatConfig {
    HeartbeatConfig {
        ping_interval: every,
        pong_timeout,
        idle_timeout: None,
    }
}

#[test]
fn pings_turned_on_live_start_without_a_reconnect_and_turned_off_stop() {
    let mut sim = ready_sim(pings(None, Duration::from_secs(5)));
    let generation = sim.live_generation();
    sim.run_for(Duration::from_secs(10));
    assert_eq!(pongs(&sim.take_events()), 0, "pings are off");

    let now = sim.now;
    let on = pings(Some(Duration::from_secs(1)), Duration::from_secs(5));
    sim.client
        .set_heartbeat(now, on)
        .expect("a valid heartbeat");
    sim.run_for(Duration::from_millis(3500));
    assert_eq!(
        pongs(&sim.take_events()),
        3,
        "a ping a second from the change"
    );

    let now = sim.now;
    let off = pings(None, Duration::from_secs(5));
    sim.client
        .set_heartbeat(now, off)
        .expect("a valid heartbeat");
    sim.run_for(Duration::from_secs(10));
    assert_eq!(pongs(&sim.take_events()), 0, "pings are off again");
    assert_eq!(sim.dials.len(), 1, "no reconnect");
    assert_eq!(sim.live_generation(), generation);
}

#[test]
fn a_shorter_pong_timeout_applies_to_the_ping_in_flight() {
    let mut sim = ready_sim(pings(Some(Duration::from_secs(1)), Duration::from_secs(30)));
    sim.stall();
    sim.run_for(Duration::from_millis(1500)); // one ping out, unanswered
    let now = sim.now;
    let short = pings(Some(Duration::from_secs(1)), Duration::from_secs(2));
    sim.client
        .set_heartbeat(now, short)
        .expect("a valid heartbeat");
    let lost = |s: &Sim<TestRpc>| {
        s.events.iter().any(|e| {
            matches!(
                e,
                Event::Disconnected {
                    reason: DisconnectReason::PongTimeout,
                    ..
                }
            )
        })
    };
    assert!(
        sim.run_until(lost, Duration::from_secs(3)),
        "{:?}",
        sim.events
    );
    assert!(sim.elapsed() < Duration::from_secs(10), "not the old 30 s");
}

#[test]
fn a_zero_interval_is_refused_and_changes_nothing() {
    let mut sim = ready_sim(pings(Some(Duration::from_secs(1)), Duration::from_secs(5)));
    let now = sim.now;
    let zero = pings(Some(Duration::ZERO), Duration::from_secs(5));
    let error = sim.client.set_heartbeat(now, zero).expect_err("zero");
    assert!(error.to_string().contains("ping_interval"), "{error}");
    assert_eq!(
        sim.client.heartbeat().ping_interval,
        Some(Duration::from_secs(1))
    );
}

/// A recorded session whose first dial was refused and which then had
/// `change` applied: the recording, and the configuration to replay it with.
fn record_after_a_refused_dial(
    change: impl FnOnce(&mut RecordingSession<Plain, Vec<u8>>, std::time::Instant),
) -> (String, SessionConfig) {
    let config = SessionConfig::new("ws://127.0.0.1:9/").unwrap();
    let start = std::time::Instant::now();
    let mut session = RecordingSession::new(config.clone(), Plain, start, Vec::new());
    session.connect(start).unwrap();
    let Some(Output::Dial { generation, .. }) = session.poll_output() else {
        panic!("a dial first")
    };
    let error = "refused";
    session.handle_input(start, Input::ConnectFailed { generation, error });
    change(&mut session, start);
    while session.poll_output().is_some() {}
    (
        String::from_utf8(session.finish().unwrap()).unwrap(),
        config,
    )
}

#[test]
fn a_recorded_heartbeat_change_replays_and_is_compared() {
    let (recording, config) = record_after_a_refused_dial(|session, now| {
        let faster = pings(Some(Duration::from_secs(2)), Duration::from_secs(1));
        session.set_heartbeat(now, faster).unwrap();
    });
    assert!(recording.contains("\"op\":\"heartbeat\""), "{recording}");
    replay(&recording, config, Plain).unwrap_or_else(|d| panic!("diverged: {d}"));
}

#[test]
fn a_recorded_rate_limit_change_replays_and_an_unknown_class_diverges() {
    use wsnova_core::session::{RateClass, RateLimitConfig, RateLimits};
    let limit = RateLimitConfig {
        capacity: 7,
        refill_amount: 3,
        refill_interval: Duration::from_millis(250),
        queue_capacity: 9,
    };
    let (recording, config) = record_after_a_refused_dial(|session, now| {
        let limits = RateLimits::default().with(RateClass::DEFAULT, limit);
        session.set_rate_limits(now, limits).unwrap();
    });
    assert!(recording.contains("\"op\":\"rate_limits\""), "{recording}");
    assert!(
        recording.contains("\"refill_interval_us\":250000"),
        "{recording}"
    );
    replay(&recording, config.clone(), Plain).unwrap_or_else(|d| panic!("diverged: {d}"));
    // A class the adapter does not declare cannot be restored: the replayed
    // command fails where the recorded one succeeded.
    let renamed = recording.replace("\"class\":\"default\"", "\"class\":\"orders\"");
    assert_ne!(renamed, recording, "the class is recorded by name");
    assert!(replay(&renamed, config, Plain).is_err());
}
