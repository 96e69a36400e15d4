//! The mock Deribit exchange, driven by a plain tokio-tungstenite client:
//! auth grants, subscriptions and book continuity, heartbeats, rate limits,
//! orders and cancel-on-disconnect, every fault type, the frame limit.
#![cfg(feature = "net")]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wsnova_tests::deribit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EndReason, FaultKind, MockConfig, MockDeribit,
    RateLimits, client_signature,
};

use client::{Client, STEP, connect};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn code(error: &Value) -> i64 {
    error["code"].as_i64().expect("an error code")
}

#[tokio::test]
async fn client_credentials_refresh_and_wrong_secret() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let unauth = c.error("private/get_positions", json!({})).await;
    assert_eq!(
        (code(&unauth), unauth["message"].as_str()),
        (13009, Some("unauthorized"))
    );

    let response = c.call("public/auth", Client::credentials()).await;
    assert!(response["usIn"].is_u64() && response["usOut"].is_u64() && response["usDiff"].is_u64());
    assert_eq!(response["testnet"], json!(true));
    let auth = &response["result"];
    assert_eq!(auth["token_type"], "bearer");
    assert_eq!(auth["expires_in"], 900);
    assert!(auth["scope"].as_str().unwrap().contains("connection"));
    assert!(auth["access_token"].as_str().is_some());
    assert!(
        c.result("private/get_positions", json!({}))
            .await
            .is_array()
    );

    // A refresh token works once.
    let refresh = auth["refresh_token"].as_str().unwrap().to_owned();
    let grant = json!({"grant_type": "refresh_token", "refresh_token": refresh});
    let renewed = c.result("public/auth", grant.clone()).await;
    assert_ne!(renewed["access_token"], auth["access_token"]);
    assert_eq!(code(&c.error("public/auth", grant).await), 13004);

    let wrong = json!({"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": "nope"});
    let e = c.error("public/auth", wrong).await;
    assert_eq!(
        (code(&e), e["message"].as_str()),
        (13004, Some("invalid_credentials"))
    );
    let stats = mock.stats();
    let auths: Vec<_> = stats
        .requests
        .iter()
        .filter(|r| r.method == "private/get_positions")
        .collect();
    assert_eq!(
        auths.iter().map(|r| r.authenticated).collect::<Vec<_>>(),
        [false, true]
    );
}

#[tokio::test]
async fn client_signature_grant_and_deribit_test_vector() {
    let vector = "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1";
    assert_eq!(
        client_signature("AMANDASECRECT", 1576074319000, "1iqt2wls", ""),
        vector
    );
    // The vector's timestamp is from 2019: accepted only without a window.
    let config = MockConfig {
        signature_window: None,
        ..MockConfig::default().with_account("amanda", "AMANDASECRECT")
    };
    let mock = MockDeribit::start(config);
    let mut c = connect(&mock).await;
    let grant = json!({"grant_type": "client_signature", "client_id": "amanda",
        "timestamp": 1576074319000u64, "nonce": "1iqt2wls", "data": "", "signature": vector});
    assert!(c.result("public/auth", grant).await["access_token"].is_string());

    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let signed = |ts: u64, signature: String| {
        json!({"grant_type": "client_signature", "client_id": DEFAULT_CLIENT_ID,
            "timestamp": ts, "nonce": "abc", "data": "x", "signature": signature})
    };
    let ts = now_ms();
    let good = client_signature(DEFAULT_CLIENT_SECRET, ts, "abc", "x");
    assert!(c.result("public/auth", signed(ts, good)).await["access_token"].is_string());
    let stale = ts - 120_000;
    let old = client_signature(DEFAULT_CLIENT_SECRET, stale, "abc", "x");
    assert_eq!(
        code(&c.error("public/auth", signed(stale, old)).await),
        13004
    );
    let bad = client_signature("other secret", ts, "abc", "x");
    assert_eq!(code(&c.error("public/auth", signed(ts, bad)).await), 13004);
}

