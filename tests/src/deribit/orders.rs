//! Orders, fills against the simulated top of book, positions, the account
//! summary and cancel-on-disconnect.

use serde_json::{Value, json};

use super::market::{Spec, spec};
use super::rpc::{RpcError, now_ms, round2};
use super::state::State;
use super::stats::{CodFiring, ConnId, EndReason, OrderRecord};

/// A position: signed size (USD; buy positive) and average entry price.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Position {
    pub(super) size: f64,
    pub(super) average_price: f64,
}

/// An order that changed, for the response and `user.orders` subscribers.
pub(crate) struct OrderUpdate {
    pub result: Value,
    pub account: String,
    pub instrument: &'static Spec,
    pub order: Value,
}

/// The `order` object of responses and notifications.
pub(crate) fn order_json(o: &OrderRecord) -> Value {
    let contract_size = spec(&o.instrument).map_or(1.0, |s| s.contract_size);
    json!({
        "order_id": o.order_id,
        "order_state": o.state,
        "order_type": o.order_type,
        "instrument_name": o.instrument,
        "direction": o.direction,
        "amount": o.amount,
        "contracts": o.amount / contract_size,
        "filled_amount": o.filled_amount,
        "price": o.price.map_or(json!("market_price"), Value::from),
        "average_price": o.average_price,
        "label": o.label,
        "time_in_force": "good_til_cancelled",
        "post_only": false,
        "reduce_only": false,
        "api": true,
        "web": false,
        "replaced": false,
        "is_liquidation": false,
        "risk_reducing": false,
        "max_show": o.amount,
        "creation_timestamp": o.created_ms,
        "last_update_timestamp": o.updated_ms,
    })
}

fn number(params: &Value, name: &str) -> Option<f64> {
    params.get(name).and_then(Value::as_f64)
}

/// `private/buy` (`direction` "buy") and `private/sell`.
pub(crate) fn place(
    st: &mut State,
    conn: ConnId,
    account: &str,
    direction: &str,
    params: &Value,
) -> Result<OrderUpdate, RpcError> {
    let name = params.get("instrument_name").and_then(Value::as_str);
    let name = name.ok_or_else(|| RpcError::invalid_params("instrument_name", "required"))?;
    let spec = spec(name)
        .ok_or_else(|| RpcError::invalid_params("instrument_name", "unknown instrument"))?;
    let amount = number(params, "amount")
        .or_else(|| Some(number(params, "contracts")? * spec.contract_size))
        .filter(|a| *a > 0.0)
        .ok_or_else(|| RpcError::invalid_params("amount", "required positive number"))?;
    let lots = amount / spec.contract_size;
    if (lots - lots.round()).abs() > 1e-9 {
        let reason = format!("must be a multiple of contract size {}", spec.contract_size);
        return Err(RpcError::invalid_params("amount", &reason));
    }
    let order_type = params
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("limit");
    let price = number(params, "price");
    match (order_type, price) {
        ("limit", Some(p)) if p > 0.0 => {}
        ("limit", _) => {
            return Err(RpcError::invalid_params(
                "price",
                "required for limit orders",
            ));
        }
        ("market", _) => {}
        _ => return Err(RpcError::invalid_params("type", "unsupported order type")),
    }
    let label = params.get("label").and_then(Value::as_str).unwrap_or("");
    if label.len() > 64 {
        return Err(RpcError::invalid_params("label", "at most 64 characters"));
    }
    let tif = params.get("time_in_force").and_then(Value::as_str);
    let book = st
        .market
        .book(name)
        .expect("every listed instrument has a book");
    let buy = direction == "buy";
    let top = if buy {
        book.best_ask()
    } else {
        book.best_bid()
    };
    let fill = top.map(|(p, _)| p).filter(|&top| match price {
        None => true,
        Some(limit) if buy => top <= limit,
        Some(limit) => top >= limit,
    });
    let (mark, index) = (book.mark_price(), round2(book.mark_price() * 0.9999));
    st.next_id += 1;
    let now = now_ms();
    let order_id = format!("{}-{}", spec.currency, st.next_id);
    let state = match (fill, tif) {
        (Some(_), _) => "filled",
        (None, Some("immediate_or_cancel" | "fill_or_kill")) => "cancelled",
        (None, _) => "open",
    };
    let record = OrderRecord {
        order_id: order_id.clone(),
        conn,
        account: account.to_owned(),
        instrument: name.to_owned(),
        direction: direction.to_owned(),
        amount,
        filled_amount: if fill.is_some() { amount } else { 0.0 },
        price,
        average_price: fill.unwrap_or(0.0),
        order_type: order_type.to_owned(),
        label: label.to_owned(),
        state: state.to_owned(),
        created_ms: now,
        updated_ms: now,
    };
    let order = order_json(&record);
    st.stats.orders.push(record);
    let mut trades = Vec::new();
    if let Some(fill_price) = fill {
        let position = st
            .positions
            .entry((account.to_owned(), spec.name))
            .or_default();
        apply_fill(position, if buy { amount } else { -amount }, fill_price);
        st.next_id += 1;
        trades.push(json!({
            "trade_id": format!("{}-{}", spec.currency, st.next_id),
            "trade_seq": st.next_id,
            "timestamp": now,
            "tick_direction": 1,
            "state": "filled",
            "order_id": order_id,
            "order_type": order_type,
            "instrument_name": name,
            "direction": direction,
            "price": fill_price,
            "amount": amount,
            "liquidity": "T",
            "fee": amount / fill_price * 0.0005,
            "fee_currency": spec.currency,
            "mark_price": mark,
            "index_price": index,
            "matching_id": null,
            "post_only": false,
            "reduce_only": false,
        }));
    }
    Ok(OrderUpdate {
        result: json!({"order": order, "trades": trades}),
        account: account.to_owned(),
        instrument: spec,
        order,
    })
}

