//! Failover in a pool: a lost connection's channels move to connections
//! with room and are confirmed there within the backoff; what does not fit
//! comes back with the lost connection's own reconnect; requests go to the
//! least loaded ready connection.

use std::time::Duration;

use wsnova_core::pool::{ConnId, PoolLimits};
use wsnova_core::session::{BackoffConfig, BackoffStrategy, Event, RequestError, SessionConfig};
use wsnova_tests::sim::{PoolSim, TestRpc, server_key};

fn names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("ticker.{i:02}")).collect()
}

fn refs(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

/// The server keys of the sockets that received each `echo`, in order.
fn echo_keys(sim: &PoolSim<TestRpc>) -> Vec<u64> {
    sim.server
        .received
        .iter()
        .filter(|r| r.method == "echo")
        .map(|r| r.generation)
        .collect()
}

/// Every request outcome the application saw, in order.
fn outcomes(sim: &PoolSim<TestRpc>) -> Vec<&Event> {
    sim.events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Response { .. } | Event::RequestFailed { .. }))
        .map(|(_, e)| e)
        .collect()
}

/// A one-second backoff without jitter, so "within the backoff" is exact;
/// no pings; a request times out after a second.
fn configure(c: &mut SessionConfig) {
    c.backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_secs(1),
        ..BackoffConfig::default()
    };
    c.heartbeat.ping_interval = None;
    c.request_timeout = Duration::from_secs(1); // a request never answered fails soon
}

fn ten_per_connection() -> PoolLimits {
    PoolLimits {
        max_streams_per_connection: Some(10),
        ..PoolLimits::default()
    }
}

/// A pool (ten channels a connection) with `channels` subscribed and confirmed.
fn confirmed(channels: std::ops::Range<usize>) -> (PoolSim<TestRpc>, Vec<String>) {
    let mut sim = PoolSim::new(TestRpc::default(), ten_per_connection(), configure);
    sim.connect();
    let all = names(channels);
    sim.subscribe(&refs(&all));
    let n = all.len();
    assert!(sim.run_until(|s| s.confirmed_everywhere() == n, Duration::from_secs(1)));
    (sim, all)
}

#[test]
fn a_killed_connections_subscriptions_are_confirmed_elsewhere_within_the_backoff() {
    let (mut sim, _) = confirmed(0..12);
    assert_eq!(sim.serving().count(), 2, "12 channels at 10 per connection");
    // Leave room on the second connection for the first's channels.
    let first: Vec<String> = sim
        .pool
        .assignment()
        .channels(ConnId(1))
        .map(str::to_owned)
        .collect();
    assert_eq!(first.len(), 10);
    sim.unsubscribe(&refs(&first[..5]));
    sim.run_for(Duration::from_millis(50)); // the unsubscribe is answered
    assert_eq!(sim.confirmed_everywhere(), 7);

    let killed_at = sim.now;
    sim.kill(ConnId(1));
    let moved = sim.run_until(
        |s| s.confirmed_everywhere() == 7 && s.pool.assignment().channels(ConnId(2)).count() == 7,
        Duration::from_millis(999),
    );
    assert!(
        moved,
        "not all confirmed on connection 2 within the backoff"
    );
    let took = sim.now - killed_at;
    assert!(took < Duration::from_millis(50), "took {took:?}");
    // Before the backoff ended, the lost connection had not dialled again.
    assert!(
        sim.dials
            .iter()
            .all(|(at, c)| *c != ConnId(1) || *at <= killed_at)
    );
    let moved_channels: Vec<&str> = first[5..].iter().map(String::as_str).collect();
    assert!(
        moved_channels
            .iter()
            .all(|c| sim.pool.delivering(c) == Some(ConnId(2))),
        "delivery did not follow"
    );

    // Its reconnect comes back empty, and an empty connection is closed.
    sim.run_for(Duration::from_secs(3));
    assert_eq!(sim.pool.conns().collect::<Vec<_>>(), vec![ConnId(2)]);
    assert_eq!(sim.confirmed_everywhere(), 7);
    // The application saw each channel subscribed once, never unsubscribed by the move.
    let unsubscribed: usize = sim
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Unsubscribed { channels } => Some(channels.len()),
            _ => None,
        })
        .sum();
    assert_eq!(unsubscribed, 5, "only the five the application dropped");
}

