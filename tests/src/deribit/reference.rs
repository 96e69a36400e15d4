//! Public reference and market methods (Deribit API v2): the index price,
//! the public tape, book summaries, one instrument, the currencies and the
//! platform's status, from the simulated market.

use serde_json::{Value, json};

use super::filters::{count, kind_matches, optional, required};
use super::market::{INSTRUMENTS, spec};
use super::methods::instrument_json;
use super::rpc::{RpcError, round2};
use super::state::State;

/// The public methods answered here.
pub(crate) const METHODS: &[&str] = &[
    "public/get_index_price",
    "public/get_last_trades_by_instrument",
    "public/get_book_summary_by_currency",
    "public/get_instrument",
    "public/get_currencies",
    "public/status",
];

/// Runs one of [`METHODS`] (the market already advanced).
pub(crate) fn handle(st: &State, method: &str, params: &Value) -> Result<Value, RpcError> {
    match method {
        "public/get_index_price" => {
            let name = required(params, "index_name")?;
            let listed = INSTRUMENTS
                .iter()
                .find(|s| format!("{}_usd", s.currency.to_lowercase()) == name);
            let spec =
                listed.ok_or_else(|| RpcError::invalid_params("index_name", "unknown index"))?;
            let mark = st.market.book(spec.name).map_or(0.0, |b| b.mark_price());
            let index = round2(mark * 0.9999);
            Ok(json!({"index_price": index, "estimated_delivery_price": index}))
        }
        "public/get_last_trades_by_instrument" => {
            let name = required(params, "instrument_name")?;
            let book = st
                .market
                .book(name)
                .ok_or_else(|| RpcError::invalid_params("instrument_name", "unknown instrument"))?;
            let count = count(params, 10, 1000)?;
            let num = |name| params.get(name).and_then(Value::as_u64);
            let (start, end) = (num("start_seq"), num("end_seq"));
            let tape: Vec<Value> = book
                .trades_after(0)
                .into_iter()
                .filter(|t| {
                    let seq = t["trade_seq"].as_u64().unwrap_or(0);
                    start.is_none_or(|s| seq >= s) && end.is_none_or(|e| seq <= e)
                })
                .collect();
            let has_more = tape.len() > count;
            let page: Vec<Value> = if optional(params, "sorting") == Some("asc") {
                tape.into_iter().take(count).collect()
            } else {
                tape.into_iter().rev().take(count).collect()
            };
            Ok(json!({"trades": page, "has_more": has_more}))
        }
        "public/get_book_summary_by_currency" => {
            let currency = required(params, "currency")?;
            let listed = INSTRUMENTS
                .iter()
                .filter(|s| kind_matches(params) && s.currency == currency);
            let summaries: Vec<Value> = listed
                .filter_map(|s| st.market.book(s.name))
                .map(|book| {
                    let t = book.ticker();
                    let (bid, ask) = (t["best_bid_price"].as_f64(), t["best_ask_price"].as_f64());
                    let mid = bid.zip(ask).map(|(b, a)| round2((b + a) / 2.0));
                    json!({
                        "instrument_name": book.spec.name, "base_currency": book.spec.currency,
                        "quote_currency": "USD", "high": t["stats"]["high"], "low": t["stats"]["low"],
                        "volume": t["stats"]["volume"], "volume_usd": t["stats"]["volume_usd"],
                        "price_change": t["stats"]["price_change"], "bid_price": bid,
                        "ask_price": ask, "mid_price": mid, "mark_price": t["mark_price"],
                        "last": t["last_price"], "open_interest": t["open_interest"],
                        "estimated_delivery_price": t["estimated_delivery_price"],
                        "current_funding": t["current_funding"], "funding_8h": t["funding_8h"],
                        "creation_timestamp": t["timestamp"],
                    })
                })
                .collect();
            Ok(summaries.into())
        }
        "public/get_instrument" => {
            let name = required(params, "instrument_name")?;
            let spec = spec(name)
                .ok_or_else(|| RpcError::invalid_params("instrument_name", "unknown instrument"))?;
            Ok(instrument_json(spec))
        }
        "public/get_currencies" => Ok(json!([
            currency("BTC", "Bitcoin", "BITCOIN", 0.0001, 8),
            currency("ETH", "Ethereum", "ETHER", 0.0006, 6),
        ])),
        "public/status" => Ok(json!({"locked": "false", "locked_indices": []})),
        _ => Err(RpcError::new(-32601)),
    }
}

fn currency(code: &str, long: &str, coin: &str, fee: f64, decimals: u32) -> Value {
    json!({
        "currency": code, "currency_long": long, "coin_type": coin, "min_confirmations": 1,
        "withdrawal_fee": fee, "min_withdrawal_fee": fee, "withdrawal_priorities": [],
        "in_cross_collateral_pool": true, "network_currency": code, "network_fee": fee,
        "decimals": decimals,
    })
}