#[tokio::test]
async fn expired_token_gets_13009_until_refreshed() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let auth = c.auth().await;
    let id = mock
        .connection_by_peer(c.local)
        .expect("the mock knows the client");
    assert_eq!(mock.faults().conn(id).expire_token(), 1);
    assert!(mock.wait_until(STEP, |s| s.fault_count(FaultKind::ExpireToken) == 1));
    let e = c.error("private/get_positions", json!({})).await;
    // Deribit documents one message for 13009: `unauthorized`.
    assert_eq!(code(&e), 13009);
    assert_eq!(e["message"], "unauthorized");
    let grant = json!({"grant_type": "refresh_token", "refresh_token": auth["refresh_token"]});
    c.result("public/auth", grant).await;
    assert!(
        c.result("private/get_positions", json!({}))
            .await
            .is_array()
    );
    // Every token at once.
    assert_eq!(mock.faults().expire_all_tokens(), 1);
    assert_eq!(
        code(&c.error("private/get_positions", json!({})).await),
        13009
    );
}

#[tokio::test]
async fn book_snapshot_then_chained_changes_and_other_channels() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let channels = [
        "book.BTC-PERPETUAL.100ms",
        "ticker.ETH-PERPETUAL.100ms",
        "trades.BTC-PERPETUAL.100ms",
    ];
    let subscribed = c
        .result("public/subscribe", json!({"channels": channels}))
        .await;
    assert_eq!(subscribed, json!(channels));
    let id = mock.connection_by_peer(c.local).unwrap();
    assert_eq!(mock.subscriptions(id).len(), 3);

    let snapshot = c.notification("book.BTC-PERPETUAL.100ms").await;
    assert_eq!(snapshot["type"], "snapshot");
    assert!(snapshot["bids"].as_array().unwrap().len() >= 10);
    let entry = &snapshot["asks"][0];
    assert_eq!(entry[0], "new");
    assert!(entry[1].is_f64() && entry[2].is_number());
    let mut last = snapshot["change_id"].as_u64().unwrap();
    for _ in 0..5 {
        let change = c.notification("book.BTC-PERPETUAL.100ms").await;
        assert_eq!(change["type"], "change");
        assert_eq!(change["prev_change_id"].as_u64(), Some(last), "continuity");
        last = change["change_id"].as_u64().unwrap();
    }
    let ticker = c.notification("ticker.ETH-PERPETUAL.100ms").await;
    assert_eq!(ticker["instrument_name"], "ETH-PERPETUAL");
    assert!(ticker["best_bid_price"].as_f64() < ticker["best_ask_price"].as_f64());
    let trades = c.notification("trades.BTC-PERPETUAL.100ms").await;
    assert!(trades[0]["trade_seq"].is_u64() && trades[0]["direction"].is_string());

    let removed = c
        .result(
            "public/unsubscribe",
            json!({"channels": ["ticker.ETH-PERPETUAL.100ms", "nope"]}),
        )
        .await;
    assert_eq!(removed, json!(["ticker.ETH-PERPETUAL.100ms"]));
    assert_eq!(c.result("public/unsubscribe_all", json!({})).await, "ok");
    assert!(mock.subscriptions(id).is_empty());
}

#[tokio::test]
async fn injected_book_gap_breaks_the_change_chain() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    c.auth().await;
    let channel = "book.BTC-PERPETUAL.raw";
    c.result("private/subscribe", json!({"channels": [channel]}))
        .await;
    let snapshot = c.notification(channel).await;
    let mut last = snapshot["change_id"].as_u64().unwrap();
    let change = c.notification(channel).await;
    assert_eq!(change["prev_change_id"].as_u64(), Some(last));
    last = change["change_id"].as_u64().unwrap();
    mock.faults()
        .conn(mock.last_connection().unwrap())
        .book_gap();
    let mut gaps = 0;
    for _ in 0..10 {
        let change = c.notification(channel).await;
        if change["prev_change_id"].as_u64() != Some(last) {
            gaps += 1;
        }
        last = change["change_id"].as_u64().unwrap();
    }
    assert_eq!(gaps, 1);
    assert_eq!(mock.stats().fault_count(FaultKind::BookGap), 1);
}

#[tokio::test]
async fn raw_channels_need_authentication() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let raw = json!({"channels": ["ticker.BTC-PERPETUAL.raw"]});
    let e = c.error("public/subscribe", raw.clone()).await;
    assert_eq!(
        (code(&e), e["message"].as_str()),
        (
            13778,
            Some("raw_subscriptions_not_available_for_unauthorized")
        )
    );
    let private = c
        .error(
            "private/subscribe",
            json!({"channels": ["user.orders.any.any.raw"]}),
        )
        .await;
    assert_eq!(code(&private), 13009);
    c.auth().await;
    assert_eq!(
        c.result("public/subscribe", raw).await,
        json!(["ticker.BTC-PERPETUAL.raw"])
    );
    c.notification("ticker.BTC-PERPETUAL.raw").await;
}

