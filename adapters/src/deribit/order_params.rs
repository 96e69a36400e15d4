//! Params of `private/buy` and `private/sell`: every parameter of Deribit's
//! API v2 description, trailing stops, iceberg orders, one-triggers-other
//! and one-cancels-other links included.

use serde::{Deserialize, Serialize};

use super::orders::{OrderType, TimeInForce};
use super::types::Direction;

/// What an options order's price means (`advanced`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Advanced {
    /// The price is in USD.
    Usd,
    /// The price is an implied volatility in percent.
    Implv,
}

/// How an order is linked to others (`linked_order_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkedOrderType {
    /// When it fills, the orders of `otoco_config` are placed.
    OneTriggersOther,
    /// When one fills, the others are cancelled.
    OneCancelsOther,
    /// When it fills, the orders of `otoco_config` are placed, and when one
    /// of those fills the others are cancelled.
    OneTriggersOneCancelsOther,
}

/// When a linked order's secondary orders are placed (`trigger_fill_condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerFillCondition {
    /// On the primary order's first fill (the server's default).
    FirstHit,
    /// Once the primary order filled completely.
    CompleteFill,
    /// With every fill, for the amount filled.
    Incremental,
}

/// An order of `otoco_config`: placed (or cancelled) when the primary order fills.
///
/// ```
/// use wsnova_adapters::deribit::{Direction, OrderType, OtocoOrder};
/// let take_profit = OtocoOrder::new(Direction::Sell, OrderType::Limit).price(61_000.0);
/// assert_eq!(
///     serde_json::to_string(&take_profit).unwrap(),
///     r#"{"direction":"sell","type":"limit","price":61000.0}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtocoOrder {
    /// Amount (the primary's when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// Buy or sell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The order type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    /// A label of your own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Limit price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// Only reduce a position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduce_only: Option<bool>,
    /// Time in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<TimeInForce>,
    /// Only add liquidity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_only: Option<bool>,
    /// Reject (instead of re-pricing) a post-only order that would take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_post_only: Option<bool>,
    /// Trigger price (stop and take orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_price: Option<f64>,
    /// Distance from the peak (trailing stops).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_offset: Option<f64>,
    /// `index_price`, `mark_price` or `last_price`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}

impl OtocoOrder {
    /// A secondary order in `direction` of `order_type`; the rest unset.
    pub fn new(direction: Direction, order_type: OrderType) -> Self {
        OtocoOrder {
            amount: None,
            direction: Some(direction),
            order_type: Some(order_type),
            label: None,
            price: None,
            reduce_only: None,
            time_in_force: None,
            post_only: None,
            reject_post_only: None,
            trigger_price: None,
            trigger_offset: None,
            trigger: None,
        }
    }

    /// Sets the limit price.
    pub fn price(mut self, price: f64) -> Self {
        self.price = Some(price);
        self
    }

    /// Sets the trigger and its price.
    pub fn trigger(mut self, trigger: impl Into<String>, price: f64) -> Self {
        self.trigger = Some(trigger.into());
        self.trigger_price = Some(price);
        self
    }
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
///
/// // A trailing stop 100 below the index's peak, and an iceberg order.
/// let stop = OrderParams::trailing_stop("BTC-PERPETUAL", 10.0, "index_price", 100.0);
/// assert_eq!(
///     serde_json::to_string(&stop).unwrap(),
///     r#"{"instrument_name":"BTC-PERPETUAL","amount":10.0,"type":"trailing_stop","trigger_offset":100.0,"trigger":"index_price"}"#
/// );
/// let iceberg = OrderParams::limit("BTC-PERPETUAL", 1000.0, 50_000.0).display_amount(100.0);
/// assert_eq!(iceberg.display_amount, Some(100.0));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
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
    /// The amount shown in the book (iceberg orders; the rest is hidden).
    /// Deribit: at least 100 times the instrument's minimum amount, and the
    /// hidden part less than 100 times the shown one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_amount: Option<f64>,
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
    /// The trailing stop's distance from the peak (`trailing_stop` orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_offset: Option<f64>,
    /// `index_price`, `mark_price` or `last_price` (trigger orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// What an options price means (USD or implied volatility).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Advanced>,
    /// Under market maker protection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmp: Option<bool>,
    /// The matching engine takes it only before this time (ms since the
    /// Unix epoch, in the server's clock: see `GetTime`); later Deribit
    /// answers `timed_out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<u64>,
    /// How it links to other orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_order_type: Option<LinkedOrderType>,
    /// When linked orders are placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_fill_condition: Option<TriggerFillCondition>,
    /// The orders to place or cancel when this one fills.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otoco_config: Option<Vec<OtocoOrder>>,
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

    /// A trailing stop (a market order once triggered) `offset` away from
    /// the best `trigger` price (`index_price`, `mark_price`, `last_price`)
    /// seen since it was placed.
    pub fn trailing_stop(
        instrument_name: impl Into<String>,
        amount: f64,
        trigger: impl Into<String>,
        offset: f64,
    ) -> Self {
        OrderParams {
            order_type: Some(OrderType::TrailingStop),
            trigger_offset: Some(offset),
            trigger: Some(trigger.into()),
            ..Self::new(instrument_name, amount)
        }
    }

    /// A stop or take order of `order_type`, triggered when `trigger`
    /// reaches `trigger_price`.
    pub fn triggered(
        instrument_name: impl Into<String>,
        amount: f64,
        order_type: OrderType,
        trigger: impl Into<String>,
        trigger_price: f64,
    ) -> Self {
        OrderParams {
            order_type: Some(order_type),
            trigger_price: Some(trigger_price),
            trigger: Some(trigger.into()),
            ..Self::new(instrument_name, amount)
        }
    }

    fn new(instrument_name: impl Into<String>, amount: f64) -> Self {
        OrderParams {
            instrument_name: instrument_name.into(),
            amount: Some(amount),
            ..Self::default()
        }
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the limit price (e.g. of a `stop_limit` order).
    pub fn price(mut self, price: f64) -> Self {
        self.price = Some(price);
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

    /// Sets reject-post-only.
    pub fn reject_post_only(mut self, reject: bool) -> Self {
        self.reject_post_only = Some(reject);
        self
    }

    /// Sets reduce-only.
    pub fn reduce_only(mut self, reduce_only: bool) -> Self {
        self.reduce_only = Some(reduce_only);
        self
    }

    /// Shows only `amount` in the book (an iceberg order).
    pub fn display_amount(mut self, amount: f64) -> Self {
        self.display_amount = Some(amount);
        self
    }

    /// Sets the trailing distance.
    pub fn trigger_offset(mut self, offset: f64) -> Self {
        self.trigger_offset = Some(offset);
        self
    }

    /// Sets what an options price means.
    pub fn advanced(mut self, advanced: Advanced) -> Self {
        self.advanced = Some(advanced);
        self
    }

    /// Puts the order under market maker protection.
    pub fn mmp(mut self, mmp: bool) -> Self {
        self.mmp = Some(mmp);
        self
    }

    /// The server refuses the request after `unix_ms`.
    pub fn valid_until(mut self, unix_ms: u64) -> Self {
        self.valid_until = Some(unix_ms);
        self
    }

    /// Links `orders` to this one as `link` says, placed under `condition`
    /// (the server's default: `first_hit`).
    pub fn linked(
        mut self,
        link: LinkedOrderType,
        condition: Option<TriggerFillCondition>,
        orders: Vec<OtocoOrder>,
    ) -> Self {
        self.linked_order_type = Some(link);
        self.trigger_fill_condition = condition;
        self.otoco_config = Some(orders);
        self
    }
}
