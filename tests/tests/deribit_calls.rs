//! Every typed call of `wsnova_adapters::deribit::calls` against the mock
//! exchange, through the tokio driver: the params the call sends are the
//! ones the mock reads, and the result parses into the call's type (the
//! mock answers with the shapes of Deribit's API v2 description).
//! `private/logout` is in `deribit_logout.rs`; the cancel-on-disconnect
//! scopes in `deribit_cod_scopes.rs`.
#![cfg(feature = "net")]

use std::time::Duration;

use wsnova_adapters::deribit::calls::{
    Buy, Call, CancelAllByCurrency, CancelAllByInstrument, CancelByLabel, ClosePosition, Edit,
    EditByLabel, GetAccountSummaries, GetBookSummaryByCurrency, GetCancelOnDisconnect,
    GetCurrencies, GetIndexPrice, GetInstrument, GetLastTradesByInstrument, GetOpenOrders,
    GetOpenOrdersByCurrency, GetOpenOrdersByInstrument, GetOrderHistoryByCurrency,
    GetOrderHistoryByInstrument, GetOrderState, GetOrderStateByLabel, GetPosition, GetTime,
    GetUserTradesByCurrency, GetUserTradesByInstrument, Sell, Status,
};
use wsnova_adapters::deribit::{
    CancelScope, Deribit, Direction, Locked, OrderParams, OrderPrice, ServerTimes, code,
};
use wsnova_core::session::{Credentials, SessionConfig};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};
use wsnova_tokio::{Builder, Client, Connect as _, Events};

const STEP: Duration = Duration::from_secs(10);
const BTC: &str = "BTC-PERPETUAL";
const ETH: &str = "ETH-PERPETUAL";

async fn connect(mock: &MockDeribit) -> (Client, Events) {
    let mut config = SessionConfig::new(&mock.url()).expect("a valid url");
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    config.request_timeout = Duration::from_secs(5);
    let connect = Builder::from_config(config).connect(Deribit::new());
    let connected = tokio::time::timeout(STEP, connect).await;
    connected.expect("connect in time").expect("connect")
}

/// Sends `call` and parses its result; panics on any failure.
async fn call<C: Call>(client: &Client, call: &C) -> C::Result {
    let result = client.request(C::METHOD, call).await;
    let result = result.unwrap_or_else(|e| panic!("{}: {e:?}", C::METHOD));
    C::parse(&result).unwrap_or_else(|e| panic!("{}: {e}: {}", C::METHOD, result.as_str()))
}

