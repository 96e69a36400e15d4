//! Trading: order params, orders, trades, positions and the account summary.

use serde::{Deserialize, Serialize};

use super::types::Direction;

/// An order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Limit.
    Limit,
    /// Market.
    Market,
    /// Stop limit.
    StopLimit,
    /// Stop market.
    StopMarket,
    /// Take limit.
    TakeLimit,
    /// Take market.
    TakeMarket,
    /// Market limit.
    MarketLimit,
    /// Trailing stop.
    TrailingStop,
}

/// How long an order stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Until cancelled (the default).
    GoodTilCancelled,
    /// Until the end of the day.
    GoodTilDay,
    /// Filled at once and whole, or cancelled.
    FillOrKill,
    /// What fills at once stays filled, the rest is cancelled.
    ImmediateOrCancel,
}

/// Params of `private/buy` and `private/sell`; unset fields are left out.
///
/// ```
/// use wsnova_adapters::deribit::{OrderParams, TimeInForce};
/// let order = OrderParams::limit("BTC-PERPETUAL", 10.0, 50_000.0)
///     .label("mm-1")
///     .post_only(true)
///     .time_in_force(TimeInForce::GoodTilCancelled);
/// assert_eq!(
///     serde_json::to_string(&order).unwrap(),
///     r#"{"instrument_name":"BTC-PERPETUAL","amount":10.0,"type":"limit","price":50000.0,"label":"mm-1","time_in_force":"good_til_cancelled","post_only":true}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderParams {
    /// The instrument.
    pub instrument_name: String,
    /// Amount in the instrument's units (USD for inverse futures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// Amount in contracts (instead of `amount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contracts: Option<f64>,
    /// The order type (the server's default: `limit`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    /// Limit price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// A label of your own (at most 64 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Time in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<TimeInForce>,
    /// Only add liquidity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_only: Option<bool>,
    /// Reject (instead of re-pricing) a post-only order that would take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_post_only: Option<bool>,
    /// Only reduce a position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduce_only: Option<bool>,
    /// Trigger price (stop and take orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_price: Option<f64>,
    /// `index_price`, `mark_price` or `last_price` (stop and take orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}

impl OrderParams {
    /// A limit order for `amount` at `price`.
    pub fn limit(instrument_name: impl Into<String>, amount: f64, price: f64) -> Self {
        OrderParams {
            order_type: Some(OrderType::Limit),
            price: Some(price),
            ..Self::new(instrument_name, amount)
        }
    }

    /// A market order for `amount`.
    pub fn market(instrument_name: impl Into<String>, amount: f64) -> Self {
        OrderParams {
            order_type: Some(OrderType::Market),
            ..Self::new(instrument_name, amount)
        }
    }

    fn new(instrument_name: impl Into<String>, amount: f64) -> Self {
        OrderParams {
            instrument_name: instrument_name.into(),
            amount: Some(amount),
            contracts: None,
            order_type: None,
            price: None,
            label: None,
            time_in_force: None,
            post_only: None,
            reject_post_only: None,
            reduce_only: None,
            trigger_price: None,
            trigger: None,
        }
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the time in force.
    pub fn time_in_force(mut self, tif: TimeInForce) -> Self {
        self.time_in_force = Some(tif);
        self
    }

    /// Sets post-only.
    pub fn post_only(mut self, post_only: bool) -> Self {
        self.post_only = Some(post_only);
        self
    }

    /// Sets reduce-only.
    pub fn reduce_only(mut self, reduce_only: bool) -> Self {
        self.reduce_only = Some(reduce_only);
        self
    }
}

/// An order's price: a number, or `"market_price"` for market orders.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(from = "RawPrice")]
pub enum OrderPrice {
    /// A price.
    Limit(f64),
    /// At the market (the server sent a string, e.g. `market_price`).
    Market,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawPrice {
    Number(f64),
    Text(#[allow(dead_code)] String),
}

impl From<RawPrice> for OrderPrice {
    fn from(raw: RawPrice) -> Self {
        match raw {
            RawPrice::Number(p) => OrderPrice::Limit(p),
            RawPrice::Text(_) => OrderPrice::Market,
        }
    }
}

/// An order (`private/buy`, `private/sell`, `private/cancel`, `user.orders.*`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order {
    /// The order's id.
    pub order_id: String,
    /// `open`, `filled`, `rejected`, `cancelled`, `untriggered`, …
    pub order_state: String,
    /// `limit`, `market`, …
    pub order_type: String,
    /// Time in force.
    pub time_in_force: String,
    /// The instrument.
    pub instrument_name: String,
    /// Buy or sell.
    pub direction: Direction,
    /// Price.
    pub price: OrderPrice,
    /// Label (empty when none).
    pub label: String,
    /// Post-only.
    pub post_only: bool,
    /// Placed through the API.
    pub api: bool,
    /// Milliseconds since the Unix epoch.
    pub creation_timestamp: u64,
    /// Milliseconds since the Unix epoch.
    pub last_update_timestamp: u64,
    /// Amount.
    #[serde(default)]
    pub amount: Option<f64>,
    /// Filled amount.
    #[serde(default)]
    pub filled_amount: Option<f64>,
    /// Average fill price.
    #[serde(default)]
    pub average_price: Option<f64>,
    /// Reduce-only.
    #[serde(default)]
    pub reduce_only: Option<bool>,
    /// Why it was cancelled.
    #[serde(default)]
    pub cancel_reason: Option<String>,
}

/// A trade of one of your orders.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Trade {
    /// The trade's id.
    pub trade_id: String,
    /// The instrument.
    pub instrument_name: String,
    /// Buy or sell.
    pub direction: Direction,
    /// Price.
    pub price: f64,
    /// Amount.
    pub amount: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The order it filled.
    #[serde(default)]
    pub order_id: Option<String>,
    /// Fee.
    #[serde(default)]
    pub fee: Option<f64>,
    /// Fee currency.
    #[serde(default)]
    pub fee_currency: Option<String>,
    /// `M` (maker) or `T` (taker).
    #[serde(default)]
    pub liquidity: Option<String>,
}

/// `private/buy`, `private/sell`: the order and its trades so far.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderResult {
    /// The order.
    pub order: Order,
    /// Its trades.
    pub trades: Vec<Trade>,
}
