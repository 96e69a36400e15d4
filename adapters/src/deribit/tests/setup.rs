//! Subscriptions, book sequences, costs, retries, on-connect requests and
//! the disconnect policy.

use std::time::Duration;

use serde_json::json;
use serde_json::value::RawValue;
use wsnova_core::session::{Adapter, DisconnectReason, Policy, Sequence};
use wsnova_core::wire::{CloseCode, CloseFrame, RetryAfter, WireError};

use super::{params, rpc_error};
use crate::deribit::{CancelScope, Credits, Deribit, MATCHING_ENGINE, NON_MATCHING_ENGINE, Tier};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn private_channels_are_user_and_raw_ones() {
    let adapter = Deribit::new();
    for private in [
        "user.orders.BTC-PERPETUAL.raw",
        "user.portfolio.btc",
        "user.changes.future.BTC.100ms",
        "book.BTC-PERPETUAL.raw",
        "trades.ETH-PERPETUAL.raw",
        "ticker.BTC-PERPETUAL.raw",
    ] {
        assert!(adapter.is_private(private), "{private}");
    }
    for public in [
        "book.BTC-PERPETUAL.100ms",
        "book.BTC-PERPETUAL.none.10.100ms",
        "ticker.BTC-PERPETUAL.100ms",
        "quote.BTC-PERPETUAL",
        "deribit_price_index.btc_usd",
        "platform_state",
        "announcements",
        "rawish.channel",
    ] {
        assert!(!adapter.is_private(public), "{public}");
    }
    let extended = Deribit::new().with_private_prefix("block_rfq.");
    assert!(extended.is_private("block_rfq.maker.BTC"));
}

#[test]
fn subscribe_and_unsubscribe_pick_public_or_private_methods() {
    let adapter = Deribit::new();
    let channels = strings(&["user.orders.any.any.raw", "book.BTC-PERPETUAL.raw"]);
    let cases = [
        (
            adapter.subscribe_request(&channels, true),
            "private/subscribe",
        ),
        (
            adapter.subscribe_request(&channels, false),
            "public/subscribe",
        ),
        (
            adapter.unsubscribe_request(&channels, true),
            "private/unsubscribe",
        ),
        (
            adapter.unsubscribe_request(&channels, false),
            "public/unsubscribe",
        ),
    ];
    for (request, method) in cases {
        let request = request.unwrap();
        assert_eq!(request.method, method);
        assert_eq!(params(&request), json!({ "channels": channels }));
    }
    let all = adapter.unsubscribe_all_request(true);
    assert_eq!(
        (all.method.as_str(), all.params.as_str()),
        ("private/unsubscribe_all", "{}")
    );
    assert_eq!(
        adapter.unsubscribe_all_request(false).method,
        "public/unsubscribe_all"
    );
}

