//! Typed WebSocket API calls (spot `ws-api/v3`; the futures `ws-fapi/v1`
//! takes the same shapes for these methods): each builds the
//! [`OutgoingRequest`] to pass to `Client::request_raw` (or
//! `Session::request`), and names the type its result reads into.
//!
//! ```
//! use wsnova_adapters::binance::api::{self, OrderPlace, Side};
//! use wsnova_adapters::binance::Signer;
//!
//! assert_eq!(api::time().method, "time");
//! let depth = api::depth("BTCUSDT", Some(100));
//! assert_eq!(depth.params, r#"{"limit":100,"symbol":"BTCUSDT"}"#);
//! let signer = Signer::hmac("key", "secret");
//! let order = OrderPlace::limit("BTCUSDT", Side::Buy, "0.01", "52000.00").signed(&signer, 1_700_000_000_000);
//! assert_eq!(order.method, "order.place");
//! assert!(order.params.contains(r#""signature":"#));
//! ```

use serde::Deserialize;
use serde_json::{Map, Value, json};
use wsnova_core::session::OutgoingRequest;

use super::sign::Signer;
pub use super::sign::payload;

/// `time`: the server's clock ([`ServerTime`]).
pub fn time() -> OutgoingRequest {
    OutgoingRequest::new("time", "")
}

/// `ping`: an empty answer.
pub fn ping() -> OutgoingRequest {
    OutgoingRequest::new("ping", "")
}

/// `exchangeInfo` for `symbols` (all of them when empty).
pub fn exchange_info(symbols: &[&str]) -> OutgoingRequest {
    if symbols.is_empty() {
        return OutgoingRequest::new("exchangeInfo", "");
    }
    OutgoingRequest::new("exchangeInfo", json!({ "symbols": symbols }).to_string())
}

/// `depth`: an order book snapshot ([`Snapshot`](super::Snapshot)), `limit`
/// levels a side (Binance's default 100, at most 5000).
pub fn depth(symbol: &str, limit: Option<u32>) -> OutgoingRequest {
    let mut params = Map::new();
    params.insert("symbol".into(), symbol.into());
    if let Some(limit) = limit {
        params.insert("limit".into(), limit.into());
    }
    OutgoingRequest::new("depth", Value::Object(params).to_string())
}

/// The `time` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ServerTime {
    /// Milliseconds since the Unix epoch.
    #[serde(rename = "serverTime")]
    pub server_time: u64,
}

/// An order's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `BUY`.
    Buy,
    /// `SELL`.
    Sell,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

/// `order.place` (TRADE, signed). Prices and quantities are decimal strings,
/// as Binance takes them.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderPlace {
    params: Map<String, Value>,
}

impl OrderPlace {
    /// A `LIMIT` order, `GTC`.
    pub fn limit(symbol: &str, side: Side, quantity: &str, price: &str) -> Self {
        let mut params = Map::new();
        params.insert("symbol".into(), symbol.into());
        params.insert("side".into(), side.as_str().into());
        params.insert("type".into(), "LIMIT".into());
        params.insert("timeInForce".into(), "GTC".into());
        params.insert("quantity".into(), quantity.into());
        params.insert("price".into(), price.into());
        OrderPlace { params }
    }

    /// A `MARKET` order for `quantity` of the base asset.
    pub fn market(symbol: &str, side: Side, quantity: &str) -> Self {
        let mut params = Map::new();
        params.insert("symbol".into(), symbol.into());
        params.insert("side".into(), side.as_str().into());
        params.insert("type".into(), "MARKET".into());
        params.insert("quantity".into(), quantity.into());
        OrderPlace { params }
    }

    /// Sets any other parameter (`newClientOrderId`, `recvWindow`,
    /// `newOrderRespType`, `timeInForce`, …).
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    /// The request, with `apiKey`, `timestamp` and `signature`.
    pub fn signed(self, signer: &Signer, timestamp_ms: u64) -> OutgoingRequest {
        signed("order.place", self.params, signer, timestamp_ms)
    }
}

/// `order.cancel` (TRADE, signed), by `orderId` or `origClientOrderId`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderCancel {
    params: Map<String, Value>,
}

impl OrderCancel {
    /// Cancels the order with Binance's `orderId`.
    pub fn by_id(symbol: &str, order_id: u64) -> Self {
        let mut params = Map::new();
        params.insert("symbol".into(), symbol.into());
        params.insert("orderId".into(), order_id.into());
        OrderCancel { params }
    }

    /// Cancels the order with this client order id.
    pub fn by_client_id(symbol: &str, client_order_id: &str) -> Self {
        let mut params = Map::new();
        params.insert("symbol".into(), symbol.into());
        params.insert("origClientOrderId".into(), client_order_id.into());
        OrderCancel { params }
    }

    /// The request, with `apiKey`, `timestamp` and `signature`.
    pub fn signed(self, signer: &Signer, timestamp_ms: u64) -> OutgoingRequest {
        signed("order.cancel", self.params, signer, timestamp_ms)
    }
}

fn signed(
    method: &str,
    mut params: Map<String, Value>,
    signer: &Signer,
    ts: u64,
) -> OutgoingRequest {
    signer.sign_params(&mut params, ts);
    OutgoingRequest::new(method, Value::Object(params).to_string())
}

/// The result of `order.place` (`ACK` and richer responses) and of
/// `order.cancel`: the fields they share.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderAck {
    /// The symbol.
    pub symbol: String,
    /// Binance's order id.
    pub order_id: u64,
    /// The client order id.
    pub client_order_id: String,
    /// The order's status (`NEW`, `CANCELED`, …), absent in `ACK` responses.
    #[serde(default)]
    pub status: Option<String>,
}
