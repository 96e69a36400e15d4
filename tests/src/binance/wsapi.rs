//! The WebSocket API (`/ws-api/v3`): `ping`, `time`, `exchangeInfo`,
//! `depth`, and signed `order.place` / `order.cancel`. Requests are
//! `{"id","method","params"}`; answers `{"id","status":200,"result",
//! "rateLimits"}` or `{"id","status":4xx,"error":{"code","msg"}}` with
//! Binance's error codes (spot `errors.md`). Signatures are verified as
//! Binance's "SIGNED request security" describes: HMAC-SHA256 (hex) or
//! Ed25519 (base64) over the sorted `name=value&…` payload.

use data_encoding::{BASE64, HEXLOWER_PERMISSIVE};
use ring::{hmac, signature};
use serde_json::{Map, Value, json};

use super::market::now_ms;
use super::state::{OrderRecord, Shared};

type Outcome = Result<Value, (u16, i64, String)>;

fn bad(code: i64, msg: &str) -> (u16, i64, String) {
    (400, code, msg.to_owned())
}

/// Answers one request.
pub(crate) fn handle(shared: &Shared, text: &str) -> String {
    let Ok(msg) = serde_json::from_str::<Value>(text) else {
        return answer(&Value::Null, Err(bad(-1000, "Invalid JSON.")));
    };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let empty = Map::new();
    let params = msg
        .get("params")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    shared.with(|st| *st.stats.api_requests.entry(method.to_owned()).or_default() += 1);
    let outcome = match method {
        "ping" => Ok(json!({})),
        "time" => Ok(json!({"serverTime": now_ms()})),
        "exchangeInfo" => Ok(exchange_info(shared)),
        "depth" => depth(shared, params),
        "order.place" => verify(shared, params).and_then(|kind| place(shared, params, kind)),
        "order.cancel" => verify(shared, params).and_then(|_| cancel(shared, params)),
        _ => Err(bad(-1000, &format!("Unknown method '{method}'."))),
    };
    answer(&id, outcome)
}

