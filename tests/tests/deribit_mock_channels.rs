//! The mock Deribit's channels beyond books, trades and tickers, through
//! the real client (the tokio driver with the Deribit adapter): each
//! delivers the shape Deribit documents (the required fields of the
//! `order` and `user_trade` schemas of the API description, the fields of
//! each channel's notification example), when the documented event
//! happens: a fill (`user.trades`, `user.changes`, `user.orders`,
//! `user.portfolio`), an index tick (`deribit_price_index`), a new top of
//! book (`quote`), a platform event (`platform_state`, `announcements`).
#![cfg(feature = "net")]

#[path = "support/mock_trader.rs"]
mod support;

use serde_json::{Value, json};
use wsnova_adapters::deribit::{Order, OrderResult, Position, Trade};
use wsnova_tests::deribit::{MockConfig, MockDeribit};

use support::{BTC, ORDER_FIELDS, TRADE_FIELDS, Trader, assert_fields, known_market};

fn market_buy(amount: f64) -> Value {
    json!({"instrument_name": BTC, "amount": amount, "type": "market", "label": "fill"})
}

#[tokio::test]
async fn a_fill_reaches_user_trades_orders_changes_and_portfolio() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let mut trader = Trader::connect(&mock).await;
    trader
        .subscribe(&[
            "user.trades.BTC-PERPETUAL.raw",
            "user.orders.BTC-PERPETUAL.raw",
            "user.changes.BTC-PERPETUAL.raw",
            "user.portfolio.btc",
        ])
        .await;
    let placed = trader.ok("private/buy", market_buy(60.0)).await;
    let order_id = placed["order"]["order_id"].clone();

    // user.trades: an array of user trades, one per level reached.
    let trades = trader.next("user.trades.BTC-PERPETUAL.raw").await;
    let trades = trades.as_array().expect("an array of trades");
    assert_eq!(trades.len(), 2, "60 = 50 at 60,010 + 10 at 60,020");
    for trade in trades {
        assert_fields("user trade", trade, &TRADE_FIELDS);
        assert_eq!(trade["order_id"], order_id);
        assert_eq!(trade["liquidity"], "T");
        assert_eq!(trade["fee_currency"], "BTC");
        assert_eq!(trade["index_price"], 60_000.0);
        assert!(trade["matching_id"].is_null());
    }
    assert_eq!(trades[1]["state"], "filled");
    // The adapter's typed views read them.
    let typed: Vec<Trade> = serde_json::from_value(Value::from(trades.clone())).expect("trades");
    assert_eq!(typed[0].liquidity.as_deref(), Some("T"));
    let result: OrderResult = serde_json::from_value(placed.clone()).expect("an order result");
    assert_eq!(result.trades.len(), 2);

    // user.orders (raw): one order object.
    let note = trader.next("user.orders.BTC-PERPETUAL.raw").await;
    assert_fields("order", &note, &ORDER_FIELDS);
    let typed: Order = serde_json::from_value(note.clone()).expect("an order");
    assert_eq!(typed.filled_amount, Some(60.0));
    assert_eq!(
        (note["order_id"].clone(), note["order_state"].clone()),
        (order_id.clone(), json!("filled"))
    );

    // user.changes: the order, its trades and the position, together.
    let change = trader.next("user.changes.BTC-PERPETUAL.raw").await;
    assert_eq!(change["instrument_name"], BTC);
    assert_eq!(change["orders"][0]["order_id"], order_id);
    assert_eq!(change["trades"].as_array().map(Vec::len), Some(2));
    assert_eq!(change["positions"][0]["size"], 60.0);
    assert_eq!(change["positions"][0]["direction"], "buy");
    let position: Position =
        serde_json::from_value(change["positions"][0].clone()).expect("a position");
    assert_eq!(position.instrument_name, BTC);

    // user.portfolio.btc: the currency's balances and margins.
    let portfolio = trader.next("user.portfolio.btc").await;
    let currency_portfolio = [
        "margin_balance",
        "currency",
        "maintenance_margin",
        "initial_margin",
        "equity",
        "balance",
        "available_withdrawal_funds",
        "available_funds",
        "additional_reserve",
        "spot_reserve",
    ];
    assert_fields("portfolio", &portfolio, &currency_portfolio);
    for field in [
        "total_pl",
        "session_upl",
        "projected_initial_margin",
        "delta_total",
        "options_value",
    ] {
        assert!(
            portfolio[field].is_number(),
            "portfolio.{field}: {portfolio}"
        );
    }
    assert_eq!(portfolio["currency"], "BTC");
    assert!(
        portfolio["maintenance_margin"].as_f64().unwrap() > 0.0,
        "the position needs margin"
    );
}

