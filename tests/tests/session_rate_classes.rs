//! Rate limits by class, in virtual time against the fake exchange: each
//! class has its own bucket and queue, so a class out of tokens never delays
//! another (a property over random traffic); a refusal that ends the
//! server's session (Deribit's 10028) drops the connection and sends the
//! request again on the next one, never on the dead one; limits change on a
//! live session without a reconnect.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;
use wsnova_core::session::{
    Credentials, DisconnectReason, Event, RateClass, RateLimitConfig, RateLimits, SessionError,
    SessionState,
};
use wsnova_tests::sim::{Sim, TestRpc};

const SECOND: Duration = Duration::from_secs(1);
const ORDERS: RateClass = RateClass::new("orders");
const MARKET: RateClass = RateClass::new("market");

fn limit(capacity: u64, refill_amount: u64, refill_interval: Duration) -> RateLimitConfig {
    RateLimitConfig {
        capacity,
        refill_amount,
        refill_interval,
        queue_capacity: 1_000,
    }
}

/// `private/order*` in [`ORDERS`], `private/market*` in [`MARKET`], both
/// declared by the adapter with `orders` and `market` limits (market data
/// first, so its lane is served first: it must still not hold orders up).
fn adapter(orders: RateLimitConfig, market: RateLimitConfig) -> TestRpc {
    TestRpc {
        classes: vec![
            ("private/order".into(), ORDERS),
            ("private/market".into(), MARKET),
        ],
        declared_limits: vec![(MARKET, market), (ORDERS, orders)],
        ..TestRpc::default()
    }
}

/// A ready, authenticated session with long request deadlines.
fn ready(adapter: TestRpc) -> Sim<TestRpc> {
    let mut sim = Sim::new(adapter, |config| {
        config.credentials = Some(Credentials::new("client", "s3cret"));
        config.request_timeout = Duration::from_secs(3_600);
    });
    sim.connect();
    assert!(
        sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND),
        "not ready: {:?}",
        sim.events
    );
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
fn orders_go_at_once_while_market_data_waits_for_its_credits() {
    // Market data: a burst of 2, then one per 10 s. Orders: a burst of 5.
    let mut sim = ready(adapter(
        limit(5, 5, SECOND),
        limit(2, 1, Duration::from_secs(10)),
    ));
    for n in 0..10 {
        sim.request("private/market", &json!({ "n": n }).to_string());
    }
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim, "private/market"), 2, "the market burst");
    assert_eq!(sim.client.queued_in(MARKET), 8);
    for n in 0..5 {
        sim.request("private/order", &json!({ "n": n }).to_string());
    }
    sim.run_for(Duration::from_millis(5));
    assert_eq!(
        received(&sim, "private/order"),
        5,
        "orders never wait behind market data"
    );
    assert_eq!(sim.client.queued_in(ORDERS), 0);
    assert_eq!(sim.client.rate_limit_tokens_of(ORDERS, sim.now), Some(0));
    assert_eq!(sim.client.rate_limit_tokens_of(MARKET, sim.now), Some(0));
    // The sixth order waits for its own bucket only (5 per second).
    sim.request("private/order", "{}");
    sim.run_for(Duration::from_millis(150));
    assert_eq!(received(&sim, "private/order"), 5);
    sim.run_for(Duration::from_millis(100));
    assert_eq!(received(&sim, "private/order"), 6, "after 200 ms");
    assert_eq!(received(&sim, "private/market"), 2, "market still waits");
}

#[test]
fn rate_limits_are_on_by_default_from_the_adapter_and_can_be_lifted() {
    let orders = limit(1, 1, Duration::from_secs(60));
    let mut sim = ready(adapter(orders, orders));
    assert_eq!(
        sim.client.effective_rate_limits(),
        vec![(MARKET, orders), (ORDERS, orders)]
    );
    for _ in 0..3 {
        sim.request("private/order", "{}");
    }
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim, "private/order"), 1, "limited by default");

    // Lifted for orders only, live: what waits goes at once, no reconnect.
    let now = sim.now;
    sim.client
        .set_rate_limits(now, RateLimits::default().without(ORDERS))
        .expect("valid limits");
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim, "private/order"), 3);
    assert_eq!(sim.client.rate_limit_tokens_of(ORDERS, sim.now), None);
    assert_eq!(sim.dials.len(), 1, "no reconnect");
    assert_eq!(
        sim.client.effective_rate_limits(),
        vec![(MARKET, orders)],
        "market keeps the adapter's limit"
    );
}

