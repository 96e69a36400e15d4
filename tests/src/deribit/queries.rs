//! Reading orders, trades and the account (Deribit API v2): one order's
//! state, open orders, the order history, the user's trades, one position
//! and the account summaries. Every result has the shape of the API
//! description's schema (`order`, `user_trade`, `position_with_elp`, …).

use serde_json::{Value, json};

use super::account;
use super::filters::{count, currency_of, is_live, kind_matches, optional, required, type_matches};
use super::market::spec;
use super::orders::order_json;
use super::rpc::RpcError;
use super::state::State;
use super::stats::OrderRecord;

/// The read-only private methods answered here.
pub(crate) const METHODS: &[&str] = &[
    "private/get_order_state",
    "private/get_order_state_by_label",
    "private/get_open_orders_by_instrument",
    "private/get_open_orders_by_currency",
    "private/get_order_history_by_instrument",
    "private/get_order_history_by_currency",
    "private/get_user_trades_by_instrument",
    "private/get_user_trades_by_currency",
    "private/get_position",
    "private/get_account_summaries",
];

/// Runs one of [`METHODS`] (and `private/get_open_orders`) for `account`.
pub(crate) fn handle(
    st: &State,
    method: &str,
    account: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    let mine = |o: &&OrderRecord| o.account == account;
    let orders = st.stats.orders.iter().filter(mine);
    match method {
        "private/get_order_state" => {
            let id = required(params, "order_id")?;
            let mut found = orders.filter(|o| o.order_id == id);
            found
                .next()
                .map(order_json)
                .ok_or_else(|| RpcError::new(10004))
        }
        "private/get_order_state_by_label" => {
            let currency = required(params, "currency")?;
            let label = optional(params, "label").unwrap_or("");
            let found = orders.filter(|o| currency_of(o) == currency && o.label == label);
            Ok(newest_first(found)
                .map(order_json)
                .collect::<Vec<_>>()
                .into())
        }
        "private/get_open_orders"
        | "private/get_open_orders_by_instrument"
        | "private/get_open_orders_by_currency" => {
            let (instrument, currency) = scope(params, method)?;
            let kind = kind_matches(params);
            let kind_of = optional(params, "type");
            let open = orders.filter(|o| {
                is_live(o)
                    && kind
                    && type_matches(kind_of, &o.order_type)
                    && instrument.is_none_or(|i| o.instrument == i)
                    && currency.is_none_or(|c| currency_of(o) == c)
            });
            Ok(open.map(order_json).collect::<Vec<_>>().into())
        }
        "private/get_order_history_by_instrument" | "private/get_order_history_by_currency" => {
            let (instrument, currency) = scope(params, method)?;
            let unfilled = params.get("include_unfilled").and_then(Value::as_bool);
            let offset = params.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let count = count(params, 20, 1000)?;
            let kind = kind_matches(params);
            // Deribit: orders no longer open; unfilled cancelled or rejected
            // ones only with `include_unfilled`.
            let done = orders.filter(|o| {
                !is_live(o)
                    && kind
                    && (o.filled_amount > 0.0 || unfilled == Some(true))
                    && instrument.is_none_or(|i| o.instrument == i)
                    && currency.is_none_or(|c| currency_of(o) == c)
            });
            let page = newest_first(done).skip(offset).take(count);
            Ok(page.map(order_json).collect::<Vec<_>>().into())
        }
        "private/get_user_trades_by_instrument" | "private/get_user_trades_by_currency" => {
            user_trades(st, method, account, params)
        }
        "private/get_position" => {
            let name = required(params, "instrument_name")?;
            let spec = spec(name)
                .ok_or_else(|| RpcError::invalid_params("instrument_name", "unknown instrument"))?;
            let all = account::positions(st, account, &json!({"currency": spec.currency}));
            let mut found = all.as_array().into_iter().flatten().cloned();
            let position = found.find(|p| p["instrument_name"] == name);
            Ok(position.unwrap_or_else(|| flat(st, spec.name)))
        }
        "private/get_account_summaries" => summaries(st, account, params),
        _ => Err(RpcError::new(-32601)),
    }
}

