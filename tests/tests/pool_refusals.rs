//! A subscription the server refuses: the application is told, the pool
//! stops wanting the channel, nothing is undone where it was never
//! subscribed, and a connection that still carries it (the old one of a
//! rotation) unsubscribes it.

use std::time::Duration;

use wsnova_core::pool::{ConnId, PoolLimits};
use wsnova_core::session::Event;
use wsnova_tests::sim::{PoolSim, TestRpc, server_key};

#[test]
fn a_refused_channel_is_dropped_without_an_unsubscribe() {
    let mut sim = PoolSim::new(TestRpc::default(), PoolLimits::default(), |c| {
        c.heartbeat.ping_interval = None;
    });
    sim.server
        .behaviour
        .refused_channels
        .insert("ticker.X".into());
    sim.connect();
    sim.subscribe(&["ticker.A", "ticker.X"]);
    let refused = |s: &PoolSim<TestRpc>| {
        s.events.iter().any(|(_, e)| {
            matches!(e, Event::SubscriptionFailed { channels, .. } if channels == &["ticker.X"])
        })
    };
    assert!(sim.run_until(refused, Duration::from_secs(1)));
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.confirmed_everywhere(), 1);
    let desired: Vec<&str> = sim
        .pool
        .assignment()
        .desired()
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(desired, ["ticker.A"]);
    assert_eq!(sim.server.count("public/unsubscribe"), 0, "nothing to undo");
    assert_eq!(sim.server_subscriptions(), ["ticker.A"]);
}

#[test]
fn a_channel_refused_by_a_replacement_is_unsubscribed_where_it_was_confirmed() {
    let limits = PoolLimits {
        connection_lifetime: Some(Duration::from_secs(3)),
        rotation_margin: Duration::from_secs(1),
        ..PoolLimits::default()
    };
    let mut sim = PoolSim::new(TestRpc::default(), limits, |c| {
        c.heartbeat.ping_interval = None;
    });
    sim.connect();
    sim.subscribe(&["ticker.A", "ticker.X"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 2, Duration::from_secs(1)));
    // A request the server never answers keeps the old connection busy, so
    // it stays open past the hand-over. The rotation's replacement asks for
    // both channels; the server now refuses X.
    sim.pool.request(sim.now, "silent", "{}").unwrap();
    sim.server
        .behaviour
        .refused_channels
        .insert("ticker.X".into());
    let refused = |s: &PoolSim<TestRpc>| {
        s.events.iter().any(|(_, e)| {
            matches!(e, Event::SubscriptionFailed { channels, .. } if channels == &["ticker.X"])
        })
    };
    assert!(sim.run_until(refused, Duration::from_secs(3)));
    sim.run_for(Duration::from_millis(100));
    let unsubscribes: Vec<(u64, String)> = sim
        .server
        .received
        .iter()
        .filter(|r| r.method == "public/unsubscribe")
        .map(|r| (r.generation, r.params["channels"].to_string()))
        .collect();
    assert_eq!(
        unsubscribes,
        [(server_key(ConnId(1), 1), r#"["ticker.X"]"#.to_owned())],
        "X is undone where it was confirmed"
    );
}