#[test]
fn set_rate_limits_changes_a_tier_live_keeps_the_level_and_survives_reconnects() {
    let tier4 = limit(2, 1, Duration::from_secs(10));
    let mut sim = ready(adapter(tier4, tier4));
    for _ in 0..6 {
        sim.request("private/order", "{}");
    }
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim, "private/order"), 2, "Tier 4's burst");

    // A bigger tier: no fresh burst (the level stays 0), then its rate.
    let tier1 = limit(100, 20, SECOND);
    let now = sim.now;
    sim.client
        .set_rate_limits(now, RateLimits::default().with(ORDERS, tier1))
        .expect("valid");
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim, "private/order"), 2, "no fresh burst");
    sim.run_for(Duration::from_millis(200));
    assert_eq!(received(&sim, "private/order"), 6, "20 per second");
    assert_eq!(sim.dials.len(), 1, "no reconnect");

    // Nonsense is refused and changes nothing.
    let broken = RateLimitConfig {
        capacity: 0,
        ..tier1
    };
    let now = sim.now;
    let err = sim
        .client
        .set_rate_limits(now, RateLimits::default().with(ORDERS, broken))
        .unwrap_err();
    assert!(matches!(err, SessionError::Config(_)), "{err:?}");
    assert_eq!(sim.client.rate_limits().get(ORDERS), Some(Some(tier1)));

    // The new tier holds on the next connection too.
    sim.drop_connection();
    assert!(sim.run_until(
        |s| s.dials.len() == 2 && s.client.state() == SessionState::Ready,
        10 * SECOND
    ));
    let now = sim.now;
    assert_eq!(
        sim.client.effective_rate_limits()[1],
        (ORDERS, tier1),
        "kept across the reconnect"
    );
    assert!(sim.client.rate_limit_tokens_of(ORDERS, now).is_some());
}

#[test]
fn a_refusal_that_ends_the_session_reconnects_and_sends_again_on_the_new_connection() {
    let unlimited = limit(1_000, 1_000, SECOND);
    let mut sim = ready(TestRpc {
        session_ending_codes: vec![10028],
        ..adapter(unlimited, unlimited)
    });
    // The server refuses the next request with 10028 but never closes: the
    // client must not go on using the session the server says it ended.
    sim.server.behaviour.too_many_requests = 1;
    let id = sim.request("echo", r#"{"n":7}"#);
    assert!(
        sim.run_until(
            |s| s
                .events
                .iter()
                .any(|e| matches!(e, Event::Response { id: i, .. } if *i == id)),
            10 * SECOND
        ),
        "{:?}",
        sim.events
    );
    let echoes: Vec<u64> = sim
        .server
        .received
        .iter()
        .filter(|r| r.method == "echo")
        .map(|r| r.generation)
        .collect();
    assert_eq!(echoes.len(), 2, "refused once, sent once more");
    assert_ne!(echoes[0], echoes[1], "never again on the dead session");
    assert!(sim.events.iter().any(|e| matches!(
        e,
        Event::Disconnected { reason: DisconnectReason::SessionEnded(err), .. } if err.code == 10028
    )));
    assert!(
        !sim.events
            .iter()
            .any(|e| matches!(e, Event::RequestFailed { id: i, .. } if *i == id)),
        "one outcome: the response"
    );
    assert_eq!(sim.dials.len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the market-data traffic (its bucket nearly always empty),
    /// the orders reach the server at exactly the same moments as without
    /// any market data at all.
    #[test]
    fn a_class_out_of_tokens_never_delays_another(
        ops in proptest::collection::vec((any::<bool>(), 0u64..300), 1..40),
    ) {
        let orders = limit(3, 2, SECOND);
        let market = limit(1, 1, Duration::from_secs(5));
        let run = |with_market: bool| {
            let mut sim = ready(adapter(orders, market));
            let mut seen = Vec::new();
            for (n, (is_order, advance_ms)) in ops.iter().enumerate() {
                let params = json!({ "n": n }).to_string();
                if *is_order {
                    sim.request("private/order", &params);
                } else if with_market {
                    sim.request("private/market", &params);
                }
                sim.run_for(Duration::from_millis(*advance_ms));
                seen.push(received(&sim, "private/order"));
            }
            sim.run_for(Duration::from_secs(3));
            seen.push(received(&sim, "private/order"));
            seen
        };
        prop_assert_eq!(run(true), run(false));
    }
}

#[test]
fn what_waited_for_ready_goes_by_lane_the_default_class_first() {
    let roomy = limit(100, 100, SECOND);
    let mut sim = Sim::new(adapter(roomy, roomy), |config| {
        config.credentials = Some(Credentials::new("client", "s3cret"));
    });
    sim.connect();
    // Queued before the session is ready, in this order.
    sim.request("private/order_a", "{}");
    sim.request("private/market_a", "{}");
    sim.request("public/get_time", "{}");
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));
    sim.drive();
    let sent: Vec<&str> = sim
        .server
        .received
        .iter()
        .map(|r| r.method.as_str())
        .filter(|m| *m != "public/auth")
        .collect();
    // Lanes are served in order: the default class's first, then the
    // classes as the adapter declared them (market, then orders).
    assert_eq!(
        sent,
        ["public/get_time", "private/market_a", "private/order_a"]
    );
}
