//! Closing a pool: from `close` on, every verb is refused with `Closed`,
//! while its connections' close handshakes run and after they end.

use std::time::Duration;

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