#[tokio::test]
async fn interval_channels_aggregate_into_arrays_and_by_currency() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let mut trader = Trader::connect(&mock).await;
    trader
        .subscribe(&["user.trades.future.BTC.100ms", "user.changes.any.any.100ms"])
        .await;
    trader.ok("private/buy", market_buy(10.0)).await;
    trader.ok("private/buy", market_buy(10.0)).await;
    let mut trades = Vec::new();
    while trades.len() < 2 {
        let batch = trader.next("user.trades.future.BTC.100ms").await;
        trades.extend(batch.as_array().expect("an array").iter().cloned());
    }
    assert_eq!(trades.len(), 2);
    assert!(
        trades
            .iter()
            .all(|t| t["instrument_name"] == BTC && t["amount"] == 10.0)
    );
    let change = trader.next("user.changes.any.any.100ms").await;
    assert_eq!(change["instrument_name"], BTC);
    assert!(change["orders"].as_array().is_some_and(|o| !o.is_empty()));
    // ETH trades do not reach a BTC channel.
    trader
        .ok(
            "private/buy",
            json!({"instrument_name": "ETH-PERPETUAL", "amount": 1, "type": "market"}),
        )
        .await;
    trader.ok("private/buy", market_buy(10.0)).await;
    let batch = trader.next("user.trades.future.BTC.100ms").await;
    let batch = batch.as_array().expect("an array");
    assert!(
        batch.iter().all(|t| t["instrument_name"] == BTC),
        "{batch:?}"
    );
}

#[tokio::test]
async fn the_price_index_ticks_with_the_pinned_price() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut trader = Trader::connect(&mock).await;
    trader.subscribe(&["deribit_price_index.btc_usd"]).await;
    assert!(mock.set_index_price("btc_usd", 61_234.5));
    let tick = trader
        .next_where("deribit_price_index.btc_usd", |d| d["price"] == 61_234.5)
        .await;
    assert_eq!(tick["index_name"], "btc_usd");
    assert!(
        tick["timestamp"]
            .as_u64()
            .is_some_and(|t| t > 1_600_000_000_000)
    );
    assert_eq!(tick.as_object().map(|o| o.len()), Some(3), "{tick}");
    // The ticker reports the same index.
    let ticker = trader
        .ok("public/ticker", json!({"instrument_name": BTC}))
        .await;
    assert_eq!(ticker["index_price"], 61_234.5);
    assert!(!mock.set_index_price("doge_usd", 1.0), "unknown index");
    // Released, it follows the book's mark price again.
    assert!(mock.release_index_price("btc_usd"));
    let book = trader
        .ok("public/get_order_book", json!({"instrument_name": BTC}))
        .await;
    let mark = book["mark_price"].as_f64().expect("a mark price");
    let index = mock.index_price("btc_usd").expect("the index");
    assert!(
        (index - mark).abs() < mark * 0.001,
        "index {index} near mark {mark}"
    );
}

#[tokio::test]
async fn quote_follows_the_top_of_the_book() {
    let mock = MockDeribit::start(MockConfig::default());
    known_market(&mock);
    let mut trader = Trader::connect(&mock).await;
    trader.subscribe(&["quote.BTC-PERPETUAL"]).await;
    let first = trader.next("quote.BTC-PERPETUAL").await;
    let expected = json!({"best_ask_amount": 50.0, "best_ask_price": 60_010.0,
        "best_bid_amount": 100.0, "best_bid_price": 59_990.0, "instrument_name": BTC});
    let mut top = first.clone();
    assert!(top.as_object_mut().unwrap().remove("timestamp").is_some());
    assert_eq!(top, expected);
    // A fill at the top changes the quote.
    trader.ok("private/buy", market_buy(20.0)).await;
    let next = trader.next("quote.BTC-PERPETUAL").await;
    assert_eq!(next["best_ask_amount"], 30.0);
}

#[tokio::test]
async fn platform_state_and_announcements_reach_their_subscribers() {
    let mock = MockDeribit::start(MockConfig::default());
    let mut trader = Trader::connect(&mock).await;
    trader
        .subscribe(&[
            "platform_state",
            "platform_state.public_methods_state",
            "announcements",
        ])
        .await;
    mock.set_platform_locked("btc_usd", true);
    let state = trader.next("platform_state").await;
    assert_eq!(state, json!({"price_index": "btc_usd", "locked": true}));
    mock.set_public_methods_allowed(false);
    let public = trader.next("platform_state.public_methods_state").await;
    assert_eq!(
        public,
        json!({"allow_unauthenticated_public_requests": false})
    );
    let id = mock.announce("Maintenance", "At 08:00 UTC", true);
    let note = trader.next("announcements").await;
    assert_eq!(note["id"], id);
    assert_eq!(
        (note["title"].as_str(), note["body"].as_str()),
        (Some("Maintenance"), Some("At 08:00 UTC"))
    );
    assert_eq!(note["important"], true);
    for field in ["action", "publication_timestamp", "confirmation", "unread"] {
        assert!(note.get(field).is_some(), "announcement lacks {field}");
    }
}

#[tokio::test]
async fn private_channels_need_private_subscribe() {
    let mock = MockDeribit::start(MockConfig::default());
    let trader = Trader::connect(&mock).await;
    // The adapter sends user.* through private/subscribe: confirmed.
    trader
        .subscribe(&["user.portfolio.eth", "user.trades.ETH-PERPETUAL.100ms"])
        .await;
    // Through public/subscribe they are left out of the confirmation.
    let result = trader
        .ok(
            "public/subscribe",
            json!({"channels": ["user.changes.any.any.raw", "quote.ETH-PERPETUAL"]}),
        )
        .await;
    assert_eq!(result, json!(["quote.ETH-PERPETUAL"]));
}