/// A limit buy far below the market: it rests.
async fn rest(client: &Client, instrument: &str, price: f64, label: &str) -> String {
    let params = OrderParams::limit(instrument, 10.0, price).label(label);
    let placed = call(client, &Buy(params)).await.order;
    assert_eq!(placed.order_state, "open");
    placed.order_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_calls_answer_with_the_documented_shapes() {
    let mock = MockDeribit::start(MockConfig::default());
    let (client, _events) = connect(&mock).await;

    let index = call(&client, &GetIndexPrice::new("btc_usd")).await;
    assert!(index.index_price > 1_000.0, "{index:?}");
    let refused = client
        .request(GetIndexPrice::METHOD, &GetIndexPrice::new("nope_usd"))
        .await;
    assert_eq!(code(&refused.unwrap_err()), Some(-32602));

    let summaries = call(
        &client,
        &GetBookSummaryByCurrency {
            currency: "BTC".into(),
            kind: Some("future".into()),
        },
    )
    .await;
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    let btc = &summaries[0];
    assert_eq!(
        (btc.instrument_name.as_str(), btc.base_currency.as_str()),
        (BTC, "BTC")
    );
    let (bid, ask) = (btc.bid_price.unwrap(), btc.ask_price.unwrap());
    assert!(bid < ask && btc.mid_price.unwrap() > bid && btc.mark_price > 0.0);

    let instrument = call(
        &client,
        &GetInstrument {
            instrument_name: ETH.into(),
        },
    )
    .await;
    assert_eq!(
        (
            instrument.instrument_name.as_str(),
            instrument.kind.as_str()
        ),
        (ETH, "future")
    );
    let currencies = call(&client, &GetCurrencies {}).await;
    let names: Vec<_> = currencies.iter().map(|c| c.currency.as_str()).collect();
    assert_eq!(names, ["BTC", "ETH"]);
    assert_eq!(call(&client, &Status {}).await.locked, Locked::No);

    // The simulated tape fills as the market steps.
    let deadline = tokio::time::Instant::now() + STEP;
    let mut last = GetLastTradesByInstrument::new(BTC);
    last.count = Some(2);
    let tape = loop {
        let tape = call(&client, &last).await;
        if tape.trades.len() == 2 {
            break tape;
        }
        assert!(tokio::time::Instant::now() < deadline, "no public trades");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        tape.trades
            .iter()
            .all(|t| t.instrument_name == BTC && t.price > 0.0)
    );
    assert!(
        tape.trades[0].trade_seq > tape.trades[1].trade_seq,
        "newest first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_orders_are_read_edited_and_cancelled_by_id_label_instrument_and_currency() {
    let mock = MockDeribit::start(MockConfig::default());
    let (client, _events) = connect(&mock).await;
    let a = rest(&client, BTC, 1_000.0, "a").await;
    let b = rest(&client, BTC, 1_010.0, "b").await;
    let e = rest(&client, ETH, 10.0, "e").await;

    let state = call(
        &client,
        &GetOrderState {
            order_id: a.clone(),
        },
    )
    .await;
    assert_eq!(
        (state.order_state.as_str(), state.price),
        ("open", OrderPrice::Limit(1_000.0))
    );
    let by_label = GetOrderStateByLabel {
        currency: "BTC".into(),
        label: Some("b".into()),
    };
    let labelled = call(&client, &by_label).await;
    assert_eq!(
        labelled.iter().map(|o| &o.order_id).collect::<Vec<_>>(),
        [&b]
    );

    assert_eq!(call(&client, &GetOpenOrders::default()).await.len(), 3);
    let limits = GetOpenOrders {
        kind: Some("future".into()),
        order_type: Some("limit".into()),
    };
    assert_eq!(call(&client, &limits).await.len(), 3);
    let stops = GetOpenOrders {
        kind: None,
        order_type: Some("stop_all".into()),
    };
    assert!(call(&client, &stops).await.is_empty());
    let on_btc = GetOpenOrdersByInstrument {
        instrument_name: BTC.into(),
        order_type: None,
    };
    let mut ids: Vec<_> = call(&client, &on_btc)
        .await
        .into_iter()
        .map(|o| o.order_id)
        .collect();
    ids.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(ids, want);
    let in_eth = GetOpenOrdersByCurrency {
        currency: "ETH".into(),
        kind: None,
        order_type: None,
    };
    assert_eq!(call(&client, &in_eth).await[0].order_id, e);

    // Edit by id, then by label: same order, new amount and price.
    let edited = call(&client, &Edit::new(&a).amount(20.0).price(1_005.0)).await;
    assert_eq!(edited.order.order_id, a);
    assert_eq!(
        (edited.order.amount, edited.order.price),
        (Some(20.0), OrderPrice::Limit(1_005.0))
    );
    assert!(edited.trades.is_empty());
    let relabelled = call(&client, &EditByLabel::new("b", BTC).price(1_002.0)).await;
    assert_eq!(
        (relabelled.order.order_id.as_str(), relabelled.order.price),
        (b.as_str(), OrderPrice::Limit(1_002.0))
    );
    let now = call(
        &client,
        &GetOrderState {
            order_id: a.clone(),
        },
    )
    .await;
    assert_eq!(now.price, OrderPrice::Limit(1_005.0), "the edit stayed");
    let gone = client
        .request(Edit::METHOD, &Edit::new("BTC-0").price(1.0))
        .await;
    assert_eq!(code(&gone.unwrap_err()), Some(10004), "order_not_found");

    // The cancels, each counting what it cancelled.
    assert_eq!(call(&client, &CancelByLabel::new("b")).await, 1);
    assert_eq!(call(&client, &CancelAllByInstrument::new(ETH)).await, 1);
    assert_eq!(call(&client, &CancelAllByCurrency::new("BTC")).await, 1);
    assert_eq!(call(&client, &CancelAllByCurrency::new("BTC")).await, 0);
    assert!(call(&client, &GetOpenOrders::default()).await.is_empty());

    // Unfilled cancelled orders are history only with `include_unfilled`.
    let mut history = GetOrderHistoryByInstrument::new(BTC);
    assert!(call(&client, &history).await.is_empty());
    history.page.include_unfilled = Some(true);
    let done = call(&client, &history).await;
    assert_eq!(done.len(), 2);
    assert!(done.iter().all(|o| o.order_state == "cancelled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fills_show_in_trades_position_and_history_and_close_position_flattens() {
    let mock = MockDeribit::start(MockConfig::default());
    let (client, _events) = connect(&mock).await;
    let bought = call(&client, &Buy(OrderParams::market(BTC, 10.0).label("taker"))).await;
    assert_eq!(bought.order.order_state, "filled");
    let filled: f64 = bought.trades.iter().map(|t| t.amount).sum();
    assert_eq!(filled, 10.0);

    let trades = call(&client, &GetUserTradesByInstrument::new(BTC)).await;
    assert!(!trades.has_more);
    assert_eq!(trades.trades.len(), bought.trades.len());
    assert!(
        trades
            .trades
            .iter()
            .all(|t| t.order_id.as_deref() == Some(&*bought.order.order_id))
    );
    let in_eth = call(&client, &GetUserTradesByCurrency::new("ETH")).await;
    assert!(in_eth.trades.is_empty(), "{in_eth:?}");

    let position = call(
        &client,
        &GetPosition {
            instrument_name: BTC.into(),
        },
    )
    .await;
    assert_eq!((position.direction, position.size), (Direction::Buy, 10.0));

    let closed = call(&client, &ClosePosition::market(BTC)).await;
    assert_eq!(
        (closed.order.direction, closed.order.order_state.as_str()),
        (Direction::Sell, "filled")
    );
    let flat = call(
        &client,
        &GetPosition {
            instrument_name: BTC.into(),
        },
    )
    .await;
    assert_eq!((flat.direction, flat.size), (Direction::Zero, 0.0));
    let nothing = client
        .request(ClosePosition::METHOD, &ClosePosition::market(ETH))
        .await;
    assert_eq!(
        code(&nothing.unwrap_err()),
        Some(-32602),
        "no position to close"
    );

    let by_currency = call(&client, &GetUserTradesByCurrency::new("BTC")).await;
    assert_eq!(
        by_currency.trades.len(),
        bought.trades.len() + closed.trades.len()
    );
    let history = call(&client, &GetOrderHistoryByCurrency::new("BTC")).await;
    let ids: Vec<_> = history.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&bought.order.order_id.as_str()));
    assert!(ids.contains(&closed.order.order_id.as_str()));

    // A sell far above the market rests.
    let sell = call(&client, &Sell(OrderParams::limit(BTC, 10.0, 1_000_000.0))).await;
    assert_eq!(sell.order.order_state, "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_calls_and_server_times() {
    let mock = MockDeribit::start(MockConfig::default());
    let (client, _events) = connect(&mock).await;

    let account = call(&client, &GetAccountSummaries::default()).await;
    assert_eq!(account.username, DEFAULT_CLIENT_ID);
    let currencies: Vec<_> = account
        .summaries
        .iter()
        .map(|s| s.currency.as_str())
        .collect();
    assert!(
        currencies.contains(&"BTC") && currencies.contains(&"ETH"),
        "{currencies:?}"
    );
    assert!(account.summaries.iter().all(|s| s.equity > 0.0));

    let cod = call(&client, &GetCancelOnDisconnect::default()).await;
    assert_eq!(
        (cod.scope, cod.enabled),
        (Some(CancelScope::Connection), Some(false))
    );

    // The server's timestamps travel with every result.
    let result = client
        .request(GetTime::METHOD, &GetTime {})
        .await
        .expect("the time");
    let times = ServerTimes::of(&result).expect("an envelope");
    let (us_in, us_out) = (times.us_in.expect("usIn"), times.us_out.expect("usOut"));
    assert!(
        us_out >= us_in && times.us_diff == Some(us_out - us_in),
        "{times:?}"
    );
    assert_eq!(times.testnet, Some(true));
    assert!(GetTime::parse(&result).expect("a time") > 1_600_000_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trailing_stop_is_placed_edited_found_by_type_and_cancelled_by_type() {
    let mock = MockDeribit::start(MockConfig::default());
    let (client, _events) = connect(&mock).await;
    let stop = OrderParams::trailing_stop(BTC, 10.0, "index_price", 100.0).label("trail");
    let placed = call(&client, &Sell(stop)).await.order;
    assert_eq!(placed.order_state, "untriggered");
    assert_eq!(
        (placed.order_type.as_str(), placed.trigger_offset),
        ("trailing_stop", Some(100.0))
    );
    let _limit = rest(&client, BTC, 1_000.0, "plain").await;

    let mut wider = Edit::new(&placed.order_id);
    wider.trigger_offset = Some(250.0);
    let edited = call(&client, &wider).await.order;
    assert_eq!(edited.trigger_offset, Some(250.0));
    let state = call(
        &client,
        &GetOrderState {
            order_id: placed.order_id.clone(),
        },
    )
    .await;
    assert_eq!(state.trigger_offset, Some(250.0), "the edit stayed");

    let of_type = |t: &str| GetOpenOrdersByInstrument {
        instrument_name: BTC.into(),
        order_type: Some(t.into()),
    };
    assert_eq!(call(&client, &of_type("trailing_all")).await.len(), 1);
    assert_eq!(call(&client, &of_type("trigger_all")).await.len(), 1);
    assert!(call(&client, &of_type("stop_all")).await.is_empty());
    assert_eq!(call(&client, &of_type("limit")).await.len(), 1);

    let trailing = CancelAllByInstrument {
        instrument_name: BTC.into(),
        order_type: Some("trailing_stop".into()),
    };
    assert_eq!(call(&client, &trailing).await, 1);
    assert_eq!(
        call(&client, &GetOpenOrders::default()).await.len(),
        1,
        "the limit stays"
    );
}