fn fast_heartbeats() -> MockConfig {
    MockConfig {
        min_heartbeat_interval: Duration::from_secs(1),
        ..MockConfig::default()
    }
}

#[tokio::test]
async fn heartbeat_closes_a_client_that_ignores_test_requests() {
    let mock = MockDeribit::start(fast_heartbeats());
    let mut c = connect(&mock).await;
    let e = c
        .error("public/set_heartbeat", json!({"interval": 0.5}))
        .await;
    assert_eq!(code(&e), -32602);
    assert_eq!(
        c.result("public/set_heartbeat", json!({"interval": 1}))
            .await,
        "ok"
    );
    let beat = c.next_where(|m| m["method"] == "heartbeat").await;
    assert_eq!(beat["params"]["type"], "test_request");
    assert!(c.closed().await, "closed after an unanswered test_request");
    let id = mock.last_connection().unwrap();
    assert!(mock.wait_until(STEP, |s| s.end_reason(id)
        == Some(EndReason::HeartbeatTimeout)));

    // The default minimum is Deribit's 10 s.
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    assert_eq!(
        code(
            &c.error("public/set_heartbeat", json!({"interval": 5}))
                .await
        ),
        -32602
    );
}

#[tokio::test]
async fn answered_test_requests_keep_the_connection() {
    let mock = MockDeribit::start(fast_heartbeats());
    let mut c = connect(&mock).await;
    c.result("public/set_heartbeat", json!({"interval": 1}))
        .await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let beat = c.next_where(|m| m["method"] == "heartbeat").await;
        let kind = beat["params"]["type"].as_str().unwrap().to_owned();
        if kind == "test_request" {
            assert_eq!(
                c.result("public/test", json!({})).await["version"],
                "1.2.26"
            );
        }
        seen.push(kind);
    }
    assert_eq!(seen, ["test_request", "heartbeat", "test_request"]);
    assert_eq!(c.result("public/disable_heartbeat", json!({})).await, "ok");
    assert_eq!(mock.live_connections().len(), 1);
}

#[tokio::test]
async fn credits_run_out_with_10028_and_the_session_is_terminated() {
    let limits = RateLimits {
        bucket: 2_000,
        refill_per_sec: 1,
        cost: 500,
        subscribe_cost: 1_500,
        ..RateLimits::default()
    };
    let mock = MockDeribit::start(MockConfig {
        rate_limits: Some(limits),
        ..MockConfig::default()
    });
    let mut c = connect(&mock).await;
    for _ in 0..4 {
        c.result("public/get_time", json!({})).await;
    }
    let e = c.error("public/get_time", json!({})).await;
    assert_eq!(
        (code(&e), e["message"].as_str()),
        (10028, Some("too_many_requests"))
    );
    // Deribit then terminates the session.
    let id = mock.connection_by_peer(c.local).expect("known");
    assert!(mock.wait_until(STEP, |s| s.end_reason(id) == Some(EndReason::RateLimited)));
    // Subscriptions cost more: 2,000 credits buy one.
    let mut c = connect(&mock).await;
    c.result(
        "public/subscribe",
        json!({"channels": ["ticker.BTC-PERPETUAL.100ms"]}),
    )
    .await;
    assert_eq!(
        code(&c.error("public/subscribe", json!({"channels": []})).await),
        10028
    );
    assert_eq!(mock.stats().rate_limited, 2);
}

