//! The mock Deribit's matching engine, driven through the real client (the
//! tokio driver with the Deribit adapter) on a frozen market with a known
//! book: partial fills across the depth, time in force (IOC, FOK),
//! post-only (refused or re-priced), reduce-only, resting orders filled as
//! makers, stop and trailing orders triggered by the price index, and
//! cancel-on-disconnect per connection.
#![cfg(feature = "net")]

#[path = "support/mock_trader.rs"]
mod support;

use serde_json::{Value, json};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, EndReason, MockConfig, MockDeribit};

use support::{BTC, STEP, Trader, known_market};

fn order(instrument: &str, amount: f64, extra: Value) -> Value {
    let mut params = json!({"instrument_name": instrument, "amount": amount});
    let extra = extra.as_object().expect("an object").clone();
    params.as_object_mut().expect("an object").extend(extra);
    params
}

fn amounts(trades: &Value) -> Vec<(f64, f64)> {
    let trades = trades.as_array().expect("trades");
    let pair = |t: &Value| (t["price"].as_f64().unwrap(), t["amount"].as_f64().unwrap());
    trades.iter().map(pair).collect()
}

async fn top_ask(trader: &Trader) -> Value {
    let book = trader
        .ok(
            "public/get_order_book",
            json!({"instrument_name": BTC, "depth": 1}),
        )
        .await;
    book["asks"][0].clone()
}

#[tokio::test]
async fn a_market_order_walks_the_depth_level_by_level() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    let placed = trader
        .ok("private/buy", order(BTC, 150.0, json!({"type": "market"})))
        .await;
    assert_eq!(
        amounts(&placed["trades"]),
        [(60_010.0, 50.0), (60_020.0, 70.0), (60_030.0, 30.0)]
    );
    let o = &placed["order"];
    assert_eq!(
        (o["order_state"].as_str(), o["filled_amount"].as_f64()),
        (Some("filled"), Some(150.0))
    );
    let average = (50.0 * 60_010.0 + 70.0 * 60_020.0 + 30.0 * 60_030.0) / 150.0;
    assert!((o["average_price"].as_f64().unwrap() - average).abs() < 1e-6);
    // The liquidity it took is gone from the book.
    assert_eq!(top_ask(&trader).await, json!([60_030.0, 470.0]));
    assert_eq!(mock.position_size(DEFAULT_CLIENT_ID, BTC), 150.0);
}

#[tokio::test]
async fn post_only_that_would_cross_is_refused_or_repriced() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    let crossing = json!({"price": 60_020.0, "post_only": true, "reject_post_only": true});
    let code = trader
        .refused("private/buy", order(BTC, 10.0, crossing))
        .await;
    assert_eq!(code, 11054, "post_only_reject");
    assert!(mock.orders().is_empty(), "a refused order is not recorded");

    // Without reject_post_only it is re-priced just inside the spread.
    let repriced = trader
        .ok(
            "private/buy",
            order(BTC, 10.0, json!({"price": 60_020.0, "post_only": true})),
        )
        .await;
    let o = &repriced["order"];
    assert_eq!(o["order_state"], "open");
    assert_eq!(o["price"], 60_009.5, "one tick below the best ask");
    assert_eq!(o["post_only"], true);
    assert_eq!(o["reject_post_only"], false);
    assert_eq!(repriced["trades"], json!([]), "it took nothing");
    assert_eq!(top_ask(&trader).await, json!([60_010.0, 50.0]));
    // Sells mirror it: one tick above the best bid, which is now the
    // resting buy at 60,009.5 (resting orders are in the book).
    let sell = trader
        .ok(
            "private/sell",
            order(BTC, 10.0, json!({"price": 59_000.0, "post_only": true})),
        )
        .await;
    assert_eq!(sell["order"]["price"], 60_010.0);
    assert_eq!(sell["order"]["order_state"], "open");
}

#[tokio::test]
async fn immediate_or_cancel_keeps_its_fills_and_leaves_nothing_resting() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    let ioc = json!({"price": 60_020.0, "time_in_force": "immediate_or_cancel"});
    let placed = trader.ok("private/buy", order(BTC, 200.0, ioc)).await;
    assert_eq!(
        amounts(&placed["trades"]),
        [(60_010.0, 50.0), (60_020.0, 70.0)]
    );
    let o = &placed["order"];
    assert_eq!(o["order_state"], "cancelled");
    assert_eq!(o["filled_amount"], 120.0);
    assert_eq!(o["time_in_force"], "immediate_or_cancel");
    let open = trader.ok("private/get_open_orders", json!({})).await;
    assert_eq!(open, json!([]), "the unfilled 80 does not rest");
    assert_eq!(mock.position_size(DEFAULT_CLIENT_ID, BTC), 120.0);
}

