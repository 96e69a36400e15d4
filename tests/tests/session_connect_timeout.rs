//! Connection attempts: a dial that never completes the upgrade is abandoned
//! after exactly `connect_timeout`, and the adapter's `disconnect_policy`
//! decides whether (and how soon) a failed attempt is retried.

use std::time::Duration;

use wsnova_core::session::{
    Adapter, BackoffConfig, BackoffStrategy, CloseReason, DisconnectReason, Event, Initiator,
    Policy, SessionConfig, SessionState,
};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config(config: &mut SessionConfig) {
    config.connect_timeout = CONNECT_TIMEOUT;
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: ms(100),
        max_delay: Duration::from_secs(10),
        max_attempts: None,
    };
}

/// Plain JSON-RPC with one twist: what happens after a refused TCP connect.
#[derive(Debug)]
struct OnRefused(Policy);

impl Adapter for OnRefused {
    fn disconnect_policy(&self, reason: &DisconnectReason) -> Policy {
        match reason {
            DisconnectReason::ConnectFailed(_) => self.0,
            _ => Policy::Reconnect,
        }
    }
}

fn has_disconnected<A: Adapter>(sim: &Sim<A>) -> bool {
    sim.events
        .iter()
        .any(|e| matches!(e, Event::Disconnected { .. }))
}

fn losses(events: &[Event]) -> Vec<(DisconnectReason, Initiator, Option<Duration>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Disconnected {
                reason,
                initiator,
                reconnect_in,
            } => Some((reason.clone(), *initiator, *reconnect_in)),
            _ => None,
        })
        .collect()
}

fn refused() -> DisconnectReason {
    DisconnectReason::ConnectFailed("connection refused".into())
}

#[test]
fn blackholed_dial_times_out_after_exactly_connect_timeout() {
    let mut sim = Sim::new(TestRpc::default(), config);
    sim.blackhole_dials = true;
    sim.connect();
    assert!(sim.run_until(has_disconnected, LIMIT));

    let (dialed_at, _) = sim.dials[0];
    assert_eq!(sim.now - dialed_at, CONNECT_TIMEOUT);
    assert_eq!(
        losses(&sim.events),
        [(
            DisconnectReason::ConnectTimeout,
            Initiator::Library,
            Some(ms(100))
        )]
    );
    assert!(!sim.events.contains(&Event::Connected));
    assert_eq!(sim.live_generation(), None, "the hung socket is closed");
    assert_eq!(sim.client.state(), SessionState::BackingOff);
}

#[test]
fn every_blackholed_attempt_gets_its_own_connect_timeout() {
    let mut sim = Sim::new(TestRpc::default(), config);
    sim.blackhole_dials = true;
    sim.connect();
    assert!(sim.run_until(|s| losses(&s.events).len() == 3, LIMIT));

    let delays: Vec<Option<Duration>> = losses(&sim.events).iter().map(|l| l.2).collect();
    assert_eq!(delays, [Some(ms(100)), Some(ms(200)), Some(ms(400))]);
    let gaps: Vec<Duration> = sim.dials.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert_eq!(
        gaps,
        [CONNECT_TIMEOUT + ms(100), CONNECT_TIMEOUT + ms(200)],
        "timeout, then backoff, then the next dial"
    );

    // The path heals: the next attempt gets through.
    sim.blackhole_dials = false;
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    assert_eq!(sim.dials.len(), 4);
}

#[test]
fn connect_timeout_does_not_fire_once_the_upgrade_succeeded() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        config(c);
        c.heartbeat.ping_interval = None;
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    sim.run_for(CONNECT_TIMEOUT * 10);
    assert!(!has_disconnected(&sim), "{:?}", sim.events);
    assert_eq!(sim.client.state(), SessionState::Ready);
}

#[test]
fn stop_policy_closes_the_session_without_reconnecting() {
    let mut sim = Sim::new(OnRefused(Policy::Stop), config);
    sim.refuse_dials = 1;
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Closed, LIMIT));

    assert_eq!(
        sim.events,
        [
            Event::Disconnected {
                reason: refused(),
                initiator: Initiator::Remote,
                reconnect_in: None,
            },
            Event::Closed {
                reason: CloseReason::Stopped(refused())
            },
        ]
    );
    sim.run_for(Duration::from_secs(3600));
    assert_eq!(sim.dials.len(), 1, "no reconnect after Stop");
    assert_eq!(sim.client.failed_attempts(), 0, "Stop is not a retry");
}

#[test]
fn reconnect_after_policy_waits_at_least_the_given_delay() {
    let hint = Duration::from_secs(5);
    let mut sim = Sim::new(OnRefused(Policy::ReconnectAfter(hint)), config);
    sim.refuse_dials = 1;
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));

    assert_eq!(
        losses(&sim.events),
        [(refused(), Initiator::Remote, Some(hint))],
        "the hint overrides the shorter 100 ms backoff"
    );
    assert_eq!(sim.dials.len(), 2);
    let gap = sim.dials[1].0 - sim.dials[0].0;
    assert!(gap >= hint, "redialed after {gap:?}");
    assert_eq!(gap, sim.latency + hint);
}

#[test]
fn reconnect_after_policy_keeps_a_longer_backoff_delay() {
    // Third failure of a 100 ms exponential streak waits 400 ms > the 250 ms hint.
    let hint = ms(250);
    let mut sim = Sim::new(OnRefused(Policy::ReconnectAfter(hint)), config);
    sim.refuse_dials = 3;
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    let delays: Vec<Option<Duration>> = losses(&sim.events).iter().map(|l| l.2).collect();
    assert_eq!(delays, [Some(hint), Some(hint), Some(ms(400))]);
}