#[tokio::test]
async fn orders_notify_user_orders_and_cancel_on_disconnect_fires() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut trader = connect(&mock).await;
    trader.auth().await;
    trader
        .result(
            "private/subscribe",
            json!({"channels": ["user.orders.BTC-PERPETUAL.raw"]}),
        )
        .await;
    let mut watcher = connect(&mock).await;
    watcher.auth().await;
    watcher
        .result(
            "private/subscribe",
            json!({"channels": ["user.orders.any.any.100ms"]}),
        )
        .await;

    let buy =
        json!({"instrument_name": "BTC-PERPETUAL", "amount": 100, "type": "market", "label": "m1"});
    let filled = trader.result("private/buy", buy).await;
    assert_eq!(filled["order"]["order_state"], "filled");
    // The order walks the book's depth: one trade per level it reached.
    let trades = filled["trades"].as_array().unwrap();
    let traded: f64 = trades.iter().map(|t| t["amount"].as_f64().unwrap()).sum();
    assert_eq!(traded, 100.0);
    let note = trader.notification("user.orders.BTC-PERPETUAL.raw").await;
    assert_eq!(note["order_id"], filled["order"]["order_id"]);

    let resting =
        json!({"instrument_name": "BTC-PERPETUAL", "amount": 50, "type": "limit", "price": 1000.0});
    let open = trader.result("private/buy", resting).await["order"].clone();
    assert_eq!(open["order_state"], "open");
    let bad = json!({"instrument_name": "BTC-PERPETUAL", "amount": 15, "type": "market"});
    assert_eq!(code(&trader.error("private/sell", bad).await), -32602);
    assert_eq!(
        code(
            &trader
                .error("private/cancel", json!({"order_id": "BTC-1"}))
                .await
        ),
        10004
    );

    assert_eq!(
        trader
            .result("private/enable_cancel_on_disconnect", json!({}))
            .await,
        "ok"
    );
    let cod = trader
        .result("private/get_cancel_on_disconnect", json!({}))
        .await;
    assert_eq!(cod, json!({"scope": "connection", "enabled": true}));
    drop(trader);
    assert!(mock.wait_until(STEP, |s| !s.cancel_on_disconnect.is_empty()));
    let firing = &mock.cancel_on_disconnect_firings()[0];
    assert_eq!(firing.cancelled, [open["order_id"].as_str().unwrap()]);
    assert_eq!(firing.reason, EndReason::ClientClosed);

    // The watcher saw all three updates, batched by 100 ms.
    let mut states = Vec::new();
    while states.len() < 3 {
        let batch = watcher.notification("user.orders.any.any.100ms").await;
        states.extend(
            batch
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["order_state"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(states, ["filled", "open", "cancelled"]);
    let positions = watcher
        .result("private/get_positions", json!({"currency": "BTC"}))
        .await;
    assert_eq!(positions[0]["size"], 100.0);
    let summary = watcher
        .result("private/get_account_summary", json!({"currency": "BTC"}))
        .await;
    assert_eq!(summary["currency"], "BTC");
    let orders = mock.orders();
    assert_eq!(
        orders.iter().map(|o| o.state.as_str()).collect::<Vec<_>>(),
        ["filled", "cancelled"]
    );
}

#[tokio::test]
async fn logout_closes_without_a_response_or_cancel_on_disconnect() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    c.auth().await;
    c.result(
        "private/enable_cancel_on_disconnect",
        json!({"scope": "account"}),
    )
    .await;
    c.send("private/logout", json!({})).await;
    assert!(c.closed().await);
    let id = mock.last_connection().unwrap();
    assert!(mock.wait_until(STEP, |s| s.end_reason(id) == Some(EndReason::Logout)));
    assert!(mock.cancel_on_disconnect_firings().is_empty());
}

#[tokio::test]
async fn frames_over_32_kb_are_refused() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "public/test", "params": {"pad": "x".repeat(40_000)}});
    c.send_raw(big.to_string()).await;
    let reply = c.next_where(|m| m.get("error").is_some()).await;
    assert_eq!(code(&reply["error"]), -32600);
    assert_eq!(c.close_code().await, Some(1009));
    let id = mock.last_connection().unwrap();
    assert!(mock.wait_until(STEP, |s| s.end_reason(id) == Some(EndReason::FrameTooLarge)));
}

#[tokio::test]
async fn public_methods_and_envelope() {
    let mock = MockDeribit::start(MockConfig {
        timestamps_as_strings: true,
        ..MockConfig::default()
    });
    let mut c = connect(&mock).await;
    let response = c.call("public/test", json!({})).await;
    assert_eq!(response["result"], json!({"version": "1.2.26"}));
    assert!(response["usIn"].as_str().unwrap().parse::<u64>().is_ok());
    assert!(response["usDiff"].is_string());
    let hello = json!({"client_name": "t", "client_version": "1"});
    assert_eq!(c.result("public/hello", hello).await["version"], "1.2.26");
    let time = c
        .result("public/get_time", json!({}))
        .await
        .as_u64()
        .unwrap();
    assert!(time.abs_diff(now_ms()) < 10_000);
    assert_eq!(code(&c.error("public/nope", json!({})).await), -32601);
    assert_eq!(code(&c.error("private/nope", json!({})).await), -32601);
    let instruments = c
        .result("public/get_instruments", json!({"currency": "ETH"}))
        .await;
    assert_eq!(instruments[0]["instrument_name"], "ETH-PERPETUAL");
    let ticker = c
        .result("public/ticker", json!({"instrument_name": "BTC-PERPETUAL"}))
        .await;
    assert!(ticker["mark_price"].as_f64().unwrap() > 1000.0);
    let book = c
        .result(
            "public/get_order_book",
            json!({"instrument_name": "BTC-PERPETUAL", "depth": 5}),
        )
        .await;
    assert_eq!(book["bids"].as_array().unwrap().len(), 5);
    assert!(book["change_id"].is_u64());
    assert_eq!(mock.request_count("public/test"), 1);
}

