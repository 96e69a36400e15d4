//! Trigger orders (Deribit API v2, `private/buy`: `trigger`,
//! `trigger_price`, `trigger_offset`): they wait `untriggered` until their
//! trigger price — the `index_price`, `mark_price` or `last_price` of the
//! instrument — reaches the trigger, then turn `triggered` and create the
//! order they carry (a market order, or a limit order for `stop_limit` and
//! `take_limit`, whose `trigger_order_id` names them).
//!
//! * a stop buys when the price rises to the trigger, sells when it falls to
//!   it; a take buys when the price falls to it, sells when it rises to it;
//! * a trailing stop keeps its trigger `trigger_offset` behind the best price
//!   seen since it was placed (`trigger_reference_price`), so a sell's
//!   trigger follows the price up and fires when the price falls back by the
//!   offset.
//!
//! Triggers are checked after every step of the simulated market and at
//! once when a test pins an index or lays out a book
//! (`MockDeribit::set_index_price`, `MockDeribit::set_book`).
//!
//! A trigger already reached when placed is refused with 11036
//! `invalid_trigger_price` ("invalid trigger price in relation to the last
//! trade, index or market price").

use super::engine::{execute, new_record, update};
use super::market::{Spec, spec};
use super::order_params::{OrderRequest, reject};
use super::orders::OrderUpdate;
use super::rpc::{RpcError, now_ms, round2};
use super::state::State;
use super::stats::{ConnId, OrderRecord};

/// The current price `trigger` names for `spec`.
fn trigger_value(st: &State, spec: &Spec, trigger: &str) -> Option<f64> {
    let book = st.market.book(spec.name)?;
    match trigger {
        "index_price" => st.market.index(spec.index),
        "mark_price" => Some(book.mark_price()),
        "last_price" => Some(book.last_price),
        _ => None,
    }
}

/// An id in the style of Deribit's trigger orders: type, trigger and
/// direction initials, e.g. `SMIB-1002` (stop market, index, buy).
fn trigger_id(request: &OrderRequest, n: u64) -> String {
    let kind = match request.order_type.as_str() {
        "stop_limit" => "SL",
        "stop_market" => "SM",
        "take_limit" => "TL",
        "take_market" => "TM",
        _ => "TS",
    };
    let on = match request.trigger.as_deref() {
        Some("mark_price") => "M",
        Some("last_price") => "L",
        _ => "I",
    };
    let side = if request.buy { "B" } else { "S" };
    format!("{kind}{on}{side}-{n}")
}

/// Places a trigger order: checked against the current trigger price, it
/// waits `untriggered`.
pub(crate) fn place(
    st: &mut State,
    conn: ConnId,
    account: &str,
    mut request: OrderRequest,
) -> Result<OrderUpdate, RpcError> {
    let trigger = request.trigger.clone().unwrap_or_default();
    let now_price = trigger_value(st, request.spec, &trigger)
        .ok_or_else(|| RpcError::invalid_params("trigger", "unknown trigger"))?;
    let mut reference = None;
    if let Some(offset) = request.trigger_offset {
        let start = if request.buy {
            now_price + offset
        } else {
            now_price - offset
        };
        request.trigger_price = Some(round2(start));
        reference = Some(now_price);
    } else if let Some(price) = request.trigger_price {
        let stop = request.order_type.starts_with("stop");
        // A stop buy waits for a rise, a take buy for a fall (and mirrored).
        let waits_for_rise = stop == request.buy;
        let valid = if waits_for_rise {
            price > now_price
        } else {
            price < now_price
        };
        if !valid {
            return Err(reject(
                11036,
                "invalid_trigger_price",
                "the trigger price is already reached",
            ));
        }
    }
    st.next_id += 1;
    let id = trigger_id(&request, st.next_id);
    let mut record = new_record(id, conn, account, &request, now_ms());
    record.state = "untriggered".to_owned();
    record.trigger_reference_price = reference;
    st.stats.orders.push(record);
    Ok(update(st, st.stats.orders.len() - 1, Vec::new()))
}

/// Whether `o` fires at `value`.
fn fires(o: &OrderRecord, value: f64) -> bool {
    let Some(trigger) = o.trigger_price else {
        return false;
    };
    let buy = o.direction == "buy";
    let waits_for_rise = o.order_type.starts_with("take") != buy;
    if waits_for_rise {
        value >= trigger
    } else {
        value <= trigger
    }
}

