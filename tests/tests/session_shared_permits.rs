//! Rate limits shared with other processes, seen from one session in
//! virtual time: a shared class sends only what granted permits cover, in
//! queue order, says what it still needs (the core's own requests first),
//! and sends the rest at once when it is made local again.

use std::time::Duration;

use wsnova_core::session::{PermitDemand, RateClass};
use wsnova_tests::sim::{Sim, TestRpc};

const DEFAULT: RateClass = RateClass::DEFAULT;

fn ready_and_shared() -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    sim.connect_until_ready();
    assert_eq!(sim.client.rate_permits_of(DEFAULT), None, "local at first");
    sim.client.share_rate_class(sim.now, DEFAULT).unwrap();
    assert_eq!(sim.client.rate_permits_of(DEFAULT), Some(0));
    sim
}

fn demand(at_least: u64, wanted: u64) -> PermitDemand {
    PermitDemand { at_least, wanted }
}

#[test]
fn a_shared_class_sends_what_its_permits_cover_in_order() {
    let mut sim = ready_and_shared();
    for n in 0..3 {
        sim.request("echo", &format!(r#"{{"n":{n}}}"#));
    }
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.server.count("echo"), 0, "no permits, nothing leaves");
    assert_eq!(sim.client.rate_permits_wanted(DEFAULT), demand(1, 3));
    sim.client.grant_rate_permits(sim.now, DEFAULT, 2).unwrap();
    sim.drive();
    let sent: Vec<_> = sim
        .server
        .received
        .iter()
        .filter(|r| r.method == "echo")
        .map(|r| r.params["n"].as_u64())
        .collect();
    assert_eq!(sent, [Some(0), Some(1)]);
    assert_eq!(sim.client.rate_permits_of(DEFAULT), Some(0), "spent");
    assert_eq!(sim.client.rate_permits_wanted(DEFAULT), demand(1, 1));
    // Made local again: the rest leaves at once, and no permits are kept.
    sim.client.unshare_rate_class(sim.now, DEFAULT).unwrap();
    sim.drive();
    assert_eq!(sim.server.count("echo"), 3);
    assert_eq!(sim.client.rate_permits_of(DEFAULT), None);
    assert_eq!(sim.client.rate_permits_wanted(DEFAULT), demand(0, 0));
}

#[test]
fn permits_granted_ahead_are_kept_for_what_comes() {
    let mut sim = ready_and_shared();
    sim.client.grant_rate_permits(sim.now, DEFAULT, 5).unwrap();
    assert_eq!(sim.client.rate_permits_of(DEFAULT), Some(5));
    assert_eq!(sim.client.rate_permits_wanted(DEFAULT), demand(0, 0));
    sim.request("echo", "{}");
    sim.drive();
    assert_eq!(sim.server.count("echo"), 1);
    assert_eq!(sim.client.rate_permits_of(DEFAULT), Some(4));
    // Sharing again changes nothing; a grant to a local class is dropped.
    sim.client.share_rate_class(sim.now, DEFAULT).unwrap();
    assert_eq!(sim.client.rate_permits_of(DEFAULT), Some(4));
    let other = RateClass::new("other");
    sim.client.grant_rate_permits(sim.now, other, 3).unwrap();
    assert_eq!(sim.client.rate_permits_of(other), None);
}

#[test]
fn the_cores_own_requests_are_counted_first() {
    let mut sim = ready_and_shared();
    sim.request("echo", "{}");
    sim.subscribe(&["ticker.A"]);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.server.count("public/subscribe"), 0);
    // The subscribe (the core's own) and the request both wait.
    assert_eq!(sim.client.rate_permits_wanted(DEFAULT), demand(1, 2));
    sim.client.grant_rate_permits(sim.now, DEFAULT, 1).unwrap();
    sim.drive();
    assert_eq!(sim.server.count("public/subscribe"), 1, "the core's first");
    assert_eq!(sim.server.count("echo"), 0);
}