fn answer(id: &Value, outcome: Outcome) -> String {
    let limits = json!([{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": 1}]);
    match outcome {
        Ok(result) => json!({"id": id, "status": 200, "result": result, "rateLimits": limits}),
        Err((status, code, msg)) => {
            json!({"id": id, "status": status, "error": {"code": code, "msg": msg}, "rateLimits": limits})
        }
    }
    .to_string()
}

fn exchange_info(shared: &Shared) -> Value {
    let symbols: Vec<Value> = shared
        .config
        .symbols
        .iter()
        .map(|s| {
            let base = s.trim_end_matches("USDT");
            json!({"symbol": s, "status": "TRADING", "baseAsset": base, "quoteAsset": "USDT",
                   "orderTypes": ["LIMIT", "MARKET"], "filters": []})
        })
        .collect();
    json!({"timezone": "UTC", "serverTime": now_ms(), "rateLimits": [], "exchangeFilters": [], "symbols": symbols})
}

fn text<'a>(params: &'a Map<String, Value>, name: &str) -> Result<&'a str, (u16, i64, String)> {
    params.get(name).and_then(Value::as_str).ok_or_else(|| {
        bad(
            -1102,
            &format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    })
}

fn depth(shared: &Shared, params: &Map<String, Value>) -> Outcome {
    let symbol = text(params, "symbol")?;
    let limit = params
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(100)
        .min(5000) as usize;
    shared.with(|st| {
        let s = st
            .market
            .symbol(symbol)
            .ok_or_else(|| bad(-1121, "Invalid symbol."))?;
        let view = s.view(limit);
        Ok(json!({"lastUpdateId": view.last_update_id, "bids": view.bids, "asks": view.asks}))
    })
}

/// The signature payload: every param but `signature`, sorted by name.
fn payload(params: &Map<String, Value>) -> String {
    let mut pairs: Vec<(&String, &Value)> =
        params.iter().filter(|(k, _)| *k != "signature").collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let parts: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect();
    parts.join("&")
}

/// Checks key, timestamp and signature; which kind of key signed.
fn verify(
    shared: &Shared,
    params: &Map<String, Value>,
) -> Result<&'static str, (u16, i64, String)> {
    let key = text(params, "apiKey")?;
    let sig = text(params, "signature")?;
    let ts = params
        .get("timestamp")
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            bad(
                -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
            )
        })?;
    let window = params
        .get("recvWindow")
        .and_then(Value::as_u64)
        .unwrap_or(5000);
    let now = now_ms();
    if ts >= now + 1000 || now.saturating_sub(ts) > window {
        return Err(bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    let payload = payload(params);
    let config = &shared.config;
    let ok = if key == config.hmac_key.0 {
        let mac = hmac::Key::new(hmac::HMAC_SHA256, config.hmac_key.1.as_bytes());
        // HMAC signatures are not case-sensitive.
        HEXLOWER_PERMISSIVE
            .decode(sig.as_bytes())
            .is_ok_and(|s| hmac::verify(&mac, payload.as_bytes(), &s).is_ok())
            .then_some("HMAC")
    } else if let Some((_, public)) = config.ed25519_key.as_ref().filter(|(k, _)| k == key) {
        let public = signature::UnparsedPublicKey::new(&signature::ED25519, public);
        BASE64
            .decode(sig.as_bytes())
            .is_ok_and(|s| public.verify(payload.as_bytes(), &s).is_ok())
            .then_some("Ed25519")
    } else {
        return Err((401, -2014, "API-key format invalid.".into()));
    };
    ok.ok_or_else(|| {
        shared.with(|st| st.stats.bad_signatures += 1);
        (
            400,
            -1022,
            "Signature for this request is not valid.".into(),
        )
    })
}

fn place(shared: &Shared, params: &Map<String, Value>, signed_with: &'static str) -> Outcome {
    let symbol = text(params, "symbol")?;
    let side = text(params, "side")?;
    let kind = text(params, "type")?;
    let quantity = text(params, "quantity")?;
    if !matches!(side, "BUY" | "SELL") {
        return Err(bad(-1100, "Illegal characters found in parameter 'side'."));
    }
    let price = if kind == "LIMIT" {
        text(params, "timeInForce")?;
        text(params, "price")?
    } else {
        "0.00000000"
    };
    shared.with(|st| {
        let symbol = st.market.symbol(symbol).ok_or_else(|| bad(-1121, "Invalid symbol."))?.name.clone();
        let order_id = st.next_order;
        st.next_order += 1;
        let client_id = params
            .get("newClientOrderId")
            .and_then(Value::as_str)
            .map_or_else(|| format!("mock{order_id}"), str::to_owned);
        st.stats.orders.push(OrderRecord {
            order_id,
            client_order_id: client_id.clone(),
            symbol: symbol.clone(),
            side: side.into(),
            status: "NEW".into(),
            signed_with,
        });
        Ok(json!({"symbol": symbol, "orderId": order_id, "orderListId": -1, "clientOrderId": client_id,
                  "transactTime": now_ms(), "price": price, "origQty": quantity, "executedQty": "0.00000000",
                  "status": "NEW", "timeInForce": params.get("timeInForce"), "type": kind, "side": side}))
    })
}

fn cancel(shared: &Shared, params: &Map<String, Value>) -> Outcome {
    let symbol = text(params, "symbol")?;
    let by_id = params.get("orderId").and_then(Value::as_u64);
    let by_client = params.get("origClientOrderId").and_then(Value::as_str);
    if by_id.is_none() && by_client.is_none() {
        return Err(bad(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    shared.with(|st| {
        let order = st.stats.orders.iter_mut().find(|o| {
            o.symbol.eq_ignore_ascii_case(symbol)
                && o.status == "NEW"
                && (by_id == Some(o.order_id) || by_client == Some(o.client_order_id.as_str()))
        });
        let Some(order) = order else {
            return Err(bad(-2011, "Unknown order sent."));
        };
        order.status = "CANCELED".into();
        Ok(json!({"symbol": order.symbol, "origClientOrderId": order.client_order_id, "orderId": order.order_id,
                  "orderListId": -1, "clientOrderId": format!("cancel{}", order.order_id), "status": "CANCELED"}))
    })
}
