//! The core's side of shared rate limits, in virtual time against the fake
//! exchange: a shared class sends only what its granted permits cover, in
//! queue order, says what it lacks, never waits on a timer, and leaves
//! other classes alone.

use std::time::Duration;

use wsnova_core::session::{Credentials, PermitDemand, RateClass, RateLimitConfig, SessionState};
use wsnova_tests::sim::{Sim, TestRpc};

const SECOND: Duration = Duration::from_secs(1);
const ORDERS: RateClass = RateClass::new("orders");
const MARKET: RateClass = RateClass::new("market");

fn limit(capacity: u64) -> RateLimitConfig {
    RateLimitConfig {
        capacity,
        refill_amount: capacity,
        refill_interval: SECOND,
        queue_capacity: 1_000,
    }
}

/// Orders cost 3 each; both classes have generous local limits.
fn ready() -> Sim<TestRpc> {
    let adapter = TestRpc {
        classes: vec![
            ("private/order".into(), ORDERS),
            ("private/market".into(), MARKET),
        ],
        costs: vec![("private/order".into(), 3)],
        declared_limits: vec![(ORDERS, limit(1_000)), (MARKET, limit(1_000))],
        ..TestRpc::default()
    };
    let mut sim = Sim::new(adapter, |config| {
        config.credentials = Some(Credentials::new("client", "s3cret"));
        config.request_timeout = Duration::from_secs(3_600);
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));
    sim.run_for(Duration::from_millis(10));
    sim
}

fn received(sim: &Sim<TestRpc>, prefix: &str) -> usize {
    let server = &sim.server;
    server
        .received
        .iter()
        .filter(|r| r.method.starts_with(prefix))
        .count()
}

#[test]
fn a_shared_class_sends_what_its_permits_cover_and_no_more() {
    let mut sim = ready();
    let now = sim.now;
    sim.client.share_rate_class(now, ORDERS).unwrap();
    for n in 0..5 {
        sim.request("private/order", &format!("{{\"n\":{n}}}"));
    }
    sim.request("private/market", "{}");
    sim.run_for(Duration::from_secs(60));
    assert_eq!(
        received(&sim, "private/order"),
        0,
        "no permits, no orders, however long"
    );
    assert_eq!(
        received(&sim, "private/market"),
        1,
        "another class is not held up"
    );
    assert_eq!(
        sim.client.rate_permits_wanted(ORDERS),
        PermitDemand {
            at_least: 3,
            wanted: 15
        }
    );
    assert_eq!(
        sim.client.rate_permits_wanted(MARKET),
        PermitDemand::default(),
        "not shared"
    );

    let now = sim.now;
    sim.client.grant_rate_permits(now, ORDERS, 7).unwrap();
    sim.run_for(Duration::from_millis(10));
    assert_eq!(
        received(&sim, "private/order"),
        2,
        "7 permits cover two orders of 3"
    );
    assert_eq!(sim.client.rate_permits_of(ORDERS), Some(1));
    assert_eq!(
        sim.client.rate_permits_wanted(ORDERS),
        PermitDemand {
            at_least: 2,
            wanted: 8
        }
    );

    let now = sim.now;
    sim.client.grant_rate_permits(now, ORDERS, 8).unwrap();
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim, "private/order"), 5);
    assert_eq!(sim.client.rate_permits_of(ORDERS), Some(0));
    assert_eq!(
        sim.client.rate_permits_wanted(ORDERS),
        PermitDemand::default()
    );
}

#[test]
fn unsharing_lets_what_waits_leave_under_the_local_limit() {
    let mut sim = ready();
    let now = sim.now;
    sim.client.share_rate_class(now, ORDERS).unwrap();
    for _ in 0..3 {
        sim.request("private/order", "{}");
    }
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim, "private/order"), 0);
    let now = sim.now;
    sim.client.unshare_rate_class(now, ORDERS).unwrap();
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim, "private/order"), 3);
    assert_eq!(sim.client.rate_permits_of(ORDERS), None);
    let now = sim.now;
    sim.client.grant_rate_permits(now, ORDERS, 5).unwrap();
    assert_eq!(
        sim.client.rate_permits_of(ORDERS),
        None,
        "ignored: not shared"
    );
}
