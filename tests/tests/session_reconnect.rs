//! Reconnection: after a loss the session waits the backoff delay, dials once,
//! and comes back to `Ready`; failed attempts grow the delay until `Ready`
//! ends the streak, and `max_attempts` ends the session.

use std::time::{Duration, Instant};

use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, CloseReason, Credentials, DisconnectReason, Event, Initiator,
    SessionConfig, SessionState,
};
use wsnova_core::wire::{CloseCode, WireError};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(60);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Exponential backoff from 100 ms up to 10 s, retrying forever.
fn exponential(config: &mut SessionConfig) {
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: ms(100),
        max_delay: Duration::from_secs(10),
        max_attempts: None,
    };
}

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

/// Runs until the session reports the loss; returns when it saw it and its delay.
fn until_lost(sim: &mut Sim<TestRpc>) -> (Instant, DisconnectReason, Initiator, Duration) {
    assert!(
        sim.run_until(has_disconnected, LIMIT),
        "the loss is reported"
    );
    let lost = sim.events.iter().find_map(|e| match e {
        Event::Disconnected {
            reason,
            initiator,
            reconnect_in,
        } => Some((reason.clone(), *initiator, *reconnect_in)),
        _ => None,
    });
    let (reason, initiator, reconnect_in) = lost.expect("a Disconnected event");
    let delay = reconnect_in.expect("a reconnect is scheduled");
    (sim.now, reason, initiator, delay)
}

/// The `reconnect_in` of every `Disconnected` event so far.
fn reconnect_delays(events: &[Event]) -> Vec<Option<Duration>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Disconnected { reconnect_in, .. } => Some(*reconnect_in),
            _ => None,
        })
        .collect()
}

fn is_transport_loss(reason: &DisconnectReason) -> bool {
    matches!(
        reason,
        DisconnectReason::TransportClosed(_) | DisconnectReason::Wire(WireError::AbnormalClosure)
    )
}

#[test]
fn dropped_connection_reports_loss_then_reconnects_to_ready_in_order() {
    let mut sim = ready_sim(|_| {});
    sim.drop_connection();
    assert!(sim.run_until(has_disconnected, LIMIT), "the loss is seen");
    assert_eq!(sim.client.state(), SessionState::BackingOff);
    assert!(sim.run_until(is_ready, LIMIT), "ready again");

    let events = sim.take_events();
    assert_eq!(events.len(), 4, "{events:?}");
    match &events[0] {
        Event::Disconnected {
            reason,
            reconnect_in: Some(_),
            ..
        } => assert!(is_transport_loss(reason), "{reason:?}"),
        other => panic!("expected Disconnected with a reconnect, got {other:?}"),
    }
    assert_eq!(
        events[1..],
        [
            Event::Reconnecting { attempt: 1 },
            Event::Connected,
            Event::Ready
        ]
    );
    assert_eq!(sim.client.generation(), 2);
    assert_eq!(sim.live_generation(), Some(2));
    assert!(sim.server.is_open(2) && !sim.server.is_open(1));
}

#[test]
fn dropped_connection_is_blamed_on_the_remote() {
    let mut sim = ready_sim(|_| {});
    sim.drop_connection();
    let (_, reason, initiator, _) = until_lost(&mut sim);
    assert!(is_transport_loss(&reason), "{reason:?}");
    assert_eq!(initiator, Initiator::Remote);
}

#[test]
fn reconnect_dials_exactly_the_announced_delay_after_the_loss() {
    // The default backoff: full jitter from the seeded RNG.
    let mut sim = ready_sim(|_| {});
    sim.drop_connection();
    let (lost_at, _, _, delay) = until_lost(&mut sim);
    assert!(
        // The default's first delay: uniform in [0, 250 ms].
        delay > Duration::ZERO && delay <= Duration::from_millis(250),
        "{delay:?}"
    );
    assert!(sim.run_until(is_ready, LIMIT));
    assert_eq!(sim.dials.len(), 2);
    assert_eq!(sim.dials[1], (lost_at + delay, 2));
}

#[test]
fn each_loss_causes_exactly_one_dial() {
    let mut sim = ready_sim(exponential);
    for loss in 1..=3 {
        sim.drop_connection();
        assert!(sim.run_until(has_disconnected, LIMIT));
        assert!(sim.run_until(is_ready, LIMIT), "ready after loss {loss}");
        assert_eq!(sim.dials.len(), 1 + loss, "one dial for loss {loss}");
        sim.take_events();
    }
    // Nothing else dials while the connection stays healthy.
    sim.run_for(Duration::from_secs(600));
    assert_eq!(sim.dials.len(), 4);
    assert_eq!(sim.client.state(), SessionState::Ready);
    let generations: Vec<u64> = sim.dials.iter().map(|(_, g)| *g).collect();
    assert_eq!(generations, [1, 2, 3, 4]);
    assert_eq!(sim.client.stats().reconnects, 3);
}

