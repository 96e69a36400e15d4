//! Stop policies a user sets without an adapter (`SessionConfig::stop`):
//! stop on the server's normal close, stop after N failures in a row once
//! `Ready`, or never stop; and the core's reading of `Retry-After` in the
//! simulation's virtual time.

use std::time::Duration;

use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, CloseReason, DisconnectReason, Event, SessionConfig,
    SessionState, StopPolicy,
};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn configure(stop: StopPolicy, max_attempts: Option<u32>) -> impl FnOnce(&mut SessionConfig) {
    move |config| {
        config.stop = stop;
        config.backoff = BackoffConfig {
            strategy: BackoffStrategy::Exponential,
            base: ms(100),
            max_delay: ms(800),
            max_attempts,
        };
    }
}

fn is_ready(sim: &Sim<TestRpc>) -> bool {
    sim.client.state() == SessionState::Ready
}

fn is_closed(sim: &Sim<TestRpc>) -> bool {
    sim.client.state() == SessionState::Closed
}

fn ready_sim(stop: StopPolicy, max_attempts: Option<u32>) -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), configure(stop, max_attempts));
    sim.connect();
    assert!(
        sim.run_until(is_ready, LIMIT),
        "the first connection is ready"
    );
    sim.take_events();
    sim
}

#[test]
fn on_normal_close_stops_at_a_1000_and_not_at_a_1001() {
    let mut sim = ready_sim(StopPolicy::OnNormalClose, None);
    let generation = sim.live_generation().expect("connected");
    sim.server.close(generation, 1001, "restart");
    let lost = |s: &Sim<TestRpc>| {
        s.events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. }))
    };
    assert!(sim.run_until(lost, LIMIT));
    assert!(sim.run_until(is_ready, LIMIT), "1001 reconnects");
    let generation = sim.live_generation().expect("connected again");
    sim.server.close(generation, 1000, "done");
    assert!(
        sim.run_until(is_closed, LIMIT),
        "1000 stops: {:?}",
        sim.events
    );
    let events = sim.take_events();
    let Some(Event::Closed {
        reason: CloseReason::Stopped(DisconnectReason::ServerClosed(frame)),
    }) = events.last()
    else {
        panic!("stopped on the normal close: {events:?}");
    };
    assert_eq!(u16::from(frame.code), 1000);
    let dials = sim.dials.len();
    sim.run_for(Duration::from_secs(60));
    assert_eq!(sim.dials.len(), dials, "no dial after stopping");
}

#[test]
fn after_failures_counts_only_once_ready() {
    // Before the first `Ready`, five refusals are retried past the count of 2.
    let mut sim = Sim::new(
        TestRpc::default(),
        configure(StopPolicy::AfterFailures(2), None),
    );
    sim.refuse_dials = 5;
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT), "not counted before Ready");
    sim.take_events();
    // Once ready: the loss, then two failed reconnects, and it gives up.
    let dials = sim.dials.len();
    sim.refuse_dials = 100;
    sim.drop_connection();
    assert!(sim.run_until(is_closed, LIMIT));
    assert_eq!(sim.dials.len(), dials + 2, "two reconnect attempts");
    let refused = DisconnectReason::ConnectFailed("connection refused".into());
    assert_eq!(
        sim.events.last(),
        Some(&Event::Closed {
            reason: CloseReason::RetriesExhausted(refused)
        })
    );
}

#[test]
fn never_goes_on_past_max_attempts_every_max_delay() {
    let mut sim = Sim::new(TestRpc::default(), configure(StopPolicy::Never, Some(1)));
    sim.refuse_dials = 4;
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT), "never gives up");
    let delays: Vec<Option<Duration>> = sim
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Disconnected { reconnect_in, .. } => Some(*reconnect_in),
            _ => None,
        })
        .collect();
    // The first failure is within max_attempts; then every max_delay.
    assert_eq!(
        delays,
        [Some(ms(100)), Some(ms(800)), Some(ms(800)), Some(ms(800))]
    );
}
