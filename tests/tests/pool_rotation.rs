//! Make-before-break rotation of a pool: a continuous sequenced stream
//! across 20 rotations arrives with 0 lost and 0 duplicated updates, while
//! the server cuts every connection at its lifetime (as Binance does at 24 h,
//! here in seconds of virtual time).

use std::time::Duration;

use serde_json::json;
use serde_json::value::RawValue;
use wsnova_core::pool::{ConnId, PoolLimits, Role};
use wsnova_core::session::{Adapter, Event, Inbound, OutgoingRequest, Sequence};
use wsnova_tests::sim::{PoolSim, TestRpc};

/// `TestRpc` with `trades.*` channels sequenced by `{"id": n, "prev": n-1}`.
#[derive(Debug, Clone, Default)]
struct Sequenced(TestRpc);

impl Adapter for Sequenced {
    fn classify<'a>(&self, text: &'a str) -> Inbound<'a> {
        self.0.classify(text)
    }
    fn subscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        self.0.subscribe_request(channels, private)
    }
    fn unsubscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        self.0.unsubscribe_request(channels, private)
    }
    fn confirmed_channels(&self, requested: &[String], result: &str) -> Vec<String> {
        self.0.confirmed_channels(requested, result)
    }
    fn sequence(&self, channel: &str, data: &RawValue) -> Option<Sequence> {
        if !channel.starts_with("trades.") {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(data.get()).ok()?;
        Some(Sequence {
            id: v["id"].as_u64()?,
            previous: v["prev"].as_u64(),
        })
    }
}

fn ids_of(events: &[(Option<wsnova_core::pool::ConnId>, Event)], channel: &str) -> Vec<u64> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Notification { channel: c, data } if c == channel => {
                let v: serde_json::Value = serde_json::from_str(data.as_str()).unwrap();
                v["id"].as_u64()
            }
            _ => None,
        })
        .collect()
}

fn limits(lifetime: Duration, margin: Duration) -> PoolLimits {
    PoolLimits {
        connection_lifetime: Some(lifetime),
        rotation_margin: margin,
        ..PoolLimits::default()
    }
}

#[test]
fn twenty_rotations_lose_and_duplicate_no_update_of_a_sequenced_stream() {
    let lifetime = Duration::from_secs(3);
    let mut sim = PoolSim::new(
        Sequenced::default(),
        limits(lifetime, Duration::from_secs(1)),
        |c| {
            c.heartbeat.ping_interval = None;
        },
    );
    sim.cut_after = Some(lifetime);
    sim.connect();
    sim.subscribe(&["trades.BTC"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, Duration::from_secs(1)));
    assert_eq!(sim.pool.duplicates_dropped(), 0, "no overlap yet");
    let mut sent = 0u64;
    let tick = Duration::from_millis(7);
    let mut rotations_seen = 0;
    while sim.elapsed_secs() < 60.0 {
        sent += 1;
        sim.server
            .notify("trades.BTC", json!({"id": sent, "prev": sent - 1, "p": 1}));
        // Alternate latencies so the new connection is sometimes ahead, sometimes behind.
        sim.latency = Duration::from_millis(1 + (sent % 5));
        sim.run_for(tick);
        rotations_seen = sim.pool.conns().map(|c| c.0).max().unwrap_or(0) - 1;
    }
    sim.latency = Duration::from_millis(1);
    sim.run_for(Duration::from_millis(100));
    let ids = ids_of(&sim.events, "trades.BTC");
    assert!(rotations_seen >= 20, "only {rotations_seen} rotations");
    assert_eq!(
        sim.cuts, 0,
        "the server had to cut a connection: rotation came too late"
    );
    let first = ids[0];
    let expected: Vec<u64> = (first..=sent).collect();
    let dups = ids.len() as i64 - {
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        unique.len() as i64
    };
    assert_eq!(dups, 0, "duplicates delivered");
    assert_eq!(ids, expected, "lost or reordered updates");
    assert!(first <= 2, "the stream started late: {first}");
    assert!(
        sim.pool.duplicates_dropped() > 0,
        "the overlaps were never exercised"
    );
    let subscribed: Vec<&Vec<String>> = sim
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Subscribed { channels } => Some(channels),
            _ => None,
        })
        .collect();
    assert_eq!(
        subscribed,
        [&vec!["trades.BTC".to_owned()]],
        "reported once, not again at each rotation"
    );
}

#[test]
fn a_stream_without_ids_switches_at_confirmation_within_a_narrow_window() {
    let lifetime = Duration::from_secs(2);
    let mut sim = PoolSim::new(
        Sequenced::default(),
        limits(lifetime, Duration::from_millis(500)),
        |c| {
            c.heartbeat.ping_interval = None;
        },
    );
    sim.cut_after = Some(lifetime);
    sim.connect();
    sim.subscribe(&["ticker.BTC"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, Duration::from_secs(1)));
    let mut sent = 0u64;
    while sim.elapsed_secs() < 12.0 {
        sent += 1;
        // The id is in the data, but the adapter does not read it: the pool cannot.
        sim.server.notify("ticker.BTC", json!({"id": sent}));
        sim.run_for(Duration::from_millis(10));
    }
    sim.run_for(Duration::from_millis(100));
    let ids = ids_of(&sim.events, "ticker.BTC");
    let rotations = sim.pool.conns().map(|c| c.0).max().unwrap() - 1;
    assert!(rotations >= 6, "too few rotations: {rotations}");
    assert_eq!(sim.cuts, 0);
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "out of order");
    let mut unique = ids.clone();
    unique.dedup();
    let duplicates = (ids.len() - unique.len()) as u64;
    let lost = sent - unique.len() as u64;
    // The documented window: at most one update per switch either way.
    assert!(
        duplicates <= rotations,
        "{duplicates} duplicates in {rotations} rotations"
    );
    assert!(
        lost <= rotations,
        "{lost} of {sent} lost in {rotations} rotations"
    );
}