#[test]
fn without_room_elsewhere_the_channels_come_back_with_the_reconnect() {
    let (mut sim, _) = confirmed(0..20);
    let killed_at = sim.now;
    sim.kill(ConnId(1));
    sim.run_for(Duration::from_millis(900));
    assert_eq!(
        sim.confirmed_everywhere(),
        10,
        "no room: they wait for the reconnect"
    );
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 20, Duration::from_secs(2)));
    let took = sim.now - killed_at;
    assert!(
        took >= Duration::from_secs(1),
        "came back before the backoff: {took:?}"
    );
    assert!(took < Duration::from_millis(1100), "{took:?}");
    assert_eq!(sim.pool.conns().count(), 2);
}

#[test]
fn requests_go_to_the_least_loaded_ready_connection_and_keep_the_pools_ids() {
    let (mut sim, _) = confirmed(0..12);
    let a = sim.pool.request(sim.now, "echo", r#"{"n":1}"#).unwrap();
    let b = sim.pool.request(sim.now, "echo", r#"{"n":2}"#).unwrap();
    assert_ne!(a, b);
    sim.run_for(Duration::from_millis(50));
    let responses: Vec<_> = sim
        .events
        .iter()
        .filter_map(|(conn, e)| match e {
            Event::Response { id, result } => Some((*conn, *id, result.as_str().to_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert!(responses.contains(&(Some(ConnId(2)), a, r#"{"n":1}"#.to_owned())));
    assert!(responses.contains(&(Some(ConnId(2)), b, r#"{"n":2}"#.to_owned())));
    let echo_keys = echo_keys(&sim);
    assert!(
        echo_keys.iter().all(|k| *k == server_key(ConnId(2), 1)),
        "{echo_keys:?}"
    );
}

#[test]
fn a_connection_not_ready_yet_takes_none_of_a_lost_ones_channels() {
    let (mut sim, _) = confirmed(0..10);
    let all = names(0..15);
    // Five more open a second connection; the first is lost before the
    // second is ready (its EOF arrives after one latency, the second's
    // upgrade takes two).
    sim.subscribe(&refs(&all[10..]));
    sim.kill(ConnId(1));
    sim.run_for(Duration::from_millis(1));
    let position = |conn: u64, ready: bool| {
        sim.events.iter().position(|(c, e)| {
            *c == Some(ConnId(conn))
                && if ready {
                    *e == Event::Ready
                } else {
                    matches!(e, Event::Disconnected { .. })
                }
        })
    };
    assert!(position(1, false).is_some(), "the first was lost");
    assert_eq!(position(2, true), None, "before the second was ready");
    // The ten wait for the first's reconnect; the second keeps its five.
    assert_eq!(sim.pool.assignment().channels(ConnId(1)).count(), 10);
    assert_eq!(sim.pool.assignment().channels(ConnId(2)).count(), 5);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 15, Duration::from_secs(2)));
    assert_eq!(sim.pool.assignment().channels(ConnId(1)).count(), 10);
    assert_eq!(sim.pool.assignment().channels(ConnId(2)).count(), 5);
}

#[test]
fn an_unsubscribe_lost_with_its_connection_never_blocks_the_channel_again() {
    let mut sim = PoolSim::new(TestRpc::default(), PoolLimits::default(), configure);
    sim.connect();
    sim.subscribe(&["ticker.A", "ticker.B"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 2, Duration::from_secs(1)));
    sim.server.behaviour.swallow_unsubscribes = 1;
    sim.unsubscribe(&["ticker.A"]);
    sim.run_for(Duration::from_millis(50)); // sent, never answered
    assert_eq!(sim.server.count("public/unsubscribe"), 1);
    sim.kill(ConnId(1));
    assert!(sim.run_until(
        |s| s.serving().count() == 1 && s.server_subscriptions() == ["ticker.B"],
        Duration::from_secs(3)
    ));
    // Wanted again on the new transport: subscribed at once.
    let asked_at = sim.now;
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 2, Duration::from_secs(5)));
    assert!(
        sim.now - asked_at < Duration::from_millis(50),
        "{:?}",
        sim.now - asked_at
    );
}

#[test]
fn reconnects_count_once_in_the_connection_window() {
    let two_per_ten_seconds = PoolLimits {
        max_new_connections: Some(2),
        per_window: Duration::from_secs(10),
        ..PoolLimits::default()
    };
    let mut sim = PoolSim::new(TestRpc::default(), two_per_ten_seconds, configure);
    sim.connect();
    sim.subscribe(&["ticker.A"]);
    assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, Duration::from_secs(1)));
    let mut kills = Vec::new();
    for _ in 0..3 {
        kills.push(sim.now);
        sim.kill(ConnId(1));
        assert!(sim.run_until(
            |s| s.dials.len() == kills.len() + 1 && s.confirmed_everywhere() == 1,
            Duration::from_secs(30)
        ));
    }
    let dials: Vec<_> = sim.dials.iter().map(|(at, _)| *at).collect();
    // The first reconnect fits the window beside the first open: after its
    // one-second backoff, not later.
    let first = dials[1] - kills[0];
    assert!(
        first >= Duration::from_secs(1) && first < Duration::from_millis(1_010),
        "{first:?}"
    );
    // The window is full then: the next two wait for it, ten seconds after
    // the dial each replaces in it.
    assert!(dials[2] >= dials[0] + Duration::from_secs(10), "{dials:?}");
    assert!(dials[3] >= dials[1] + Duration::from_secs(10), "{dials:?}");
    assert_eq!(sim.max_dials_within(Duration::from_secs(10)), 2);
}

#[test]
fn a_request_waiting_for_its_answer_counts_in_its_connections_load() {
    let (mut sim, _) = confirmed(0..20);
    // Ten channels each: the first request goes to the lower id, the
    // second, while the first waits, to the other one.
    sim.pool.request(sim.now, "echo", "{}").unwrap();
    sim.pool.request(sim.now, "echo", "{}").unwrap();
    sim.run_for(Duration::from_millis(50));
    let echo_keys = echo_keys(&sim);
    assert_eq!(
        echo_keys,
        [server_key(ConnId(1), 1), server_key(ConnId(2), 1)]
    );
}

#[test]
fn a_request_goes_to_a_ready_connection_rather_than_an_idle_one_coming_up() {
    let (mut sim, _) = confirmed(0..10);
    let all = names(0..11);
    // The eleventh opens a second connection, lightly loaded but not ready.
    sim.subscribe(&refs(&all[10..]));
    assert_eq!(sim.pool.conns().count(), 2);
    sim.pool.request(sim.now, "echo", "{}").unwrap();
    sim.run_for(Duration::from_millis(50));
    let echo_keys = echo_keys(&sim);
    assert_eq!(echo_keys, [server_key(ConnId(1), 1)]);
}

#[test]
fn a_connection_closing_leaves_the_requests_of_the_others_alone() {
    let (mut sim, all) = confirmed(0..20);
    // Ten each: the request goes to connection 1; the server never answers it.
    let id = sim.pool.request(sim.now, "silent", "{}").unwrap();
    // Connection 2 is left empty and closed by the pool.
    sim.pool.unsubscribe(sim.now, &refs(&all[10..])).unwrap();
    assert!(sim.run_until(|s| s.pool.conns().count() == 1, Duration::from_millis(500)));
    sim.run_for(Duration::from_secs(2));
    let outcomes = outcomes(&sim);
    assert_eq!(
        outcomes,
        [&Event::RequestFailed {
            id,
            error: RequestError::Timeout
        }]
    );
}

#[test]
fn an_empty_connection_stays_open_until_its_requests_end() {
    let (mut sim, all) = confirmed(0..15);
    // Five channels against ten: the request goes to connection 2, which
    // the server never answers; then connection 2 is left empty.
    let asked_at = sim.now;
    let id = sim.pool.request(sim.now, "silent", "{}").unwrap();
    sim.pool.unsubscribe(sim.now, &refs(&all[10..])).unwrap();
    sim.run_for(Duration::from_millis(900));
    assert!(
        sim.pool.conns().any(|c| c == ConnId(2)),
        "kept for its request"
    );
    assert!(sim.run_until(|s| s.pool.conns().count() == 1, Duration::from_secs(1)));
    assert!(
        sim.now - asked_at >= Duration::from_secs(1),
        "closed only after the timeout"
    );
    let outcomes = outcomes(&sim);
    assert_eq!(
        outcomes,
        [&Event::RequestFailed {
            id,
            error: RequestError::Timeout
        }]
    );
}
