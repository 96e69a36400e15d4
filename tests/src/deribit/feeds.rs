//! The data of the channels beyond books, trades and tickers, shaped as
//! Deribit documents them (docs.deribit.com, "Subscription Channels"):
//!
//! * `quote.{instrument}`: `{best_ask_amount, best_ask_price,
//!   best_bid_amount, best_bid_price, instrument_name, timestamp}`;
//! * `deribit_price_index.{index_name}`: `{index_name, price, timestamp}`;
//! * `user.changes.*`: `{instrument_name, orders, trades, positions}` (the
//!   channel's example names the list `positions`);
//! * `user.portfolio.{currency}`: the account summary's balances, margins
//!   and P&L for the currency, with the options Greeks (zero here: the mock
//!   lists no options);
//! * `platform_state`: `{price_index, locked}`;
//!   `platform_state.public_methods_state`:
//!   `{allow_unauthenticated_public_requests}`;
//! * `announcements`: `{action, id, title, body, publication_timestamp,
//!   important, confirmation, unread}`.

use serde_json::{Map, Value, json};

use super::account;
use super::book::Book;
use super::market::Spec;
use super::rpc::now_ms;
use super::state::State;

/// The `position` objects of `account` in `spec` (none before a trade).
pub(crate) fn positions(st: &State, account: &str, spec: &Spec) -> Vec<Value> {
    let all = account::positions(st, account, &json!({"currency": spec.currency}));
    let all = all.as_array().cloned().unwrap_or_default();
    all.into_iter()
        .filter(|p| p["instrument_name"] == spec.name)
        .collect()
}

/// The `user.portfolio.{currency}` data of `account`.
pub(crate) fn portfolio(st: &State, account: &str, currency: &str) -> Value {
    let summary = account::account_summary(st, account, &json!({"currency": currency}));
    let summary = summary.unwrap_or_else(|_| json!({}));
    let number = |name: &str| summary.get(name).cloned().unwrap_or(json!(0.0));
    let mut out = Map::new();
    for name in [
        "balance",
        "equity",
        "margin_balance",
        "available_funds",
        "available_withdrawal_funds",
        "initial_margin",
        "maintenance_margin",
        "session_upl",
        "session_rpl",
        "total_pl",
        "futures_pl",
        "options_pl",
        "delta_total",
        "fee_balance",
    ] {
        out.insert(name.into(), number(name));
    }
    let zero = json!(0.0);
    for name in [
        "additional_reserve",
        "spot_reserve",
        "futures_session_rpl",
        "options_session_rpl",
        "options_session_upl",
        "options_value",
        "options_delta",
        "options_gamma",
        "options_theta",
        "options_vega",
    ] {
        out.insert(name.into(), zero.clone());
    }
    // Margins and delta from the positions (the summary reports none).
    let held = account::positions(st, account, &json!({"currency": currency}));
    let held = held.as_array().cloned().unwrap_or_default();
    let sum = |field: &str| -> f64 { held.iter().filter_map(|p| p[field].as_f64()).sum() };
    let (initial, maintenance) = (sum("initial_margin"), sum("maintenance_margin"));
    let equity = summary["equity"].as_f64().unwrap_or(0.0);
    out.insert("initial_margin".into(), initial.into());
    out.insert("maintenance_margin".into(), maintenance.into());
    out.insert("available_funds".into(), (equity - initial).into());
    let delta = sum("delta");
    out.insert("delta_total".into(), delta.into());
    let index = format!("{}_usd", currency.to_lowercase());
    out.insert("futures_session_upl".into(), number("session_upl"));
    out.insert("projected_initial_margin".into(), initial.into());
    out.insert("projected_maintenance_margin".into(), maintenance.into());
    out.insert("projected_delta_total".into(), delta.into());
    out.insert("delta_total_map".into(), json!({ index: delta }));
    for map in ["options_gamma_map", "options_theta_map", "options_vega_map"] {
        out.insert(map.into(), json!({}));
    }
    out.insert("estimated_liquidation_ratio".into(), zero);
    out.insert("estimated_liquidation_ratio_map".into(), json!({}));
    out.insert("portfolio_margining_enabled".into(), false.into());
    out.insert("cross_collateral_enabled".into(), false.into());
    out.insert("margin_model".into(), "segregated_sm".into());
    out.insert("currency".into(), currency.into());
    Value::Object(out)
}

/// `quote.{instrument}` data.
pub(crate) fn quote(book: &Book) -> Value {
    let (bid, bid_amount) = book.best_bid().unwrap_or((0.0, 0.0));
    let (ask, ask_amount) = book.best_ask().unwrap_or((0.0, 0.0));
    json!({
        "best_ask_amount": ask_amount,
        "best_ask_price": ask,
        "best_bid_amount": bid_amount,
        "best_bid_price": bid,
        "instrument_name": book.spec.name,
        "timestamp": book.timestamp,
    })
}

/// `deribit_price_index.{name}` data.
pub(crate) fn index(name: &str, price: f64) -> Value {
    json!({"index_name": name, "price": price, "timestamp": now_ms()})
}

/// `user.changes.*` data of one change.
pub(crate) fn change(
    instrument: &str,
    orders: &[Value],
    trades: &[Value],
    positions: &[Value],
) -> Value {
    json!({
        "instrument_name": instrument,
        "orders": orders,
        "trades": trades,
        "positions": positions,
    })
}

/// Merges the `user.changes` data of one instrument gathered over an
/// interval: the orders and trades in order, the latest positions.
pub(crate) fn merge_changes(changes: &[Value]) -> Value {
    let mut merged = changes[0].clone();
    for next in &changes[1..] {
        for list in ["orders", "trades"] {
            let more = next[list].as_array().cloned().unwrap_or_default();
            if let Some(items) = merged[list].as_array_mut() {
                items.extend(more);
            }
        }
        merged["positions"] = next["positions"].clone();
    }
    merged
}

/// `announcements` data (action `new`).
pub(crate) fn announcement(id: u64, title: &str, body: &str, important: bool) -> Value {
    json!({
        "action": "new",
        "id": id,
        "title": title,
        "body": body,
        "publication_timestamp": now_ms(),
        "important": important,
        "confirmation": false,
        "unread": 1,
    })
}
