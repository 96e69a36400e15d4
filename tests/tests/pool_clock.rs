//! The wall clock a driver tells the pool (`Pool::set_unix_time`) reaches
//! every connection, those open now and those opened later, as the time a
//! signing adapter puts in its auth request.

use std::time::{Duration, Instant};

use wsnova_core::pool::PoolLimits;
use wsnova_core::session::Credentials;
use wsnova_tests::sim::{PoolSim, TestRpc};

const LIMIT: Duration = Duration::from_secs(10);
/// 2026-12-04 00:00:00 UTC.
const UNIX_MS: u64 = 1_796_342_400_000;

#[test]
fn the_wall_clock_reaches_every_connection_present_and_future() {
    let one_each = PoolLimits {
        max_streams_per_connection: Some(1),
        ..PoolLimits::default()
    };
    let mut sim = PoolSim::new(TestRpc::default(), one_each, |c| {
        c.credentials = Some(Credentials::new("client", "s3cret"));
        c.heartbeat.ping_interval = None;
    });
    sim.connect();
    assert_eq!(sim.pool.conns().count(), 1, "the first connection is open");
    let told_at = sim.now;
    sim.pool.set_unix_time(told_at, UNIX_MS);
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, LIMIT));
    sim.run_for(Duration::from_secs(5));
    sim.subscribe(&["ticker.B"]); // one stream each: a second connection
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 2, LIMIT));
    let auths: Vec<(u64, Instant)> = sim
        .server
        .received
        .iter()
        .zip(&sim.received_at)
        .filter(|(r, _)| r.method == "public/auth")
        .map(|(r, at)| (r.params["timestamp"].as_u64().expect("a timestamp"), *at))
        .collect();
    assert_eq!(auths.len(), 2, "{auths:?}");
    for (stamp, received_at) in auths {
        // Sent one latency before it arrived, in whole milliseconds.
        let sent_ms = (received_at - sim.latency - told_at).as_millis() as u64;
        assert_eq!(stamp, UNIX_MS + sent_ms);
    }
}