fn apply_fill(p: &mut Position, delta: f64, price: f64) {
    let new_size = p.size + delta;
    if p.size == 0.0 || p.size.signum() != new_size.signum() {
        p.average_price = if new_size == 0.0 { 0.0 } else { price };
    } else if delta.signum() == p.size.signum() {
        p.average_price = (p.average_price * p.size + price * delta) / new_size;
    }
    p.size = new_size;
}

/// Cancels the open order at `index` of the order list.
fn cancel_at(st: &mut State, index: usize) -> OrderUpdate {
    let o = &mut st.stats.orders[index];
    o.state = "cancelled".to_owned();
    o.updated_ms = now_ms();
    let order = order_json(o);
    OrderUpdate {
        result: order.clone(),
        account: o.account.clone(),
        instrument: spec(&o.instrument).expect("orders are on listed instruments"),
        order,
    }
}

/// `private/cancel`.
pub(crate) fn cancel(
    st: &mut State,
    account: &str,
    params: &Value,
) -> Result<OrderUpdate, RpcError> {
    let id = params.get("order_id").and_then(Value::as_str);
    let id = id.ok_or_else(|| RpcError::invalid_params("order_id", "required"))?;
    let found = st
        .stats
        .orders
        .iter()
        .position(|o| o.order_id == id && o.account == account);
    let index = found.ok_or_else(|| RpcError::new(10004))?;
    if st.stats.orders[index].state != "open" {
        return Err(RpcError::new(11044));
    }
    Ok(cancel_at(st, index))
}

/// Cancels the open orders of `account` that `keep` selects.
pub(crate) fn cancel_where(
    st: &mut State,
    account: &str,
    keep: impl Fn(&OrderRecord) -> bool,
) -> Vec<OrderUpdate> {
    let open = |o: &OrderRecord| o.state == "open" && o.account == account && keep(o);
    let indices: Vec<usize> = (0..st.stats.orders.len())
        .filter(|&i| open(&st.stats.orders[i]))
        .collect();
    indices.into_iter().map(|i| cancel_at(st, i)).collect()
}

/// `private/get_open_orders`.
pub(crate) fn open_orders(st: &State, account: &str) -> Value {
    let open = st
        .stats
        .orders
        .iter()
        .filter(|o| o.state == "open" && o.account == account);
    open.map(order_json).collect::<Vec<_>>().into()
}

/// Cancel-on-disconnect: cancels and records.
pub(crate) fn cancel_on_disconnect(
    st: &mut State,
    conn: ConnId,
    account: &str,
    scope: &str,
    reason: EndReason,
) -> Vec<OrderUpdate> {
    // Whatever the scope: "Cancel-on-Disconnect does not affect orders
    // created by other connections" (`private/enable_cancel_on_disconnect`).
    let updates = cancel_where(st, account, |o| o.conn == conn);
    st.stats.cancel_on_disconnect.push(CodFiring {
        conn,
        account: account.to_owned(),
        scope: scope.to_owned(),
        cancelled: updates
            .iter()
            .map(|u| u.order["order_id"].as_str().unwrap_or("").to_owned())
            .collect(),
        reason,
    });
    updates
}
