//! Logging a pool in after it connected (`Pool::authenticate`): every open
//! connection authenticates at once, and connections opened later do too.

use std::time::Duration;

use wsnova_core::pool::{ConnId, PoolLimits, Role};
use wsnova_core::session::{Credentials, SessionError};
use wsnova_core::wire::CloseCode;
use wsnova_tests::sim::{PoolSim, TestRpc};

const LIMIT: Duration = Duration::from_secs(5);

fn auths(sim: &PoolSim<TestRpc>) -> Vec<u64> {
    sim.server
        .received
        .iter()
        .filter(|r| r.method == "public/auth")
        .map(|r| r.generation)
        .collect()
}

#[test]
fn authenticate_logs_in_every_connection_present_and_future() {
    let one_each = PoolLimits {
        max_streams_per_connection: Some(1),
        ..PoolLimits::default()
    };
    let mut sim = PoolSim::new(TestRpc::default(), one_each, |c| {
        c.heartbeat.ping_interval = None;
    });
    sim.connect();
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, LIMIT));
    assert_eq!(auths(&sim), Vec::<u64>::new(), "no credentials yet");
    let now = sim.now;
    sim.pool
        .authenticate(now, Credentials::new("client", "s3cret"))
        .expect("open");
    let authenticated = |s: &PoolSim<TestRpc>, n: usize| {
        s.pool
            .conns()
            .filter(|c| s.pool.session(*c).is_some_and(|s| s.is_authenticated()))
            .count()
            == n
    };
    assert!(sim.run_until(|s| authenticated(s, 1), LIMIT));
    assert_eq!(auths(&sim).len(), 1);
    sim.subscribe(&["ticker.B"]); // one stream each: a second connection
    assert!(sim.run_until(
        |s| s.confirmed_everywhere() == 2 && authenticated(s, 2),
        LIMIT
    ));
    assert_eq!(auths(&sim).len(), 2, "the new one logged in too");
    let status = sim.pool.status();
    assert_eq!((status.ready(), status.total()), (2, 2));
    let second = status.of(ConnId(2)).expect("listed");
    assert_eq!((second.conn, second.role), (ConnId(2), Role::Active));
    assert!(status.of(ConnId(3)).is_none());
    let now = sim.now;
    sim.pool
        .close(now, CloseCode::NORMAL, "bye")
        .expect("closing");
    assert_eq!(
        sim.pool
            .authenticate(now, Credentials::new("client", "s3cret")),
        Err(SessionError::Closed)
    );
}
