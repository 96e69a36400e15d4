//! The order, account and reference surface: every new call's result
//! type parses the result example of Deribit's API v2 description
//! (`result_examples.json`, taken from `deribit-openapi.json`), and the new
//! order params serialize as the description names them.

use serde_json::{Value, json};
use wsnova_core::session::JsonText;

use crate::deribit::calls::{
    Call, CancelAllByCurrency, CancelAllByInstrument, CancelByLabel, ClosePosition, Edit,
    EditByLabel, GetAccountSummaries, GetBookSummaryByCurrency, GetCancelOnDisconnect,
    GetCurrencies, GetInstrument, GetLastTradesByInstrument, GetOpenOrders,
    GetOpenOrdersByCurrency, GetOpenOrdersByInstrument, GetOrderHistoryByCurrency,
    GetOrderHistoryByInstrument, GetOrderState, GetOrderStateByLabel, GetPosition,
    GetUserTradesByCurrency, GetUserTradesByInstrument, Logout, Status,
};
use crate::deribit::{
    Advanced, CancelScope, Direction, LinkedOrderType, Locked, OrderParams, OrderType, OtocoOrder,
    TriggerFillCondition,
};

const EXAMPLES: &str = include_str!("result_examples.json");

/// The documented result example of `C::METHOD`, parsed as `C::Result`.
fn example<C: Call>() -> C::Result {
    let all: Value = serde_json::from_str(EXAMPLES).expect("the examples are JSON");
    let result = all
        .get(C::METHOD)
        .unwrap_or_else(|| panic!("no example of {}", C::METHOD));
    let text = JsonText::from_string(result.to_string());
    C::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", C::METHOD))
}

#[test]
fn order_results_parse_the_documented_examples() {
    let edited = example::<Edit>();
    assert!(!edited.order.order_id.is_empty());
    example::<EditByLabel>();
    example::<ClosePosition>();
    let state = example::<GetOrderState>();
    assert!(!state.order_state.is_empty());
    example::<GetOrderStateByLabel>();
    example::<GetOpenOrders>();
    example::<GetOpenOrdersByInstrument>();
    example::<GetOpenOrdersByCurrency>();
    example::<GetOrderHistoryByInstrument>();
    example::<GetOrderHistoryByCurrency>();
    let trades = example::<GetUserTradesByInstrument>();
    assert!(!trades.trades.is_empty());
    example::<GetUserTradesByCurrency>();
    example::<CancelAllByInstrument>();
    example::<CancelAllByCurrency>();
    example::<CancelByLabel>();
}

#[test]
fn account_and_reference_results_parse_the_documented_examples() {
    let position = example::<GetPosition>();
    assert!(!position.instrument_name.is_empty());
    let summaries = example::<GetAccountSummaries>();
    assert!(!summaries.summaries.is_empty());
    let cod = example::<GetCancelOnDisconnect>();
    assert_eq!(
        (cod.scope, cod.enabled),
        (Some(CancelScope::Account), Some(false))
    );
    let tape = example::<GetLastTradesByInstrument>();
    assert!(tape.trades.iter().all(|t| t.price > 0.0));
    example::<GetBookSummaryByCurrency>();
    example::<GetInstrument>();
    assert_eq!(example::<GetCurrencies>().len(), 2);
    // The example sends `locked: true` where the schema says a string.
    assert_eq!(example::<Status>().locked, Locked::All);
}

#[test]
fn logout_returns_nothing_and_is_terminal() {
    use wsnova_core::session::Adapter;
    assert!(Logout::parse(&JsonText::from_string("null")).is_ok());
    let adapter = crate::deribit::Deribit::new();
    assert!(adapter.is_terminal("private/logout"));
    assert!(!adapter.is_terminal("private/cancel_all"));
}

#[test]
fn every_order_param_serializes_under_its_documented_name() {
    let secondary = OtocoOrder::new(Direction::Sell, OrderType::TakeLimit)
        .price(70_000.0)
        .trigger("mark_price", 69_000.0);
    let order = OrderParams::limit("BTC-PERPETUAL", 100.0, 60_000.0)
        .display_amount(10.0)
        .advanced(Advanced::Usd)
        .mmp(true)
        .valid_until(1_700_000_000_000)
        .reject_post_only(true)
        .linked(
            LinkedOrderType::OneTriggersOneCancelsOther,
            Some(TriggerFillCondition::Incremental),
            vec![secondary],
        );
    let sent: Value = serde_json::to_value(&order).unwrap();
    assert_eq!(
        sent,
        json!({
            "instrument_name": "BTC-PERPETUAL", "amount": 100.0, "type": "limit",
            "price": 60_000.0, "display_amount": 10.0, "reject_post_only": true,
            "advanced": "usd", "mmp": true, "valid_until": 1_700_000_000_000u64,
            "linked_order_type": "one_triggers_one_cancels_other",
            "trigger_fill_condition": "incremental",
            "otoco_config": [{
                "direction": "sell", "type": "take_limit", "price": 70_000.0,
                "trigger_price": 69_000.0, "trigger": "mark_price",
            }],
        })
    );
    let stop = OrderParams::triggered(
        "ETH-PERPETUAL",
        5.0,
        OrderType::StopLimit,
        "index_price",
        2_900.0,
    )
    .price(2_890.0)
    .trigger_offset(50.0);
    let sent: Value = serde_json::to_value(&stop).unwrap();
    assert_eq!(
        sent,
        json!({
            "instrument_name": "ETH-PERPETUAL", "amount": 5.0, "type": "stop_limit",
            "price": 2_890.0, "trigger_price": 2_900.0, "trigger_offset": 50.0,
            "trigger": "index_price",
        })
    );
}
