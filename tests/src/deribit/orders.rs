//! Orders: their JSON, cancelling them (by id, by a filter, by connection
//! for cancel-on-disconnect, by account); placing and matching them is the
//! [`engine`](super::engine)'s.

use serde_json::{Value, json};

use super::engine;
use super::market::{Spec, spec};
use super::rpc::{RpcError, now_ms};
use super::state::State;
use super::stats::{CodFiring, ConnId, EndReason, OrderRecord};

/// A position: signed size (USD; buy positive) and average entry price.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Position {
    pub(super) size: f64,
    pub(super) average_price: f64,
}

/// An order that changed, for the response and the `user.*` subscribers.
/// A `result` with `trades` (`{order, trades}`) reports fills too.
pub(crate) struct OrderUpdate {
    pub result: Value,
    pub account: String,
    pub instrument: &'static Spec,
    pub order: Value,
}

/// The `order` object of responses and notifications (the `order` schema
/// of Deribit's API v2 description).
pub(crate) fn order_json(o: &OrderRecord) -> Value {
    let contract_size = spec(&o.instrument).map_or(1.0, |s| s.contract_size);
    let mut order = json!({
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
        "time_in_force": o.time_in_force,
        "post_only": o.post_only,
        "reduce_only": o.reduce_only,
        "api": true,
        "web": false,
        "mobile": false,
        "mmp": false,
        "replaced": false,
        "is_liquidation": false,
        "risk_reducing": false,
        "max_show": o.amount,
        "creation_timestamp": o.created_ms,
        "last_update_timestamp": o.updated_ms,
    });
    let fields = order.as_object_mut().expect("an object");
    if o.post_only {
        // "present only when post_only is true"
        fields.insert("reject_post_only".into(), o.reject_post_only.into());
    }
    if let Some(trigger) = &o.trigger {
        fields.insert("trigger".into(), trigger.as_str().into());
        fields.insert("trigger_price".into(), o.trigger_price.into());
        let triggered = o.trigger_order_id.is_some() || o.state == "triggered";
        fields.insert("triggered".into(), triggered.into());
    }
    if let Some(offset) = o.trigger_offset {
        fields.insert("trigger_offset".into(), offset.into());
        let reference = o.trigger_reference_price;
        fields.insert("trigger_reference_price".into(), reference.into());
    }
    if let Some(parent) = &o.trigger_order_id {
        fields.insert("trigger_order_id".into(), parent.as_str().into());
    }
    if let Some(reason) = &o.cancel_reason {
        fields.insert("cancel_reason".into(), reason.as_str().into());
    }
    order
}

/// `private/buy` (`direction` "buy") and `private/sell`: see
/// [`engine`](super::engine).
pub(crate) fn place(
    st: &mut State,
    conn: ConnId,
    account: &str,
    direction: &str,
    params: &Value,
) -> Result<OrderUpdate, RpcError> {
    engine::place(st, conn, account, direction, params)
}

/// Whether an order can still be cancelled (it rests or waits for its
/// trigger).
pub(crate) fn is_live(o: &OrderRecord) -> bool {
    o.state == "open" || o.state == "untriggered"
}

/// Cancels the live order at `index` of the order list, for `reason`
/// (`cancel_reason`: `user_request`, `cancel_on_disconnect`, …).
fn cancel_at(st: &mut State, index: usize, reason: &str) -> OrderUpdate {
    let o = &mut st.stats.orders[index];
    o.state = "cancelled".to_owned();
    o.cancel_reason = Some(reason.to_owned());
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
    if !is_live(&st.stats.orders[index]) {
        return Err(RpcError::new(11044));
    }
    Ok(cancel_at(st, index, "user_request"))
}

/// Cancels the live orders of `account` that `keep` selects (at the user's
/// request).
pub(crate) fn cancel_where(
    st: &mut State,
    account: &str,
    keep: impl Fn(&OrderRecord) -> bool,
) -> Vec<OrderUpdate> {
    cancel_matching(st, "user_request", |o| o.account == account && keep(o))
}

fn cancel_matching(
    st: &mut State,
    reason: &str,
    select: impl Fn(&OrderRecord) -> bool,
) -> Vec<OrderUpdate> {
    let live = |o: &OrderRecord| is_live(o) && select(o);
    let indices: Vec<usize> = (0..st.stats.orders.len())
        .filter(|&i| live(&st.stats.orders[i]))
        .collect();
    let cancel = |i| cancel_at(st, i, reason);
    indices.into_iter().map(cancel).collect()
}

/// Cancels every live order (resting or untriggered) placed through
/// connection `conn`, with `cancel_reason` `cancel_on_disconnect`. Deribit
/// (`private/enable_cancel_on_disconnect`): "Cancel-on-Disconnect does not
/// affect orders created by other connections"; the `account` scope only
/// makes every new connection start with it enabled.
pub(crate) fn cancel_orders_of_connection(st: &mut State, conn: ConnId) -> Vec<OrderUpdate> {
    cancel_matching(st, "cancel_on_disconnect", |o| o.conn == conn)
}

/// Cancels every live order of `account`, from any connection, for
/// `reason`.
pub(crate) fn cancel_orders_of_account(
    st: &mut State,
    account: &str,
    reason: &str,
) -> Vec<OrderUpdate> {
    cancel_matching(st, reason, |o| o.account == account)
}

/// `private/get_open_orders`: resting and untriggered orders.
pub(crate) fn open_orders(st: &State, account: &str) -> Value {
    let open = st
        .stats
        .orders
        .iter()
        .filter(|o| is_live(o) && o.account == account);
    open.map(order_json).collect::<Vec<_>>().into()
}

/// Cancel-on-disconnect of connection `conn` (enabled with `scope`): cancels
/// the orders placed through it and records the firing.
pub(crate) fn cancel_on_disconnect(
    st: &mut State,
    conn: ConnId,
    account: &str,
    scope: &str,
    reason: EndReason,
) -> Vec<OrderUpdate> {
    let updates = cancel_orders_of_connection(st, conn);
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