#[tokio::test]
async fn drop_on_received_loses_the_request() {
    let mock = MockDeribit::start(MockConfig::default());
    mock.faults().next_connection().drop_on_received(2);
    let mut c = connect(&mock).await;
    c.result("public/test", json!({})).await;
    c.send("public/test", json!({})).await;
    assert!(c.closed().await);
    assert_eq!(mock.request_count("public/test"), 1);
    assert!(mock.wait_until(STEP, |s| s.fault_count(FaultKind::Drop) == 1));
    // The fault was for one connection only.
    let mut c = connect(&mock).await;
    c.result("public/test", json!({})).await;
    c.result("public/test", json!({})).await;
}

#[tokio::test]
async fn drop_after_sent_and_close_and_drop_now() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let id = mock.last_connection().unwrap();
    assert_eq!(mock.faults().conn(id).drop_after_sent(3), 1);
    c.result(
        "public/subscribe",
        json!({"channels": ["ticker.BTC-PERPETUAL.100ms"]}),
    )
    .await;
    let mut received = 1;
    while c.recv().await.is_some() {
        received += 1;
    }
    assert_eq!(received, 3);

    let mut c = connect(&mock).await;
    mock.faults().live().close(4000, "maintenance");
    assert_eq!(c.close_code().await, Some(4000));

    let mut c = connect(&mock).await;
    mock.faults().live().drop_now();
    assert!(c.closed().await);
    assert!(
        mock.wait_until(STEP, |s| s.fault_count(FaultKind::Drop) == 2
            && s.fault_count(FaultKind::Close) == 1)
    );
}

#[tokio::test]
async fn scheduled_and_random_drops() {
    let mock = MockDeribit::start(MockConfig::default());
    mock.faults()
        .new_connections()
        .drop_randomly_within(Duration::from_millis(300));
    for _ in 0..2 {
        let started = Instant::now();
        let mut c = connect(&mock).await;
        assert!(c.closed().await);
        assert!(started.elapsed() < Duration::from_secs(3));
    }
    mock.faults().clear();
    let c = connect(&mock).await;
    let id = mock.last_connection().unwrap();
    mock.faults()
        .conn(id)
        .drop_after(Duration::from_millis(100));
    let mut c = c;
    assert!(c.closed().await);

    // Chaos: every connection dropped within 200 ms, seeded.
    let chaos = wsnova_tests::deribit::Chaos {
        drop_within: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let mock = MockDeribit::start(MockConfig {
        chaos,
        ..MockConfig::default()
    });
    let mut c = connect(&mock).await;
    assert!(c.closed().await);
    assert!(mock.wait_until(STEP, |s| s.fault_count(FaultKind::Drop) == 1));
}

#[tokio::test]
async fn stall_goes_half_open_until_resumed() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let id = mock.last_connection().unwrap();
    mock.faults().conn(id).stall();
    assert!(mock.wait_until(STEP, |s| s.fault_count(FaultKind::Stall) == 1));
    c.send("public/test", json!({})).await;
    // Absence of an answer can only be observed over some time.
    assert!(c.recv_within(Duration::from_millis(300)).await.is_none());
    assert_eq!(mock.request_count("public/test"), 0, "not even read");
    mock.faults().conn(id).resume();
    let reply = c.next_where(|m| m.get("result").is_some()).await;
    assert_eq!(reply["result"]["version"], "1.2.26");
}