#[tokio::test]
async fn fill_or_kill_fills_all_at_once_or_nothing() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    let fok = json!({"price": 60_020.0, "time_in_force": "fill_or_kill"});
    let killed = trader
        .ok("private/buy", order(BTC, 200.0, fok.clone()))
        .await;
    assert_eq!(killed["order"]["order_state"], "cancelled");
    assert_eq!(killed["order"]["filled_amount"], 0.0);
    assert_eq!(killed["trades"], json!([]));
    assert_eq!(
        top_ask(&trader).await,
        json!([60_010.0, 50.0]),
        "the book is untouched"
    );
    assert_eq!(mock.position_size(DEFAULT_CLIENT_ID, BTC), 0.0);

    let filled = trader.ok("private/buy", order(BTC, 120.0, fok)).await;
    assert_eq!(filled["order"]["order_state"], "filled");
    assert_eq!(
        amounts(&filled["trades"]),
        [(60_010.0, 50.0), (60_020.0, 70.0)]
    );
}

#[tokio::test]
async fn reduce_only_never_grows_a_position() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    let reduce = json!({"type": "market", "reduce_only": true});
    // Nothing to reduce: refused, and no position appears.
    let code = trader
        .refused("private/sell", order(BTC, 50.0, reduce.clone()))
        .await;
    assert_eq!(code, 11030);
    assert_eq!(mock.position_size(DEFAULT_CLIENT_ID, BTC), 0.0);

    trader
        .ok("private/buy", order(BTC, 100.0, json!({"type": "market"})))
        .await;
    assert_eq!(mock.position_size(DEFAULT_CLIENT_ID, BTC), 100.0);
    // Selling 300 reduce-only only closes the 100: it never turns short.
    let closed = trader
        .ok("private/sell", order(BTC, 300.0, reduce.clone()))
        .await;
    assert_eq!(closed["order"]["amount"], 100.0, "cut to the position");
    assert_eq!(closed["order"]["reduce_only"], true);
    assert_eq!(closed["order"]["order_state"], "filled");
    assert_eq!(mock.position_size(DEFAULT_CLIENT_ID, BTC), 0.0);
    // A reduce-only buy on a flat position would open one: refused.
    let code = trader
        .refused("private/buy", order(BTC, 10.0, reduce))
        .await;
    assert_eq!(code, 11030);
    assert_eq!(mock.position_size(DEFAULT_CLIENT_ID, BTC), 0.0);
}

#[tokio::test]
async fn a_resting_order_fills_as_maker_when_the_market_crosses_it() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let mut trader = Trader::connect(&mock).await;
    trader.subscribe(&["user.trades.BTC-PERPETUAL.raw"]).await;
    let placed = trader
        .ok(
            "private/buy",
            order(BTC, 30.0, json!({"price": 60_000.0, "label": "maker"})),
        )
        .await;
    assert_eq!(placed["order"]["order_state"], "open");
    // Someone offers 20 at 59,995: it trades with the resting bid.
    let asks = [(59_995.0, 20.0), (60_030.0, 500.0)];
    assert!(mock.set_book(BTC, &[(59_990.0, 100.0)], &asks));
    let trades = trader.next("user.trades.BTC-PERPETUAL.raw").await;
    let trade = &trades[0];
    assert_eq!(trade["liquidity"], "M");
    assert_eq!(trade["price"], 60_000.0, "a maker trades at its own price");
    assert_eq!(trade["amount"], 20.0);
    assert_eq!(trade["state"], "open", "10 still rest");
    assert_eq!(trade["label"], "maker");
    let record = mock.orders().into_iter().next().expect("the order");
    assert_eq!(
        (record.state.as_str(), record.filled_amount),
        ("open", 20.0)
    );
}

