//! Changing orders (Deribit API v2): `private/edit`, `edit_by_label`, the
//! cancel variants by instrument, currency and label, `close_position`.
//! Matching stays the order engine's (`orders`): an edit changes the
//! resting order in place, a close places a reduce-only order.

use serde_json::{Value, json};

use super::filters::{currency_of, is_live, kind_matches, optional, required, type_matches};
use super::market::spec;
use super::orders::{self, OrderUpdate, order_json};
use super::rpc::{RpcError, now_ms};
use super::state::State;
use super::stats::ConnId;

/// The order-changing private methods answered here.
pub(crate) const METHODS: &[&str] = &[
    "private/edit",
    "private/edit_by_label",
    "private/cancel_all_by_instrument",
    "private/cancel_all_by_currency",
    "private/cancel_by_label",
    "private/close_position",
];

/// Runs one of [`METHODS`] for `account` on connection `conn`: the result
/// and the orders that changed (for the `user.*` subscribers).
pub(crate) fn handle(
    st: &mut State,
    conn: ConnId,
    method: &str,
    account: &str,
    params: &Value,
) -> Result<(Value, Vec<OrderUpdate>), RpcError> {
    match method {
        "private/edit" => {
            let id = required(params, "order_id")?;
            let found = (0..st.stats.orders.len()).find(|&i| {
                let o = &st.stats.orders[i];
                o.order_id == id && o.account == account
            });
            edit(st, found.ok_or_else(|| RpcError::new(10004))?, params)
        }
        "private/edit_by_label" => {
            let name = required(params, "instrument_name")?;
            let label = optional(params, "label").unwrap_or("");
            let live: Vec<usize> = (0..st.stats.orders.len())
                .filter(|&i| {
                    let o = &st.stats.orders[i];
                    o.account == account && o.instrument == name && o.label == label && is_live(o)
                })
                .collect();
            // Deribit edits by label only when exactly one open order has it.
            match live.as_slice() {
                [] => Err(RpcError::new(10004)),
                [index] => edit(st, *index, params),
                _ => Err(RpcError::invalid_params(
                    "label",
                    "more than one open order",
                )),
            }
        }
        "private/cancel_all_by_instrument" => {
            let name = required(params, "instrument_name")?;
            let kind = optional(params, "type");
            let updates = orders::cancel_where(st, account, |o| {
                o.instrument == name && type_matches(kind, &o.order_type)
            });
            Ok((updates.len().into(), updates))
        }
        "private/cancel_all_by_currency" => {
            let currency = required(params, "currency")?;
            let (kind, order_type) = (kind_matches(params), optional(params, "type"));
            let updates = orders::cancel_where(st, account, |o| {
                kind && currency_of(o) == currency && type_matches(order_type, &o.order_type)
            });
            Ok((updates.len().into(), updates))
        }
        "private/cancel_by_label" => {
            let label = required(params, "label")?;
            let currency = optional(params, "currency");
            let updates = orders::cancel_where(st, account, |o| {
                o.label == label && currency.is_none_or(|c| currency_of(o) == c)
            });
            Ok((updates.len().into(), updates))
        }
        "private/close_position" => close_position(st, conn, account, params),
        _ => Err(RpcError::new(-32601)),
    }
}

/// Edits the order at `index`: a new amount (not below what filled) and
/// price. The order keeps its id and place; the result is `{order, trades}`.
fn edit(
    st: &mut State,
    index: usize,
    params: &Value,
) -> Result<(Value, Vec<OrderUpdate>), RpcError> {
    if !is_live(&st.stats.orders[index]) {
        return Err(RpcError::new(11044));
    }
    let o = &st.stats.orders[index];
    let contract_size = spec(&o.instrument).map_or(1.0, |s| s.contract_size);
    let number = |name: &str| params.get(name).and_then(Value::as_f64);
    let amount = number("amount").or_else(|| Some(number("contracts")? * contract_size));
    if let Some(amount) = amount {
        let lots = amount / contract_size;
        if amount <= 0.0 || (lots - lots.round()).abs() > 1e-9 {
            let reason = format!("a positive multiple of contract size {contract_size}");
            return Err(RpcError::invalid_params("amount", &reason));
        }
        if amount < o.filled_amount {
            return Err(RpcError::invalid_params(
                "amount",
                "below the filled amount",
            ));
        }
    }
    let price = number("price");
    if price.is_some_and(|p| p <= 0.0) {
        return Err(RpcError::invalid_params("price", "must be positive"));
    }
    if price.is_some() && o.order_type == "market" {
        return Err(RpcError::invalid_params("price", "a market order has none"));
    }
    let o = &mut st.stats.orders[index];
    if let Some(amount) = amount {
        o.amount = amount;
        if amount - o.filled_amount < 1e-9 {
            o.state = "filled".to_owned();
        }
    }
    if let Some(price) = price {
        o.price = Some(price);
    }
    // A trigger order's trigger price, a trailing stop's distance.
    if let (Some(_), Some(trigger_price)) = (&o.trigger, number("trigger_price")) {
        o.trigger_price = Some(trigger_price);
    }
    if let (Some(_), Some(offset)) = (o.trigger_offset, number("trigger_offset")) {
        o.trigger_offset = Some(offset);
    }
    o.updated_ms = now_ms();
    let mut order = order_json(o);
    order["replaced"] = true.into();
    let update = OrderUpdate {
        result: json!({"order": order.clone(), "trades": []}),
        account: o.account.clone(),
        instrument: spec(&o.instrument).expect("orders are on listed instruments"),
        order,
    };
    Ok((update.result.clone(), vec![update]))
}

/// `private/close_position {instrument_name, type, price?}`: a reduce-only
/// order against the whole position.
fn close_position(
    st: &mut State,
    conn: ConnId,
    account: &str,
    params: &Value,
) -> Result<(Value, Vec<OrderUpdate>), RpcError> {
    let name = required(params, "instrument_name")?;
    let spec = spec(name)
        .ok_or_else(|| RpcError::invalid_params("instrument_name", "unknown instrument"))?;
    let order_type = required(params, "type")?;
    let price = params.get("price").and_then(Value::as_f64);
    match (order_type, price) {
        ("market", _) | ("limit", Some(_)) => {}
        ("limit", None) => return Err(RpcError::invalid_params("price", "required for limit")),
        _ => return Err(RpcError::invalid_params("type", "limit or market")),
    }
    let size = st
        .positions
        .get(&(account.to_owned(), spec.name))
        .map_or(0.0, |p| p.size);
    if size.abs() < 1e-9 {
        return Err(RpcError::invalid_params(
            "instrument_name",
            "no position to close",
        ));
    }
    let direction = if size > 0.0 { "sell" } else { "buy" };
    let mut order = json!({
        "instrument_name": name, "amount": size.abs(), "type": order_type, "reduce_only": true,
    });
    if let Some(price) = price {
        order["price"] = price.into();
    }
    let update = orders::place(st, conn, account, direction, &order)?;
    Ok((update.result.clone(), vec![update]))
}
