//! Market data methods and the private trading / account methods, and the
//! routing to the modules of the rest (`queries`, `order_edits`, `cod`,
//! `reference`).

use std::time::Instant;

use serde_json::{Value, json};

use super::conn::Conn;
use super::market::{INSTRUMENTS, Spec, spec};
use super::rpc::RpcError;
use super::state::State;
use super::{account, cod, order_edits, orders, queries, reference};

const PUBLIC: &[&str] = &[
    "public/ticker",
    "public/get_order_book",
    "public/get_instruments",
];

const PRIVATE: &[&str] = &[
    "private/subscribe",
    "private/unsubscribe",
    "private/unsubscribe_all",
    "private/logout",
    "private/buy",
    "private/sell",
    "private/cancel",
    "private/cancel_all",
    "private/get_open_orders",
    "private/get_positions",
    "private/get_account_summary",
];

/// Whether `method` is one of the public methods handled here.
pub(crate) fn is_public(method: &str) -> bool {
    PUBLIC.contains(&method) || reference::METHODS.contains(&method)
}

/// Whether `method` is a private method the mock knows.
pub(crate) fn is_private(method: &str) -> bool {
    [
        PRIVATE,
        queries::METHODS,
        order_edits::METHODS,
        cod::METHODS,
    ]
    .iter()
    .any(|list| list.contains(&method))
}

fn instrument(params: &Value) -> Result<&'static Spec, RpcError> {
    let name = params.get("instrument_name").and_then(Value::as_str);
    let name = name.ok_or_else(|| RpcError::invalid_params("instrument_name", "required"))?;
    spec(name).ok_or_else(|| RpcError::invalid_params("instrument_name", "unknown instrument"))
}

/// An `instrument` object (`public/get_instruments`, `public/get_instrument`).
pub(crate) fn instrument_json(s: &Spec) -> Value {
    json!({
        "instrument_name": s.name,
        "instrument_id": s.instrument_id,
        "kind": "future",
        "instrument_type": "reversed",
        "settlement_period": "perpetual",
        "base_currency": s.currency,
        "quote_currency": "USD",
        "counter_currency": "USD",
        "settlement_currency": s.currency,
        "price_index": format!("{}_usd", s.currency.to_lowercase()),
        "tick_size": s.tick,
        "tick_size_steps": [],
        "contract_size": s.contract_size,
        "min_trade_amount": s.contract_size,
        "maker_commission": 0.0,
        "taker_commission": 0.0005,
        "max_leverage": 50,
        "max_liquidation_commission": 0.0075,
        "block_trade_commission": 0.00025,
        "block_trade_min_trade_amount": 200_000,
        "block_trade_tick_size": 0.01,
        "is_active": true,
        "state": "open",
        "rfq": false,
        "creation_timestamp": 1_534_167_754_000u64,
        "expiration_timestamp": 32_503_708_800_000u64,
    })
}

/// `public/ticker`, `public/get_order_book`, `public/get_instruments`.
pub(crate) fn public(
    st: &mut State,
    method: &str,
    params: &Value,
    now: Instant,
) -> Result<Value, RpcError> {
    st.advance(now);
    match method {
        "public/ticker" => {
            let spec = instrument(params)?;
            Ok(st
                .market
                .book(spec.name)
                .map_or(Value::Null, |b| b.ticker()))
        }
        "public/get_order_book" => {
            let spec = instrument(params)?;
            let depth = match params.get("depth") {
                None => 20,
                Some(d) => d
                    .as_u64()
                    .filter(|d| (1..=10_000).contains(d))
                    .ok_or_else(|| RpcError::invalid_params("depth", "1 to 10000"))?
                    as usize,
            };
            Ok(st
                .market
                .book(spec.name)
                .map_or(Value::Null, |b| b.order_book(depth)))
        }
        "public/get_instruments" => {
            let currency = params.get("currency").and_then(Value::as_str);
            let currency =
                currency.ok_or_else(|| RpcError::invalid_params("currency", "required"))?;
            if !["BTC", "ETH", "USDC", "USDT", "EURR", "any"].contains(&currency) {
                return Err(RpcError::invalid_params("currency", "unknown currency"));
            }
            let kind = params
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("future");
            let listed = INSTRUMENTS
                .iter()
                .filter(|s| kind == "future" && (currency == "any" || s.currency == currency));
            Ok(listed.map(instrument_json).collect::<Vec<_>>().into())
        }
        m if reference::METHODS.contains(&m) => reference::handle(st, m, params),
        _ => Err(RpcError::new(-32601)),
    }
}

/// The private methods other than (un)subscribe and logout, for `account`.
pub(crate) fn private(
    conn: &mut Conn,
    st: &mut State,
    method: &str,
    account: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    st.advance(Instant::now());
    match method {
        "private/buy" | "private/sell" => {
            let direction = if method == "private/buy" {
                "buy"
            } else {
                "sell"
            };
            let update = orders::place(st, conn.id, account, direction, params)?;
            let result = update.result.clone();
            st.broadcast(&[update]);
            Ok(result)
        }
        "private/cancel" => {
            let update = orders::cancel(st, account, params)?;
            let result = update.result.clone();
            st.broadcast(&[update]);
            Ok(result)
        }
        "private/cancel_all" => {
            let updates = orders::cancel_where(st, account, |_| true);
            st.broadcast(&updates);
            Ok(updates.len().into())
        }
        "private/get_open_orders" if params.get("kind").or(params.get("type")).is_none() => {
            Ok(orders::open_orders(st, account))
        }
        "private/get_open_orders" => queries::handle(st, method, account, params),
        "private/get_positions" => Ok(account::positions(st, account, params)),
        "private/get_account_summary" => account::account_summary(st, account, params),
        m if queries::METHODS.contains(&m) => queries::handle(st, m, account, params),
        m if order_edits::METHODS.contains(&m) => {
            let (result, updates) = order_edits::handle(st, conn.id, m, account, params)?;
            st.broadcast(&updates);
            Ok(result)
        }
        m if cod::METHODS.contains(&m) => cod::handle(conn, st, m, account, params),
        _ => Err(RpcError::new(-32601)),
    }
}