#[test]
fn only_returned_channels_are_confirmed() {
    let adapter = Deribit::new();
    let requested = strings(&["ticker.A.100ms", "ticker.B.100ms", "ticker.C.100ms"]);
    assert_eq!(
        adapter.confirmed_channels(&requested, r#"["ticker.C.100ms","ticker.A.100ms","other"]"#),
        strings(&["ticker.A.100ms", "ticker.C.100ms"])
    );
    assert_eq!(
        adapter.confirmed_channels(&requested, "[]"),
        Vec::<String>::new()
    );
    assert_eq!(
        adapter.confirmed_channels(&requested, r#""ok""#),
        Vec::<String>::new()
    );
    assert_eq!(
        adapter.confirmed_channels(&requested, "[1,2]"),
        Vec::<String>::new()
    );
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).unwrap()
}

#[test]
fn book_sequences() {
    let adapter = Deribit::new();
    let snapshot = raw(
        r#"{"type":"snapshot","timestamp":1,"instrument_name":"BTC-PERPETUAL","change_id":10,"bids":[["new",1.0,2.0]],"asks":[]}"#,
    );
    assert_eq!(
        adapter.sequence("book.BTC-PERPETUAL.100ms", &snapshot),
        Some(Sequence {
            id: 10,
            previous: None
        })
    );
    let change = raw(
        r#"{"type":"change","timestamp":2,"instrument_name":"BTC-PERPETUAL","change_id":12,"prev_change_id":10,"bids":[],"asks":[["delete",3.0,0.0]]}"#,
    );
    assert_eq!(
        adapter.sequence("book.BTC-PERPETUAL.raw", &change),
        Some(Sequence {
            id: 12,
            previous: Some(10)
        })
    );
    // A snapshot that names a previous change still starts a new sequence.
    let odd = raw(r#"{"type":"snapshot","change_id":5,"prev_change_id":4}"#);
    assert_eq!(
        adapter.sequence("book.X.100ms", &odd),
        Some(Sequence {
            id: 5,
            previous: None
        })
    );
    // Grouped books: full snapshots without prev_change_id.
    let grouped =
        raw(r#"{"timestamp":1,"instrument_name":"X","change_id":7,"bids":[[1.0,2.0]],"asks":[]}"#);
    assert_eq!(
        adapter.sequence("book.X.none.10.100ms", &grouped),
        Some(Sequence {
            id: 7,
            previous: None
        })
    );
    // Other channels, and book data without a change id: not sequenced.
    assert_eq!(
        adapter.sequence("ticker.BTC-PERPETUAL.100ms", &change),
        None
    );
    assert_eq!(adapter.sequence("trades.BTC-PERPETUAL.raw", &change), None);
    assert_eq!(
        adapter.sequence("book.X.100ms", &raw(r#"{"bids":[]}"#)),
        None
    );
    assert_eq!(adapter.sequence("book.X.100ms", &raw("[1]")), None);
}

#[test]
fn costs_follow_the_credit_model() {
    let adapter = Deribit::new();
    assert_eq!(adapter.cost("public/get_time"), 500);
    assert_eq!(adapter.cost("private/get_positions"), 500);
    assert_eq!(adapter.cost("public/subscribe"), 3_000);
    assert_eq!(adapter.cost("private/subscribe"), 3_000);
    assert_eq!(adapter.cost("public/unsubscribe"), 500);
    // Orders are charged to the matching engine's own bucket, one request each.
    assert_eq!(adapter.cost("private/buy"), 1);
    assert_eq!(adapter.rate_charge("private/buy").class, MATCHING_ENGINE);
    assert_eq!(
        adapter.rate_charge("private/cancel_all").class,
        MATCHING_ENGINE
    );
    assert_eq!(
        adapter.rate_charge("public/ticker").class,
        NON_MATCHING_ENGINE
    );
    let declared = adapter.default_rate_limits();
    assert_eq!(declared.len(), 2, "both classes limited by default");
    let me = declared
        .iter()
        .find(|(c, _)| *c == MATCHING_ENGINE)
        .unwrap()
        .1;
    assert_eq!(
        (me.capacity, me.refill_amount),
        (20, 5),
        "Tier 4: burst 20, 5/s"
    );
    let limit = adapter.rate_limit(64);
    assert_eq!(
        (
            limit.capacity,
            limit.refill_amount,
            limit.refill_interval,
            limit.queue_capacity
        ),
        (50_000, 10_000, Duration::from_secs(1), 64)
    );

    let custom = Deribit::new()
        .with_credits(Credits {
            tier: Tier::Tier1,
            ..Credits::default()
        })
        .with_cost("public/get_instruments", 1_000)
        .with_cost("public/get_instruments", 2_000)
        .with_cost("private/sell", 333);
    assert_eq!(
        custom.cost("private/sell"),
        1,
        "an order stays a matching-engine request"
    );
    let me = custom.credits().matching_engine_limit();
    assert_eq!((me.capacity, me.refill_amount), (100, 30));
    assert_eq!(custom.cost("public/get_instruments"), 2_000);
    assert_eq!(custom.credits().overrides.len(), 2);
}

#[test]
fn transient_errors_are_retried_later_and_10028_ends_the_session() {
    let adapter = Deribit::new();
    let after = |code| adapter.retry_after(&rpc_error(code, "x", None));
    // 10028: Deribit terminates the session; never re-sent on it.
    assert_eq!(after(10028), None);
    assert!(adapter.ends_session(&rpc_error(10028, "too_many_requests", None)));
    assert!(!adapter.ends_session(&rpc_error(10066, "x", None)));
    assert_eq!(after(10066), Some(Duration::from_millis(500)));
    assert_eq!(after(10040), Some(Duration::from_millis(500)));
    assert_eq!(after(10047), Some(Duration::from_millis(500)));
    assert_eq!(after(13028), Some(Duration::from_millis(500)));
    for final_code in [11050, 13004, 13009, -32602, 11051] {
        assert_eq!(after(final_code), None, "{final_code}");
    }
    let tuned = Deribit::new()
        .with_rate_limit_delay(Duration::from_secs(2))
        .with_transient_retry(None);
    assert_eq!(
        tuned.retry_after(&rpc_error(10066, "too_many_concurrent_requests", None)),
        Some(Duration::from_secs(2))
    );
    let ended = DisconnectReason::SessionEnded(rpc_error(10028, "too_many_requests", None));
    assert_eq!(
        tuned.disconnect_policy(&ended),
        Policy::ReconnectAfter(Duration::from_secs(2))
    );
    assert_eq!(tuned.retry_after(&rpc_error(13028, "x", None)), None);
}

#[test]
fn on_connected_sets_heartbeat_then_cancel_on_disconnect() {
    assert!(Deribit::new().on_connected().is_empty());
    let adapter = Deribit::new()
        .with_heartbeat(Duration::from_secs(30))
        .with_cancel_on_disconnect(CancelScope::Connection);
    let requests = adapter.on_connected();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "public/set_heartbeat");
    assert_eq!(params(&requests[0]), json!({"interval": 30}));
    assert_eq!(requests[1].method, "private/enable_cancel_on_disconnect");
    assert_eq!(params(&requests[1]), json!({"scope": "connection"}));
    // Deribit's minimum is 10 s; fractions round up.
    let short = Deribit::new().with_heartbeat(Duration::from_secs(1));
    assert_eq!(short.heartbeat_interval(), Some(10));
    let fractional = Deribit::new().with_heartbeat(Duration::from_millis(15_200));
    assert_eq!(fractional.heartbeat_interval(), Some(16));
    let account = Deribit::new().with_cancel_on_disconnect(CancelScope::Account);
    assert_eq!(
        params(&account.on_connected()[0]),
        json!({"scope": "account"})
    );
}

#[test]
fn disconnect_policy() {
    let adapter = Deribit::new().with_maintenance_delay(Duration::from_secs(60));
    let policy = |reason: DisconnectReason| adapter.disconnect_policy(&reason);
    assert_eq!(
        policy(DisconnectReason::AuthFailed("invalid_credentials".into())),
        Policy::Stop
    );
    assert_eq!(
        policy(DisconnectReason::AuthFailed("system_maintenance".into())),
        Policy::ReconnectAfter(Duration::from_secs(60))
    );
    let closed = CloseFrame {
        code: CloseCode::from(1001),
        reason: "system_maintenance".into(),
    };
    assert_eq!(
        policy(DisconnectReason::ServerClosed(closed)),
        Policy::ReconnectAfter(Duration::from_secs(60))
    );
    let rejected = |status, retry_after: Option<&str>| {
        DisconnectReason::Wire(WireError::UpgradeRejected {
            status,
            reason: String::new(),
            retry_after: retry_after.and_then(RetryAfter::parse),
            body_excerpt: String::new(),
        })
    };
    assert_eq!(
        policy(rejected(503, None)),
        Policy::ReconnectAfter(Duration::from_secs(60))
    );
    // With `Retry-After` the core waits it out (jittered): the adapter
    // adds nothing; without, Deribit's own rate-limit wait applies.
    assert_eq!(policy(rejected(429, Some("7"))), Policy::Reconnect);
    assert_eq!(policy(rejected(503, Some("7"))), Policy::Reconnect);
    assert_eq!(
        policy(rejected(429, None)),
        Policy::ReconnectAfter(Duration::from_millis(500))
    );
    assert_eq!(policy(rejected(404, None)), Policy::Reconnect);
    assert_eq!(policy(DisconnectReason::PongTimeout), Policy::Reconnect);
    assert_eq!(
        policy(DisconnectReason::AuthFailed(
            "authentication timed out".into()
        )),
        Policy::Reconnect
    );
}
