//! JSON-RPC 2.0 envelopes, error values and wall-clock timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The API version `public/test` and `public/hello` report.
pub(crate) const VERSION: &str = "1.2.26";

/// Microseconds since the Unix epoch.
pub(crate) fn now_us() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    now_us() / 1000
}

/// Deribit's message for an error code.
pub(crate) fn message_for(code: i64) -> &'static str {
    match code {
        10004 => "order_not_found",
        10028 => "too_many_requests",
        10040 => "retry",
        10047 => "matching_engine_queue_full",
        10066 => "too_many_concurrent_requests",
        11044 => "not_open_order",
        11050 => "bad_request",
        11051 => "system_maintenance",
        11094 => "internal_server_error",
        13004 => "invalid_credentials",
        13009 => "unauthorized",
        13028 => "temporarily_unavailable",
        13778 => "raw_subscriptions_not_available_for_unauthorized",
        -32600 => "Invalid Request",
        -32601 => "Method not found",
        -32602 => "Invalid params",
        -32700 => "Parse error",
        _ => "error",
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    /// The error `code` with Deribit's message for it.
    pub(crate) fn new(code: i64) -> Self {
        RpcError {
            code,
            message: message_for(code).to_owned(),
            data: None,
        }
    }

    /// -32602 with `{param, reason}`.
    pub(crate) fn invalid_params(param: &str, reason: &str) -> Self {
        RpcError::new(-32602).with_data(json!({"param": param, "reason": reason}))
    }

    /// 13009 `unauthorized`: a private method without authentication.
    pub(crate) fn unauthorized() -> Self {
        RpcError::new(13009)
    }

    /// 13009 for an expired token. Deribit's error list gives 13009 one
    /// message, `unauthorized`: "wrong or expired authorization token or
    /// bad signature"; nothing in it says which.
    pub(crate) fn token_expired() -> Self {
        RpcError::unauthorized()
    }

    /// 13009 for a token the server does not know: `unauthorized` too.
    pub(crate) fn invalid_token() -> Self {
        RpcError::unauthorized()
    }

    /// Adds `data`.
    pub(crate) fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    fn to_json(&self) -> Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            e["data"] = data.clone();
        }
        e
    }
}

fn timestamp(us: u64, as_string: bool) -> Value {
    if as_string {
        Value::String(us.to_string())
    } else {
        Value::from(us)
    }
}

/// A response (`result` or `error`) with `usIn`/`usOut`/`usDiff`.
pub(crate) fn response(
    id: Option<&Value>,
    outcome: Result<Value, RpcError>,
    us_in: u64,
    strings: bool,
) -> String {
    let us_out = now_us().max(us_in);
    let mut obj = Map::new();
    obj.insert("jsonrpc".into(), "2.0".into());
    if let Some(id) = id {
        obj.insert("id".into(), id.clone());
    }
    match outcome {
        Ok(result) => obj.insert("result".into(), result),
        Err(e) => obj.insert("error".into(), e.to_json()),
    };
    obj.insert("usIn".into(), timestamp(us_in, strings));
    obj.insert("usOut".into(), timestamp(us_out, strings));
    obj.insert("usDiff".into(), timestamp(us_out - us_in, strings));
    obj.insert("testnet".into(), true.into());
    Value::Object(obj).to_string()
}

/// A subscription notification.
pub(crate) fn notification(channel: &str, data: Value) -> String {
    json!({
        "jsonrpc": "2.0",
        "method": "subscription",
        "params": {"channel": channel, "data": data},
    })
    .to_string()
}

/// A heartbeat message of `kind` `heartbeat` or `test_request`.
pub(crate) fn heartbeat(kind: &str) -> String {
    json!({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": kind}}).to_string()
}

/// Rounds a price to 2 decimals (every tick size is a multiple of 0.01).
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
