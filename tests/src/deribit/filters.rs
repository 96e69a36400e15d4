//! Shared helpers of the order and trade queries: which orders are live,
//! the order type filters of Deribit's `type` params, paging.

use serde_json::Value;

use super::market::spec;
use super::rpc::RpcError;
use super::stats::OrderRecord;

pub(crate) use super::orders::is_live;

/// A required string param.
pub(crate) fn required<'a>(params: &'a Value, name: &str) -> Result<&'a str, RpcError> {
    let value = params.get(name).and_then(Value::as_str);
    value.ok_or_else(|| RpcError::invalid_params(name, "required"))
}

/// An optional string param.
pub(crate) fn optional<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

/// The currency of an order's instrument.
pub(crate) fn currency_of(o: &OrderRecord) -> &'static str {
    spec(&o.instrument).map_or("", |s| s.currency)
}

/// Every instrument the mock lists is a future: `kind` selects them when
/// absent, `future` or `any`.
pub(crate) fn kind_matches(params: &Value) -> bool {
    matches!(optional(params, "kind"), None | Some("future" | "any"))
}

/// The `type` filter of `get_open_orders*` (`order_type2`) and of the
/// `cancel_all*` calls (`simple_order_type`).
pub(crate) fn type_matches(filter: Option<&str>, order_type: &str) -> bool {
    let stop = order_type.starts_with("stop_");
    let take = order_type.starts_with("take_");
    let trailing = order_type == "trailing_stop";
    match filter.unwrap_or("all") {
        "all" => true,
        "limit" => order_type == "limit" || order_type == "market_limit",
        "trigger_all" => stop || take || trailing,
        "stop_all" | "stop" => stop,
        "take_all" | "take" => take,
        "trailing_all" => trailing,
        exact => exact == order_type,
    }
}

/// An optional count param within `1..=max`, else `default`.
pub(crate) fn count(params: &Value, default: usize, max: usize) -> Result<usize, RpcError> {
    match params.get("count") {
        None => Ok(default),
        Some(c) => c
            .as_u64()
            .filter(|c| (1..=max as u64).contains(c))
            .map(|c| c as usize)
            .ok_or_else(|| RpcError::invalid_params("count", &format!("1 to {max}"))),
    }
}