#[test]
fn refused_dials_back_off_exponentially() {
    let mut sim = Sim::new(TestRpc::default(), exponential);
    sim.refuse_dials = 3;
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));

    assert_eq!(
        reconnect_delays(&sim.events),
        [Some(ms(100)), Some(ms(200)), Some(ms(400))]
    );
    // Each refusal is seen one latency after its dial, then the delay runs.
    let gaps: Vec<Duration> = sim.dials.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let latency = sim.latency;
    assert_eq!(
        gaps,
        [ms(100) + latency, ms(200) + latency, ms(400) + latency]
    );
    let attempts: Vec<u32> = sim
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Reconnecting { attempt } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert!(sim.events.iter().all(|e| !matches!(
        e,
        Event::Disconnected { reason, .. } if *reason != DisconnectReason::ConnectFailed("connection refused".into())
    )));
    assert_eq!(
        sim.client.failed_attempts(),
        3,
        "Ready alone does not end the streak"
    );
    sim.run_for(Duration::from_secs(2));
    assert_eq!(
        sim.client.failed_attempts(),
        0,
        "staying Ready for stable_after ends it"
    );
}

#[test]
fn a_server_that_fails_every_connection_right_after_ready_still_gets_growing_delays() {
    let mut sim = Sim::new(TestRpc::default(), exponential);
    sim.connect();
    let mut delays = Vec::new();
    for _ in 0..4 {
        assert!(sim.run_until(is_ready, LIMIT));
        sim.take_events();
        sim.drop_connection(); // at once: before stable_after
        let (_, _, _, delay) = until_lost(&mut sim);
        delays.push(delay);
    }
    assert_eq!(delays, [ms(100), ms(200), ms(400), ms(800)]);
}

#[test]
fn rejected_upgrade_counts_as_a_failed_attempt() {
    let mut sim = Sim::new(TestRpc::default(), exponential);
    sim.server.behaviour.reject_upgrade = Some(503);
    sim.connect();
    let (_, reason, _, delay) = until_lost(&mut sim);
    assert!(
        matches!(
            reason,
            DisconnectReason::Wire(WireError::UpgradeRejected { status: 503, .. })
        ),
        "{reason:?}"
    );
    assert_eq!(delay, ms(100));
    assert_eq!(sim.client.failed_attempts(), 1);
    assert!(
        !sim.events.contains(&Event::Connected),
        "a refused upgrade is never connected"
    );

    // The second refusal waits the second delay.
    sim.take_events();
    let (_, _, _, delay) = until_lost(&mut sim);
    assert_eq!(delay, ms(200));
    assert_eq!(sim.client.failed_attempts(), 2);

    sim.server.behaviour.reject_upgrade = None;
    assert!(sim.run_until(is_ready, LIMIT));
    sim.run_for(Duration::from_secs(2)); // stable_after
    assert_eq!(sim.client.failed_attempts(), 0);
    assert_eq!(sim.dials.len(), 3);
}

#[test]
fn failure_streak_survives_connected_and_resets_only_at_ready() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        exponential(c);
        c.credentials = Some(Credentials::new("client", "s3cret"));
    });
    // Two non-fatal auth failures: the WebSocket opens, but never gets to Ready.
    sim.server.behaviour.auth_failures = [10_000, 10_000].into();
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    assert_eq!(
        reconnect_delays(&sim.events),
        [Some(ms(100)), Some(ms(200))],
        "Connected alone does not end the streak"
    );
    let connected = sim
        .events
        .iter()
        .filter(|e| **e == Event::Connected)
        .count();
    assert_eq!(connected, 3);

    // After staying Ready for stable_after, the next loss starts a new streak.
    sim.run_for(Duration::from_secs(2));
    sim.take_events();
    sim.drop_connection();
    let (_, _, _, delay) = until_lost(&mut sim);
    assert_eq!(delay, ms(100));
    assert!(sim.run_until(is_ready, LIMIT));
    sim.run_for(Duration::from_secs(2));
    sim.take_events();
    sim.drop_connection();
    let (_, _, _, delay) = until_lost(&mut sim);
    assert_eq!(delay, ms(100), "and again after the next Ready");
}