#[tokio::test]
async fn a_stop_market_fires_when_the_index_crosses_its_trigger() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let mut trader = Trader::connect(&mock).await;
    trader.subscribe(&["user.orders.BTC-PERPETUAL.raw"]).await;
    // A stop buy below the index would fire at once: refused.
    let wrong = json!({"type": "stop_market", "trigger": "index_price", "trigger_price": 59_000.0});
    assert_eq!(
        trader.refused("private/buy", order(BTC, 40.0, wrong)).await,
        11036
    );

    let stop = json!({"type": "stop_market", "trigger": "index_price", "trigger_price": 60_500.0});
    let placed = trader.ok("private/buy", order(BTC, 40.0, stop)).await;
    let o = &placed["order"];
    let stop_id = o["order_id"].as_str().expect("an id").to_owned();
    assert!(stop_id.starts_with("SMIB-"), "{stop_id}");
    assert_eq!(
        (o["order_state"].as_str(), o["triggered"].as_bool()),
        (Some("untriggered"), Some(false))
    );
    assert_eq!(o["price"], "market_price");

    mock.set_index_price("btc_usd", 60_499.5);
    let states: Vec<String> = mock.orders().iter().map(|o| o.state.clone()).collect();
    assert_eq!(states, ["untriggered"], "below the trigger nothing happens");

    mock.set_index_price("btc_usd", 60_500.0);
    let orders = mock.orders();
    assert_eq!(orders[0].state, "triggered");
    let child = &orders[1];
    assert_eq!(child.trigger_order_id.as_deref(), Some(stop_id.as_str()));
    assert_eq!(
        (child.order_type.as_str(), child.state.as_str()),
        ("market", "filled")
    );
    assert_eq!(child.average_price, 60_010.0, "it bought at the best ask");
    // The subscriber sees the stop fire and the order it made fill.
    let note = trader
        .next_where("user.orders.BTC-PERPETUAL.raw", |o| {
            o["order_state"] == "triggered"
        })
        .await;
    assert_eq!(note["order_id"], stop_id.as_str());
    assert_eq!(note["triggered"], true);
    let filled = trader
        .next_where("user.orders.BTC-PERPETUAL.raw", |o| {
            o["order_state"] == "filled"
        })
        .await;
    assert_eq!(filled["trigger_order_id"], stop_id.as_str());
}

#[tokio::test]
async fn a_trailing_stop_follows_the_index_and_fires_on_the_pullback() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    let trailing =
        json!({"type": "trailing_stop", "trigger": "index_price", "trigger_offset": 100.0});
    let placed = trader.ok("private/sell", order(BTC, 50.0, trailing)).await;
    let o = &placed["order"];
    assert_eq!(o["order_state"], "untriggered");
    assert_eq!(o["trigger_price"], 59_900.0);
    assert_eq!(o["trigger_offset"], 100.0);
    assert_eq!(o["trigger_reference_price"], 60_000.0);
    let trigger = |mock: &MockDeribit| mock.orders()[0].trigger_price;

    mock.set_index_price("btc_usd", 60_300.0);
    assert_eq!(trigger(&mock), Some(60_200.0), "it follows the index up");
    mock.set_index_price("btc_usd", 60_250.0);
    assert_eq!(trigger(&mock), Some(60_200.0), "and never down");
    assert_eq!(mock.orders()[0].state, "untriggered");
    mock.set_index_price("btc_usd", 60_200.0);
    let orders = mock.orders();
    assert_eq!(orders[0].state, "triggered");
    assert_eq!(
        (orders[1].state.as_str(), orders[1].average_price),
        ("filled", 59_990.0)
    );
    assert_eq!(mock.position_size(DEFAULT_CLIENT_ID, BTC), -50.0);
    // The open orders no longer list it.
    assert_eq!(
        trader.ok("private/get_open_orders", json!({})).await,
        json!([])
    );
}

#[tokio::test]
async fn a_take_limit_rests_its_limit_once_triggered_and_can_be_cancelled_before() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    let take = json!({"type": "take_limit", "trigger": "index_price", "trigger_price": 59_500.0, "price": 59_000.0});
    let first = trader
        .ok("private/buy", order(BTC, 10.0, take.clone()))
        .await;
    let id = first["order"]["order_id"].as_str().unwrap().to_owned();
    let open = trader.ok("private/get_open_orders", json!({})).await;
    assert_eq!(
        open[0]["order_id"],
        id.as_str(),
        "untriggered orders are open orders"
    );
    let cancelled = trader.ok("private/cancel", json!({"order_id": id})).await;
    assert_eq!(cancelled["order_state"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "user_request");

    trader.ok("private/buy", order(BTC, 10.0, take)).await;
    mock.set_index_price("btc_usd", 59_400.0);
    let orders = mock.orders();
    let child = orders.last().expect("the triggered order");
    assert_eq!(
        (child.order_type.as_str(), child.state.as_str()),
        ("limit", "open")
    );
    assert_eq!(child.price, Some(59_000.0), "below the asks: it rests");
}

#[tokio::test]
async fn cancel_on_disconnect_cancels_only_the_connection_s_orders() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let leaving = Trader::connect(&mock).await;
    let staying = Trader::connect(&mock).await;
    let rest = |price: f64| order(BTC, 10.0, json!({"price": price}));
    let gone = leaving.ok("private/buy", rest(59_000.0)).await["order"]["order_id"].clone();
    let kept = staying.ok("private/buy", rest(59_100.0)).await["order"]["order_id"].clone();
    let scope = json!({"scope": "account"});
    leaving
        .ok("private/enable_cancel_on_disconnect", scope)
        .await;
    leaving.client.close().await.expect("closed");
    assert!(mock.wait_until(STEP, |s| !s.cancel_on_disconnect.is_empty()));

    let firing = &mock.cancel_on_disconnect_firings()[0];
    assert_eq!(firing.cancelled, [gone.as_str().unwrap()]);
    assert_eq!(firing.reason, EndReason::ClientClosed);
    let open = staying.ok("private/get_open_orders", json!({})).await;
    let open: Vec<&Value> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["order_id"])
        .collect();
    assert_eq!(open, [&kept], "another connection's order stays");
    let record = mock
        .orders()
        .into_iter()
        .find(|o| o.order_id == gone.as_str().unwrap());
    assert_eq!(
        record.and_then(|o| o.cancel_reason).as_deref(),
        Some("cancel_on_disconnect")
    );
}