#[tokio::test]
async fn delayed_responses_and_injected_errors() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut c = connect(&mock).await;
    let faults = mock.faults().conn(mock.last_connection().unwrap());
    faults.delay_responses(Duration::from_millis(200));
    let started = Instant::now();
    c.result("public/test", json!({})).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    faults.delay_responses(Duration::ZERO);

    faults.fail_next(2, 10040);
    assert_eq!(code(&c.error("public/test", json!({})).await), 10040);
    let e = c.error("public/get_time", json!({})).await;
    assert_eq!((code(&e), e["message"].as_str()), (10040, Some("retry")));
    c.result("public/test", json!({})).await;
    faults.fail_next_method("public/get_time", 1, 11051);
    c.result("public/test", json!({})).await;
    assert_eq!(code(&c.error("public/get_time", json!({})).await), 11051);
    let stats = mock.stats();
    assert_eq!(
        (
            stats.fault_count(FaultKind::Delay),
            stats.fault_count(FaultKind::Error)
        ),
        (1, 3)
    );
}

#[tokio::test]
async fn refused_connections() {
    use wsnova_tests::deribit::RefuseMode;
    let mock = MockDeribit::start(MockConfig::default());
    let faults = mock.faults();

    faults.refuse_next(RefuseMode::Close, 1);
    assert!(client::try_connect(&mock, STEP).await.is_err());
    faults.refuse_next(RefuseMode::Http(503), 1);
    let e = client::try_connect(&mock, STEP).await.unwrap_err();
    assert!(e.contains("503"), "{e}");
    faults.refuse_next(RefuseMode::Blackhole, 1);
    let e = client::try_connect(&mock, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(e.contains("timed out"), "{e}");
    connect(&mock).await;

    // Not accepting: the upgrade completes only once the pause is over.
    faults.refuse_for(RefuseMode::NoAccept, Duration::from_millis(300));
    let started = Instant::now();
    connect(&mock).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    let stats = mock.stats();
    assert_eq!(
        (
            stats.connections_refused,
            stats.fault_count(FaultKind::Refuse)
        ),
        (3, 3)
    );
    assert_eq!(stats.connections_accepted, 5);
}

#[test]
fn binary_prints_its_url_and_serves() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mock-deribit"))
        .args(["--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start mock-deribit");
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().strip_prefix("LISTENING ").map(str::to_owned);
    let served = url.as_deref().map(|url| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut c = client::connect_url(url).await;
            c.result("public/test", json!({})).await
        })
    });
    let _ = child.kill();
    let _ = child.wait();
    let url = url.expect("a LISTENING line");
    assert!(
        url.starts_with("ws://127.0.0.1:") && url.ends_with("/ws/api/v2"),
        "{url}"
    );
    assert_eq!(served.unwrap()["version"], "1.2.26");
}

