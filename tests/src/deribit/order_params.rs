//! The params of `private/buy` and `private/sell`, read and checked as
//! Deribit documents them (API v2, `private/buy`): `type`, `price`,
//! `time_in_force`, `post_only` (only with `good_til_cancelled`),
//! `reject_post_only` (only with `post_only`), `reduce_only`, and for trigger
//! orders `trigger` (required), `trigger_price` (stop and take orders) or
//! `trigger_offset` (trailing stops).

use serde_json::{Value, json};

use super::market::{Spec, spec};
use super::rpc::RpcError;

/// What an order asks for, checked.
#[derive(Debug, Clone)]
pub(crate) struct OrderRequest {
    pub spec: &'static Spec,
    pub buy: bool,
    pub amount: f64,
    pub order_type: String,
    pub price: Option<f64>,
    pub label: String,
    pub time_in_force: String,
    pub post_only: bool,
    pub reject_post_only: bool,
    pub reduce_only: bool,
    pub trigger: Option<String>,
    pub trigger_price: Option<f64>,
    pub trigger_offset: Option<f64>,
}

impl OrderRequest {
    /// Whether it is a trigger order (it waits `untriggered` first).
    pub(crate) fn is_trigger(&self) -> bool {
        is_trigger_type(&self.order_type)
    }
}

/// Stop, take and trailing orders wait for their trigger.
pub(crate) fn is_trigger_type(order_type: &str) -> bool {
    matches!(
        order_type,
        "stop_limit" | "stop_market" | "take_limit" | "take_market" | "trailing_stop"
    )
}

const TYPES: [&str; 8] = [
    "limit",
    "market",
    "stop_limit",
    "stop_market",
    "take_limit",
    "take_market",
    "market_limit",
    "trailing_stop",
];

const TIFS: [&str; 4] = [
    "good_til_cancelled",
    "good_til_day",
    "fill_or_kill",
    "immediate_or_cancel",
];

/// An error with Deribit's code and message, and the reason as `data`.
pub(crate) fn reject(code: i64, message: &str, reason: &str) -> RpcError {
    RpcError {
        code,
        message: message.to_owned(),
        data: Some(json!({ "reason": reason })),
    }
}

fn number(params: &Value, name: &str) -> Option<f64> {
    params.get(name).and_then(Value::as_f64)
}

fn flag(params: &Value, name: &str) -> bool {
    params.get(name).and_then(Value::as_bool).unwrap_or(false)
}

fn text<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

/// Reads and checks the params of a `buy` (`buy` true) or `sell`.
pub(crate) fn parse(params: &Value, buy: bool) -> Result<OrderRequest, RpcError> {
    let name = text(params, "instrument_name")
        .ok_or_else(|| RpcError::invalid_params("instrument_name", "required"))?;
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
    let order_type = text(params, "type").unwrap_or("limit");
    if !TYPES.contains(&order_type) {
        return Err(RpcError::invalid_params("type", "unsupported order type"));
    }
    // "The order price (only for limit and stop_limit orders)"; take_limit
    // is the limit twin of take_market.
    let needs_price = matches!(order_type, "limit" | "stop_limit" | "take_limit");
    let price = match number(params, "price") {
        Some(p) if p > 0.0 && needs_price => Some(p),
        Some(_) if needs_price => return Err(RpcError::invalid_params("price", "must be > 0")),
        None if needs_price => {
            return Err(RpcError::invalid_params(
                "price",
                "required for this order type",
            ));
        }
        _ => None,
    };
    let label = text(params, "label").unwrap_or("");
    if label.len() > 64 {
        return Err(RpcError::invalid_params("label", "at most 64 characters"));
    }
    let time_in_force = text(params, "time_in_force").unwrap_or("good_til_cancelled");
    if !TIFS.contains(&time_in_force) {
        return Err(RpcError::invalid_params("time_in_force", "unknown value"));
    }
    let post_only = flag(params, "post_only");
    let reject_post_only = flag(params, "reject_post_only");
    if post_only && !matches!(order_type, "limit" | "stop_limit" | "take_limit") {
        return Err(reject(
            11055,
            "post_only_not_allowed",
            "post_only is for limit orders",
        ));
    }
    if post_only && time_in_force != "good_til_cancelled" {
        // "Only valid in combination with time_in_force=good_til_cancelled".
        return Err(reject(
            11047,
            "unsupported_arg_combination",
            "post_only needs good_til_cancelled",
        ));
    }
    if reject_post_only && !post_only {
        return Err(reject(
            11047,
            "unsupported_arg_combination",
            "reject_post_only needs post_only",
        ));
    }
    let mut request = OrderRequest {
        spec,
        buy,
        amount,
        order_type: order_type.to_owned(),
        price,
        label: label.to_owned(),
        time_in_force: time_in_force.to_owned(),
        post_only,
        reject_post_only,
        reduce_only: flag(params, "reduce_only"),
        trigger: None,
        trigger_price: None,
        trigger_offset: None,
    };
    if request.is_trigger() {
        trigger_params(&mut request, params)?;
    }
    Ok(request)
}

fn trigger_params(request: &mut OrderRequest, params: &Value) -> Result<(), RpcError> {
    let trigger = text(params, "trigger")
        .ok_or_else(|| RpcError::invalid_params("trigger", "required for trigger orders"))?;
    if !["index_price", "mark_price", "last_price"].contains(&trigger) {
        return Err(RpcError::invalid_params(
            "trigger",
            "index_price, mark_price or last_price",
        ));
    }
    request.trigger = Some(trigger.to_owned());
    if request.order_type == "trailing_stop" {
        let offset = number(params, "trigger_offset").filter(|o| *o > 0.0);
        let offset = offset.ok_or_else(|| {
            RpcError::invalid_params("trigger_offset", "required positive number")
        })?;
        request.trigger_offset = Some(offset);
    } else {
        let price = number(params, "trigger_price").filter(|p| *p > 0.0);
        let price = price
            .ok_or_else(|| RpcError::invalid_params("trigger_price", "required positive number"))?;
        request.trigger_price = Some(price);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_follow_the_documented_rules() {
        let base = json!({"instrument_name": "BTC-PERPETUAL", "amount": 10});
        let with = |extra: Value| {
            let mut p = base.clone();
            p.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            parse(&p, true)
        };
        assert_eq!(
            with(json!({})).unwrap_err().code,
            -32602,
            "limit needs a price"
        );
        assert!(with(json!({"type": "market"})).is_ok());
        let ioc_post =
            json!({"price": 1.0, "post_only": true, "time_in_force": "immediate_or_cancel"});
        assert_eq!(with(ioc_post).unwrap_err().code, 11047);
        let market_post = json!({"type": "market", "post_only": true});
        assert_eq!(with(market_post).unwrap_err().code, 11055);
        let stop = json!({"type": "stop_market", "trigger_price": 61000.0});
        assert_eq!(with(stop).unwrap_err().code, -32602, "trigger is required");
        let stop =
            json!({"type": "stop_market", "trigger_price": 61000.0, "trigger": "index_price"});
        assert!(with(stop).unwrap().is_trigger());
        let trailing = json!({"type": "trailing_stop", "trigger": "index_price"});
        assert_eq!(
            with(trailing).unwrap_err().code,
            -32602,
            "an offset is required"
        );
    }
}