#[tokio::test]
async fn a_stop_on_the_mark_price_fires_when_the_book_moves() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    // The mark price is the book's mid: 60,000.
    let stop = json!({"type": "stop_market", "trigger": "mark_price", "trigger_price": 59_900.0});
    let placed = trader.ok("private/sell", order(BTC, 20.0, stop)).await;
    assert!(
        placed["order"]["order_id"]
            .as_str()
            .unwrap()
            .starts_with("SMMS-")
    );
    // The index falling does not move a mark-price stop.
    mock.set_index_price("btc_usd", 59_000.0);
    assert_eq!(mock.orders()[0].state, "untriggered");
    // The book falling (mid 59,825) does.
    assert!(mock.set_book(BTC, &[(59_800.0, 100.0)], &[(59_850.0, 100.0)]));
    let orders = mock.orders();
    assert_eq!(orders[0].state, "triggered");
    assert_eq!(
        (orders[1].state.as_str(), orders[1].average_price),
        ("filled", 59_800.0)
    );
}

#[tokio::test]
async fn good_til_day_rests_and_limits_take_then_rest() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let trader = Trader::connect(&mock).await;
    let gtd = json!({"price": 60_015.0, "time_in_force": "good_til_day"});
    let placed = trader.ok("private/buy", order(BTC, 80.0, gtd)).await;
    // 50 taken at 60,010; the other 30 rest at the limit.
    assert_eq!(amounts(&placed["trades"]), [(60_010.0, 50.0)]);
    let o = &placed["order"];
    assert_eq!(
        (o["order_state"].as_str(), o["filled_amount"].as_f64()),
        (Some("open"), Some(50.0))
    );
    assert_eq!(o["time_in_force"], "good_til_day");
    let open = trader.ok("private/get_open_orders", json!({})).await;
    assert_eq!(open[0]["order_id"], o["order_id"]);
}

#[tokio::test]
async fn resting_orders_show_in_the_book_and_fill_another_account_s_taker() {
    let config = MockConfig::default().with_account("taker", "taker-secret");
    let mock = MockDeribit::start(config);
    known_market(&mock);
    let mut maker = Trader::connect(&mock).await;
    maker.subscribe(&["user.trades.BTC-PERPETUAL.raw"]).await;
    let placed = maker
        .ok("private/sell", order(BTC, 30.0, json!({"price": 60_005.0})))
        .await;
    let maker_order = placed["order"]["order_id"].clone();
    // The resting ask is the new best ask, as book subscribers see it.
    assert_eq!(top_ask(&maker).await, json!([60_005.0, 30.0]));
    // Its own account's market buy passes over it (no self-trade)...
    let own = maker
        .ok("private/buy", order(BTC, 10.0, json!({"type": "market"})))
        .await;
    assert_eq!(amounts(&own["trades"]), [(60_010.0, 10.0)]);

    // ...another account's takes it first, then the market's 60,010.
    let taker = Trader::connect_as(&mock, "taker", "taker-secret").await;
    let taken = taker
        .ok("private/buy", order(BTC, 50.0, json!({"type": "market"})))
        .await;
    assert_eq!(
        amounts(&taken["trades"]),
        [(60_005.0, 30.0), (60_010.0, 20.0)]
    );
    let fills = maker
        .next_where("user.trades.BTC-PERPETUAL.raw", |t| {
            t[0]["liquidity"] == "M"
        })
        .await;
    assert_eq!(fills[0]["order_id"], maker_order);
    assert_eq!(
        fills[0]["trade_id"], taken["trades"][0]["trade_id"],
        "one trade, two sides"
    );
    assert_eq!(
        (fills[0]["price"].as_f64(), fills[0]["amount"].as_f64()),
        (Some(60_005.0), Some(30.0))
    );
    assert_eq!(mock.position_size("taker", BTC), 50.0);
    assert_eq!(
        mock.position_size(DEFAULT_CLIENT_ID, BTC),
        -20.0,
        "sold 30, bought 10"
    );
    assert_eq!(
        top_ask(&maker).await,
        json!([60_010.0, 20.0]),
        "gone from the book"
    );
}