#[test]
fn an_old_connection_lost_before_its_replacement_confirms_hands_delivery_over_with_a_gap() {
    let mut sim = PoolSim::new(
        Sequenced::default(),
        limits(Duration::from_secs(3), Duration::from_secs(1)),
        |c| {
            c.heartbeat.ping_interval = None;
        },
    );
    sim.connect();
    sim.subscribe(&["trades.BTC"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, Duration::from_secs(1)));
    for id in 1..=3 {
        sim.server
            .notify("trades.BTC", json!({"id": id, "prev": id - 1}));
    }
    // The rotation opens the replacement at an age of 2 s; the old one is
    // lost at that moment, and update 4 with it.
    assert!(sim.run_until(|s| s.pool.conns().count() == 2, Duration::from_secs(3)));
    sim.kill(ConnId(1));
    sim.server.notify("trades.BTC", json!({"id": 4, "prev": 3}));
    let old_lost = |s: &PoolSim<Sequenced>| {
        s.events
            .iter()
            .any(|(c, e)| *c == Some(ConnId(1)) && matches!(e, Event::Disconnected { .. }))
    };
    assert!(sim.run_until(old_lost, Duration::from_millis(100)));
    let replacement = sim.pool.session(ConnId(2)).expect("open");
    assert_eq!(
        replacement.confirmed_subscriptions().count(),
        0,
        "not confirmed yet"
    );
    assert_eq!(
        sim.pool.delivering("trades.BTC"),
        Some(ConnId(2)),
        "the only connection left delivers from now on"
    );
    assert!(sim.run_until(
        |s| s.pool.role(ConnId(2)) == Some(Role::Active) && s.confirmed_everywhere() == 1,
        Duration::from_secs(1)
    ));
    for id in 5..=6 {
        sim.server
            .notify("trades.BTC", json!({"id": id, "prev": id - 1}));
    }
    sim.run_for(Duration::from_millis(100));
    assert_eq!(
        ids_of(&sim.events, "trades.BTC"),
        [1, 2, 3, 5, 6],
        "a gap, not a hang"
    );
    assert_eq!(sim.pool.delivering("trades.BTC"), Some(ConnId(2)));
}

#[test]
fn a_gap_on_the_delivering_connection_reaches_the_application_once() {
    let mut sim = PoolSim::new(Sequenced::default(), PoolLimits::default(), |c| {
        c.heartbeat.ping_interval = None;
    });
    sim.connect();
    sim.subscribe(&["trades.BTC"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, Duration::from_secs(1)));
    for (id, prev) in [(1, 0), (2, 1), (4, 3)] {
        sim.server
            .notify("trades.BTC", json!({"id": id, "prev": prev}));
    }
    sim.run_for(Duration::from_millis(50));
    let gaps: Vec<&Event> = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Gap { .. }))
        .map(|(_, e)| e)
        .collect();
    assert_eq!(
        gaps,
        [&Event::Gap {
            channel: "trades.BTC".into(),
            expected: 2,
            got: 3
        }]
    );
}

/// `trades.NN` for `range`.
fn trades(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("trades.{i:02}")).collect()
}

fn as_refs(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

#[test]
fn a_lost_connections_channel_placed_on_a_replacement_is_delivered_from_it_at_once() {
    let ten = PoolLimits {
        max_streams_per_connection: Some(10),
        ..limits(Duration::from_secs(10), Duration::from_secs(2))
    };
    let mut sim = PoolSim::new(Sequenced::default(), ten, |c| {
        c.heartbeat.ping_interval = None;
        c.request_timeout = Duration::from_secs(60);
    });
    sim.connect();
    sim.subscribe(&as_refs(&trades(0..10)));
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 10, Duration::from_secs(1)));
    sim.run_for(Duration::from_secs(1));
    sim.subscribe(&as_refs(&trades(10..20))); // a second connection, a second younger
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 20, Duration::from_secs(1)));
    sim.server.notify("trades.10", json!({"id": 1, "prev": 0}));
    // A request never answered keeps connection 1 busy through its rotation.
    sim.pool.request(sim.now, "silent", "{}").unwrap();
    assert!(sim.run_until(|s| s.pool.conns().count() == 3, Duration::from_secs(8)));
    assert_eq!(sim.pool.role(ConnId(3)), Some(Role::Replacing(ConnId(1))));
    // Every connection is full: five more open a fourth; five fewer leave
    // room on the replacement.
    sim.subscribe(&as_refs(&trades(20..25)));
    sim.pool
        .unsubscribe(sim.now, &as_refs(&trades(0..5)))
        .unwrap();
    assert!(sim.run_until(
        |s| {
            s.pool
                .session(ConnId(4))
                .is_some_and(|c| c.confirmed_subscriptions().count() == 5)
        },
        Duration::from_millis(500)
    ));
    // Connection 2 is lost: five of its channels go where there is room,
    // the replacement first (the lowest id).
    sim.kill(ConnId(2));
    let moved = |s: &PoolSim<Sequenced>| {
        s.pool
            .session(ConnId(3))
            .is_some_and(|c| c.confirmed_subscriptions().any(|ch| ch == "trades.10"))
    };
    assert!(sim.run_until(moved, Duration::from_millis(500)));
    assert_eq!(sim.pool.delivering("trades.10"), Some(ConnId(3)));
    sim.server.notify("trades.10", json!({"id": 2, "prev": 1}));
    sim.run_for(Duration::from_millis(50));
    assert_eq!(ids_of(&sim.events, "trades.10"), [1, 2]);
}
