//! Closing a pool: from `close` on, every verb is refused with `Closed`,
//! while its connections' close handshakes run and after they end.

use std::time::{Duration, Instant};

use wsnova_core::pool::PoolLimits;
use wsnova_core::session::{CloseReason, Event, SessionError, SessionState};
use wsnova_core::wire::CloseCode;
use wsnova_tests::sim::{PoolSim, TestRpc};

#[test]
fn every_verb_is_refused_from_the_close_on() {
    let mut sim = PoolSim::new(TestRpc::default(), Default::default(), |c| {
        c.heartbeat.ping_interval = None;
    });
    sim.connect();
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, Duration::from_secs(1)));
    let now = sim.now;
    sim.pool
        .close(now, CloseCode::NORMAL, "bye")
        .expect("closing");
    let session = sim.pool.conns().next().and_then(|c| sim.pool.session(c));
    assert_eq!(
        session.map(|s| s.state()),
        Some(SessionState::Closing),
        "the close handshake runs"
    );
    assert!(!sim.pool.is_closed());
    let refused = |sim: &mut PoolSim<TestRpc>| {
        let now = sim.now;
        assert_eq!(
            sim.pool.subscribe(now, &["ticker.B"]),
            Err(SessionError::Closed)
        );
        assert_eq!(
            sim.pool.unsubscribe(now, &["ticker.A"]),
            Err(SessionError::Closed)
        );
        assert_eq!(
            sim.pool.close(now, CloseCode::NORMAL, "again"),
            Err(SessionError::Closed)
        );
    };
    refused(&mut sim);
    assert!(sim.run_until(|s| s.pool.is_closed(), Duration::from_secs(5)));
    refused(&mut sim);
    sim.run_for(Duration::from_secs(1));
    let finals: Vec<&Event> = sim
        .events
        .iter()
        .filter(|(conn, e)| conn.is_none() && matches!(e, Event::Closed { .. }))
        .map(|(_, e)| e)
        .collect();
    assert_eq!(
        finals,
        [&Event::Closed {
            reason: CloseReason::User
        }],
        "one final Closed"
    );
}

/// Closes the pool, then checks that it asks to be woken only for its one
/// connection's own deadline, which comes after `earlier` (what an open
/// pool would have woken for).
fn close_and_wait_only_for_the_connection(sim: &mut PoolSim<TestRpc>, earlier: Instant) {
    let now = sim.now;
    sim.pool
        .close(now, CloseCode::NORMAL, "bye")
        .expect("closing");
    let conn = sim.pool.conns().next().expect("still closing");
    let session_due = sim.pool.session(conn).and_then(|s| s.poll_timeout());
    assert!(session_due.is_some_and(|t| t > earlier), "{session_due:?}");
    assert_eq!(
        sim.pool.poll_timeout(),
        session_due,
        "its connection's deadline only"
    );
}

#[test]
fn a_closing_pool_waits_only_for_its_connections_not_for_rotations() {
    // Rotation is due one second after a connection comes up.
    let rotating = PoolLimits {
        connection_lifetime: Some(Duration::from_secs(10)),
        rotation_margin: Duration::from_secs(9),
        ..PoolLimits::default()
    };
    let mut sim = PoolSim::new(TestRpc::default(), rotating, |c| {
        c.heartbeat.ping_interval = None;
        c.close_timeout = Duration::from_secs(30);
    });
    sim.connect();
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(
        |s| s.confirmed_everywhere() == 1,
        Duration::from_millis(100)
    ));
    let now = sim.now;
    let rotation_due = sim.pool.poll_timeout().expect("a rotation is due");
    assert!(rotation_due <= now + Duration::from_secs(1));
    close_and_wait_only_for_the_connection(&mut sim, rotation_due);
}

#[test]
fn a_closing_pool_no_longer_waits_to_send_what_its_budget_held_back() {
    let one_a_second = PoolLimits {
        max_subscribe_messages_per_second: Some(1),
        ..PoolLimits::default()
    };
    let mut sim = PoolSim::new(TestRpc::default(), one_a_second, |c| {
        c.heartbeat.ping_interval = None;
    });
    sim.connect();
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(
        |s| s.confirmed_everywhere() == 1,
        Duration::from_millis(100)
    ));
    sim.subscribe(&["ticker.B"]); // waits for the budget, up to a second
    let now = sim.now;
    let flush_due = sim.pool.poll_timeout().expect("the budget frees up");
    assert!(flush_due <= now + Duration::from_secs(1));
    close_and_wait_only_for_the_connection(&mut sim, flush_due);
}