/// The instrument or currency a `…_by_instrument` / `…_by_currency` call names.
fn scope<'a>(
    params: &'a Value,
    method: &str,
) -> Result<(Option<&'a str>, Option<&'a str>), RpcError> {
    if method.ends_with("_by_instrument") {
        Ok((Some(required(params, "instrument_name")?), None))
    } else if method.ends_with("_by_currency") {
        Ok((None, Some(required(params, "currency")?)))
    } else {
        Ok((None, None))
    }
}

fn newest_first<'a>(
    orders: impl Iterator<Item = &'a OrderRecord>,
) -> impl Iterator<Item = &'a OrderRecord> {
    let mut all: Vec<_> = orders.collect();
    all.sort_by(|a, b| {
        b.updated_ms
            .cmp(&a.updated_ms)
            .then(b.order_id.cmp(&a.order_id))
    });
    all.into_iter()
}

/// A flat position (`private/get_position` before any trade).
fn flat(st: &State, name: &str) -> Value {
    let mark = st.market.book(name).map_or(0.0, |b| b.mark_price());
    json!({
        "instrument_name": name, "kind": "future", "direction": "zero", "size": 0.0,
        "size_currency": 0.0, "average_price": 0.0, "mark_price": mark, "index_price": mark,
        "settlement_price": mark, "delta": 0.0, "leverage": 50, "floating_profit_loss": 0.0,
        "total_profit_loss": 0.0, "realized_profit_loss": 0.0, "realized_funding": 0.0,
        "interest_value": 0.0, "initial_margin": 0.0, "maintenance_margin": 0.0,
        "open_orders_margin": 0.0, "estimated_liquidation_price": null,
    })
}

/// `private/get_user_trades_by_*`: `{trades, has_more}`, newest first
/// unless `sorting` is `asc`.
fn user_trades(st: &State, method: &str, account: &str, params: &Value) -> Result<Value, RpcError> {
    let (instrument, currency) = scope(params, method)?;
    let count = count(params, 10, 1000)?;
    let num = |name| params.get(name).and_then(Value::as_u64);
    let (start_seq, end_seq) = (num("start_seq"), num("end_seq"));
    let (start_ts, end_ts) = (num("start_timestamp"), num("end_timestamp"));
    let kind = kind_matches(params);
    let matching: Vec<&Value> = st
        .user_trades
        .iter()
        .filter(|(owner, _)| owner == account)
        .map(|(_, t)| t)
        .filter(|t| {
            let name = t["instrument_name"].as_str().unwrap_or("");
            let seq = t["trade_seq"].as_u64().unwrap_or(0);
            let at = t["timestamp"].as_u64().unwrap_or(0);
            kind && instrument.is_none_or(|i| name == i)
                && currency.is_none_or(|c| spec(name).is_some_and(|s| s.currency == c))
                && start_seq.is_none_or(|s| seq >= s)
                && end_seq.is_none_or(|e| seq <= e)
                && start_ts.is_none_or(|s| at >= s)
                && end_ts.is_none_or(|e| at <= e)
        })
        .collect();
    let ascending = optional(params, "sorting") == Some("asc");
    let ordered: Vec<&Value> = if ascending {
        matching.to_vec()
    } else {
        matching.iter().rev().copied().collect()
    };
    let page: Vec<Value> = ordered.iter().take(count).map(|t| (*t).clone()).collect();
    Ok(json!({"trades": page, "has_more": matching.len() > count}))
}

/// `private/get_account_summaries`: the account and one summary per currency.
fn summaries(st: &State, account: &str, params: &Value) -> Result<Value, RpcError> {
    if params.get("subaccount_id").is_some() {
        return Err(RpcError::invalid_params(
            "subaccount_id",
            "no such subaccount",
        ));
    }
    let mut list = Vec::new();
    for currency in ["BTC", "ETH", "USDC", "USDT"] {
        list.push(account::account_summary(
            st,
            account,
            &json!({"currency": currency}),
        )?);
    }
    Ok(json!({
        "id": 1, "username": account, "system_name": account, "type": "main",
        "email": format!("{account}@mock.invalid"), "security_keys_enabled": false,
        "login_enabled": true, "mmp_enabled": false, "interuser_transfers_enabled": false,
        "creation_timestamp": 1_600_000_000_000u64, "referrer_id": null,
        "self_trading_reject_mode": "cancel_maker", "self_trading_extended_to_subaccounts": false,
        "summaries": list,
    }))
}