/// A trailing stop's trigger follows a better price; whether it moved.
fn trail(o: &mut OrderRecord, value: f64) -> bool {
    let (Some(offset), Some(trigger)) = (o.trigger_offset, o.trigger_price) else {
        return false;
    };
    let follow = if o.direction == "buy" {
        round2(value + offset)
    } else {
        round2(value - offset)
    };
    let better = if o.direction == "buy" {
        follow < trigger
    } else {
        follow > trigger
    };
    if better {
        o.trigger_price = Some(follow);
        o.updated_ms = now_ms();
    }
    better
}

/// Checks every untriggered order against its trigger price: trailing
/// triggers follow, hit triggers fire (their order is created and matched).
pub(crate) fn check(st: &mut State) -> Vec<OrderUpdate> {
    let mut updates = Vec::new();
    for index in 0..st.stats.orders.len() {
        if st.stats.orders[index].state != "untriggered" {
            continue;
        }
        let o = &st.stats.orders[index];
        let spec = spec(&o.instrument).expect("listed");
        let trigger = o.trigger.clone().unwrap_or_default();
        let Some(value) = trigger_value(st, spec, &trigger) else {
            continue;
        };
        let o = &mut st.stats.orders[index];
        let moved = o.order_type == "trailing_stop" && trail(o, value);
        if !fires(o, value) {
            if moved {
                updates.push(update(st, index, Vec::new()));
            }
            continue;
        }
        o.state = "triggered".to_owned();
        o.updated_ms = now_ms();
        let child = triggered_order(st, index);
        updates.push(update(st, index, Vec::new()));
        st.stats.orders.push(child);
        let child = st.stats.orders.len() - 1;
        let trades = if st.stats.orders[child].post_only {
            Vec::new()
        } else {
            let (trades, makers) = execute(st, child);
            updates.extend(makers);
            trades
        };
        updates.push(update(st, child, trades));
    }
    updates
}

/// The order a fired trigger order creates.
fn triggered_order(st: &mut State, index: usize) -> OrderRecord {
    st.next_id += 1;
    let parent = &st.stats.orders[index];
    let currency = spec(&parent.instrument).map_or("BTC", |s| s.currency);
    let limit = parent.order_type.ends_with("_limit");
    let now = now_ms();
    OrderRecord {
        order_id: format!("{currency}-{}", st.next_id),
        order_type: if limit { "limit" } else { "market" }.to_owned(),
        price: if limit { parent.price } else { None },
        state: "open".to_owned(),
        trigger_order_id: Some(parent.order_id.clone()),
        created_ms: now,
        updated_ms: now,
        ..parent.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(order_type: &str, direction: &str, trigger_price: f64) -> OrderRecord {
        let request = OrderRequest {
            spec: spec("BTC-PERPETUAL").unwrap(),
            buy: direction == "buy",
            amount: 10.0,
            order_type: order_type.to_owned(),
            price: None,
            label: String::new(),
            time_in_force: "good_til_cancelled".to_owned(),
            post_only: false,
            reject_post_only: false,
            reduce_only: false,
            trigger: Some("index_price".to_owned()),
            trigger_price: Some(trigger_price),
            trigger_offset: None,
        };
        new_record("x".into(), 1, "a", &request, 0)
    }

    #[test]
    fn stops_and_takes_fire_on_the_documented_side() {
        assert!(fires(&order("stop_market", "buy", 100.0), 100.0));
        assert!(!fires(&order("stop_market", "buy", 100.0), 99.0));
        assert!(fires(&order("stop_market", "sell", 100.0), 99.5));
        assert!(!fires(&order("stop_market", "sell", 100.0), 100.5));
        assert!(fires(&order("take_limit", "buy", 100.0), 99.0));
        assert!(!fires(&order("take_limit", "buy", 100.0), 101.0));
        assert!(fires(&order("take_market", "sell", 100.0), 101.0));
    }

    #[test]
    fn a_trailing_sell_follows_up_and_never_down() {
        let mut o = order("trailing_stop", "sell", 90.0);
        o.trigger_offset = Some(10.0);
        assert!(trail(&mut o, 105.0));
        assert_eq!(o.trigger_price, Some(95.0));
        assert!(!trail(&mut o, 100.0), "a fall does not lower the trigger");
        assert_eq!(o.trigger_price, Some(95.0));
        assert!(fires(&o, 95.0));
    }
}
