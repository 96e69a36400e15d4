//! Trading results: orders, trades, and the order types and time in force
//! they name. The params of placing an order are in `order_params`.

use serde::{Deserialize, Serialize};

use super::order_params::{Advanced, TriggerFillCondition};
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
    /// Amount in contracts.
    #[serde(default)]
    pub contracts: Option<f64>,
    /// With post-only: refused rather than re-priced.
    #[serde(default)]
    pub reject_post_only: Option<bool>,
    /// The amount shown in the book (iceberg orders).
    #[serde(default)]
    pub display_amount: Option<f64>,
    /// What an options price means.
    #[serde(default)]
    pub advanced: Option<Advanced>,
    /// Under market maker protection.
    #[serde(default)]
    pub mmp: Option<bool>,
    /// `index_price`, `mark_price` or `last_price` (trigger orders).
    #[serde(default)]
    pub trigger: Option<String>,
    /// Trigger price (trigger orders).
    #[serde(default)]
    pub trigger_price: Option<f64>,
    /// A trailing stop's distance from the peak.
    #[serde(default)]
    pub trigger_offset: Option<f64>,
    /// The price a trailing stop's trigger price follows.
    #[serde(default)]
    pub trigger_reference_price: Option<f64>,
    /// Whether a trigger order fired.
    #[serde(default)]
    pub triggered: Option<bool>,
    /// The trigger order that created this order.
    #[serde(default)]
    pub trigger_order_id: Option<String>,
    /// When linked orders are placed.
    #[serde(default)]
    pub trigger_fill_condition: Option<TriggerFillCondition>,
    /// The orders this one triggers (one-triggers-other).
    #[serde(default)]
    pub oto_order_ids: Option<Vec<String>>,
    /// Whether it was edited.
    #[serde(default)]
    pub replaced: Option<bool>,
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
    /// The trade's sequence number in its instrument.
    #[serde(default)]
    pub trade_seq: Option<u64>,
    /// The order's state after this trade.
    #[serde(default)]
    pub state: Option<String>,
    /// Mark price at the trade.
    #[serde(default)]
    pub mark_price: Option<f64>,
    /// Index price at the trade.
    #[serde(default)]
    pub index_price: Option<f64>,
    /// The order's label.
    #[serde(default)]
    pub label: Option<String>,
    /// `limit`, `market` or `liquidation`.
    #[serde(default)]
    pub order_type: Option<String>,
    /// Amount in contracts.
    #[serde(default)]
    pub contracts: Option<f64>,
}

/// `private/get_user_trades_by_instrument`, `…_by_currency`: a page of trades.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserTrades {
    /// The trades.
    pub trades: Vec<Trade>,
    /// More trades match than were returned.
    pub has_more: bool,
}

/// `private/buy`, `private/sell`: the order and its trades so far.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderResult {
    /// The order.
    pub order: Order,
    /// Its trades.
    pub trades: Vec<Trade>,
}