#[test]
fn max_attempts_closes_after_the_last_allowed_failure_and_never_dials_again() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        exponential(c);
        c.backoff.max_attempts = Some(2);
    });
    sim.refuse_dials = 100;
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Closed, LIMIT));

    assert_eq!(sim.dials.len(), 3, "the first dial and two retries");
    assert_eq!(
        reconnect_delays(&sim.events),
        [Some(ms(100)), Some(ms(200)), None]
    );
    let refused = DisconnectReason::ConnectFailed("connection refused".into());
    assert_eq!(
        sim.events.last(),
        Some(&Event::Closed {
            reason: CloseReason::RetriesExhausted(refused)
        })
    );
    sim.run_for(Duration::from_secs(3600));
    assert_eq!(sim.dials.len(), 3, "no dial after giving up");
    assert_eq!(sim.client.poll_timeout(), None, "no timer left armed");
}

#[test]
fn server_close_frame_is_reported_then_reconnects() {
    let mut sim = ready_sim(exponential);
    let generation = sim.live_generation().expect("connected");
    sim.server.close(generation, 1001, "restart");
    let (_, reason, initiator, delay) = until_lost(&mut sim);
    match reason {
        DisconnectReason::ServerClosed(frame) => {
            assert_eq!(frame.code, CloseCode::GOING_AWAY);
            assert_eq!(frame.reason.as_str(), "restart");
        }
        other => panic!("expected ServerClosed, got {other:?}"),
    }
    assert_eq!(initiator, Initiator::Remote);
    assert_eq!(delay, ms(100));

    assert!(sim.run_until(is_ready, LIMIT));
    let events = sim.take_events();
    assert_eq!(
        events[1..],
        [
            Event::Reconnecting { attempt: 1 },
            Event::Connected,
            Event::Ready
        ]
    );
    assert_eq!(sim.dials.len(), 2);
    assert_eq!(sim.live_generation(), Some(generation + 1));
}

#[test]
fn max_attempts_counts_only_failures_in_a_row() {
    let mut sim = ready_sim(|c| {
        exponential(c);
        c.backoff.max_attempts = Some(2);
    });
    // Many losses, each followed by a stable Ready: the session lives on.
    for _ in 0..5 {
        sim.run_for(Duration::from_secs(2)); // stable_after
        sim.drop_connection();
        let (_, _, _, delay) = until_lost(&mut sim);
        assert_eq!(delay, ms(100));
        assert!(sim.run_until(is_ready, LIMIT));
        sim.take_events();
    }
    assert_eq!(sim.dials.len(), 6);
    assert_eq!(sim.client.stats().reconnects, 5);
}

#[test]
fn max_attempts_zero_gives_up_on_the_first_loss() {
    let mut sim = ready_sim(|c| {
        exponential(c);
        c.backoff.max_attempts = Some(0);
    });
    sim.drop_connection();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Closed, LIMIT));
    let events = sim.take_events();
    assert_eq!(reconnect_delays(&events), [None]);
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed {
                reason: CloseReason::RetriesExhausted(reason)
            }) if is_transport_loss(reason)
        ),
        "{events:?}"
    );
    sim.run_for(Duration::from_secs(3600));
    assert_eq!(sim.dials.len(), 1);
}

#[test]
fn connect_while_connected_or_backing_off_does_not_dial() {
    let mut sim = ready_sim(|c| {
        exponential(c);
        c.backoff.base = Duration::from_secs(5);
    });
    sim.connect();
    sim.run_for(ms(100));
    assert_eq!(sim.dials.len(), 1, "connect is a no-op while ready");

    sim.drop_connection();
    assert!(sim.run_until(has_disconnected, LIMIT));
    let lost_at = sim.now;
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    assert_eq!(sim.dials.len(), 2, "connect does not cut the backoff short");
    assert_eq!(sim.dials[1].0, lost_at + Duration::from_secs(5));
}

#[test]
fn fail_before_first_ready_gives_up_on_a_first_failure_but_not_after_ready() {
    // Before the first Ready: one refused dial ends the session, announced honestly.
    let mut sim = Sim::new(TestRpc::default(), |c| {
        exponential(c);
        c.fail_before_first_ready = true;
    });
    sim.refuse_dials = 1;
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Closed, LIMIT));
    assert!(
        matches!(
            &sim.events[..],
            [
                Event::Disconnected {
                    reconnect_in: None,
                    ..
                },
                Event::Closed {
                    reason: CloseReason::Stopped(DisconnectReason::ConnectFailed(_))
                }
            ]
        ),
        "{:?}",
        sim.events
    );
    sim.run_for(Duration::from_secs(60));
    assert_eq!(sim.dials.len(), 1, "no retry");

    // Once Ready was reached, losses reconnect as usual.
    let mut sim = Sim::new(TestRpc::default(), |c| {
        exponential(c);
        c.fail_before_first_ready = true;
    });
    sim.connect();
    assert!(sim.run_until(is_ready, LIMIT));
    sim.take_events();
    sim.drop_connection();
    let (_, _, _, delay) = until_lost(&mut sim);
    assert_eq!(delay, ms(100));
    assert!(sim.run_until(is_ready, LIMIT));
}