/// A plain tokio-tungstenite JSON-RPC client.
mod client {
    use std::collections::VecDeque;
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    use futures_util::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use tokio::net::TcpStream;
    use tokio::time::timeout;
    use tokio_tungstenite::WebSocketStream;
    use tungstenite::Message;
    use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockDeribit};

    /// Bound of every single wait.
    pub const STEP: Duration = Duration::from_secs(5);

    #[derive(Debug)]
    pub struct Client {
        ws: WebSocketStream<TcpStream>,
        pub local: SocketAddr,
        next_id: u64,
        /// Messages read while looking for another one.
        backlog: VecDeque<Value>,
        /// The close frame's code, once the connection ended.
        close_code: Option<u16>,
        ended: bool,
    }

    pub async fn try_connect_url(url: &str, within: Duration) -> Result<Client, String> {
        let host = url.strip_prefix("ws://").and_then(|r| r.split('/').next());
        let host = host.ok_or("bad url")?.to_owned();
        let attempt = async {
            let tcp = TcpStream::connect(host).await.map_err(|e| e.to_string())?;
            let local = tcp.local_addr().map_err(|e| e.to_string())?;
            let (ws, _) = tokio_tungstenite::client_async(url, tcp)
                .await
                .map_err(|e| e.to_string())?;
            let backlog = VecDeque::new();
            Ok(Client {
                ws,
                local,
                next_id: 0,
                backlog,
                close_code: None,
                ended: false,
            })
        };
        timeout(within, attempt)
            .await
            .map_err(|_| "timed out".to_owned())?
    }

    pub async fn try_connect(mock: &MockDeribit, within: Duration) -> Result<Client, String> {
        try_connect_url(&mock.url(), within).await
    }

    pub async fn connect_url(url: &str) -> Client {
        try_connect_url(url, STEP).await.expect("connect")
    }

    /// Connects and waits until the mock has registered the connection.
    pub async fn connect(mock: &MockDeribit) -> Client {
        let client = connect_url(&mock.url()).await;
        let local = client.local;
        assert!(mock.wait_until(STEP, |s| s.connections.values().any(|c| c.peer == local)));
        client
    }

    impl Client {
        pub fn credentials() -> Value {
            json!({"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET})
        }

        pub async fn send_raw(&mut self, text: String) {
            let sent = timeout(STEP, self.ws.send(Message::text(text))).await;
            sent.expect("send in time").expect("send");
        }

        /// Sends a request; its id.
        pub async fn send(&mut self, method: &str, params: Value) -> u64 {
            self.next_id += 1;
            let id = self.next_id;
            let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
            self.send_raw(request.to_string()).await;
            id
        }

        /// The next message within `within`; `None` on timeout or once ended.
        pub async fn recv_within(&mut self, within: Duration) -> Option<Value> {
            if let Some(v) = self.backlog.pop_front() {
                return Some(v);
            }
            let deadline = tokio::time::Instant::now() + within;
            while !self.ended {
                let next = tokio::time::timeout_at(deadline, self.ws.next())
                    .await
                    .ok()?;
                match next {
                    Some(Ok(Message::Text(t))) => {
                        return Some(serde_json::from_str(t.as_str()).expect("JSON"));
                    }
                    Some(Ok(Message::Close(frame))) => {
                        self.close_code = frame.map(|f| u16::from(f.code));
                        self.ended = true;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => self.ended = true,
                }
            }
            None
        }

        /// The next message; `None` once the connection ended.
        pub async fn recv(&mut self) -> Option<Value> {
            let started = Instant::now();
            let next = self.recv_within(STEP).await;
            assert!(
                next.is_some() || self.ended || started.elapsed() < STEP,
                "a message in time"
            );
            next
        }

        /// The first message (buffered or new) that `pred` accepts.
        pub async fn next_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
            if let Some(i) = self.backlog.iter().position(&pred) {
                return self.backlog.remove(i).unwrap();
            }
            let deadline = Instant::now() + 2 * STEP;
            let mut skipped = VecDeque::new();
            while Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                let Some(v) = self.recv_within(left).await else {
                    break;
                };
                if pred(&v) {
                    skipped.extend(self.backlog.drain(..));
                    self.backlog = skipped;
                    return v;
                }
                skipped.push_back(v);
            }
            panic!(
                "no matching message (ended: {}); skipped {skipped:?}",
                self.ended
            );
        }

        /// Sends a request and returns its whole response.
        pub async fn call(&mut self, method: &str, params: Value) -> Value {
            let id = self.send(method, params).await;
            self.next_where(|m| m["id"] == id && m.get("method").is_none())
                .await
        }

        /// The `result` of a request that must succeed.
        pub async fn result(&mut self, method: &str, params: Value) -> Value {
            let response = self.call(method, params).await;
            assert!(response.get("error").is_none(), "{method}: {response}");
            response["result"].clone()
        }

        /// The `error` of a request that must fail.
        pub async fn error(&mut self, method: &str, params: Value) -> Value {
            let response = self.call(method, params).await;
            assert!(response.get("result").is_none(), "{method}: {response}");
            response["error"].clone()
        }

        /// `public/auth` with the default account; its result.
        pub async fn auth(&mut self) -> Value {
            self.result("public/auth", Self::credentials()).await
        }

        /// The `data` of the next notification on `channel`.
        pub async fn notification(&mut self, channel: &str) -> Value {
            let is = |m: &Value| m["method"] == "subscription" && m["params"]["channel"] == channel;
            self.next_where(is).await["params"]["data"].clone()
        }

        /// Reads until the connection ends (bounded); whether it did.
        pub async fn closed(&mut self) -> bool {
            let deadline = Instant::now() + 2 * STEP;
            self.backlog.clear();
            while !self.ended && Instant::now() < deadline {
                self.recv_within(deadline.saturating_duration_since(Instant::now()))
                    .await;
            }
            self.ended
        }

        /// The close code once the connection ended.
        pub async fn close_code(&mut self) -> Option<u16> {
            assert!(self.closed().await, "connection ended");
            self.close_code
        }
    }
}
