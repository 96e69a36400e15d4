//! Changing orders: edit, the cancel variants and closing a position.

use serde::Serialize;

use super::Call;
use crate::deribit::order_params::Advanced;
use crate::deribit::orders::OrderResult;

/// `private/edit`: changes an open order's amount, price or trigger; the
/// order as it is now, with any trades the change caused.
///
/// ```
/// use wsnova_adapters::deribit::calls::{Call, Edit};
/// let edit = Edit::new("BTC-17").amount(20.0).price(50_010.0);
/// assert_eq!(edit.params(), r#"{"order_id":"BTC-17","amount":20.0,"price":50010.0}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Edit {
    /// The order's id.
    pub order_id: String,
    /// New amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// New amount in contracts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contracts: Option<f64>,
    /// New price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// Only add liquidity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_only: Option<bool>,
    /// Only reduce a position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduce_only: Option<bool>,
    /// Reject (instead of re-pricing) a post-only order that would take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_post_only: Option<bool>,
    /// What an options price means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Advanced>,
    /// New trigger price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_price: Option<f64>,
    /// New trailing distance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_offset: Option<f64>,
    /// Under market maker protection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmp: Option<bool>,
    /// The matching engine takes it only before this time (ms since the
    /// Unix epoch, in the server's clock: see `GetTime`); later Deribit
    /// answers `timed_out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<u64>,
    /// New shown amount (iceberg orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_amount: Option<f64>,
}
call!(Edit, "private/edit", OrderResult);

impl Edit {
    /// Edits the order `order_id`; set what changes.
    pub fn new(order_id: impl Into<String>) -> Self {
        Edit {
            order_id: order_id.into(),
            ..Self::default()
        }
    }

    /// Sets the new amount.
    pub fn amount(mut self, amount: f64) -> Self {
        self.amount = Some(amount);
        self
    }

    /// Sets the new price.
    pub fn price(mut self, price: f64) -> Self {
        self.price = Some(price);
        self
    }
}

/// `private/edit_by_label`: edits the one open order with `label` on
/// `instrument_name`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EditByLabel {
    /// The order's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The instrument.
    pub instrument_name: String,
    /// New amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// New amount in contracts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contracts: Option<f64>,
    /// New price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// Only add liquidity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_only: Option<bool>,
    /// Only reduce a position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduce_only: Option<bool>,
    /// Reject (instead of re-pricing) a post-only order that would take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_post_only: Option<bool>,
    /// What an options price means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Advanced>,
    /// New trigger price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_price: Option<f64>,
    /// Under market maker protection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmp: Option<bool>,
    /// The matching engine takes it only before this time (ms since the
    /// Unix epoch, in the server's clock: see `GetTime`); later Deribit
    /// answers `timed_out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<u64>,
}
call!(EditByLabel, "private/edit_by_label", OrderResult);

impl EditByLabel {
    /// Edits the order labelled `label` on `instrument_name`; set what changes.
    pub fn new(label: impl Into<String>, instrument_name: impl Into<String>) -> Self {
        EditByLabel {
            label: Some(label.into()),
            instrument_name: instrument_name.into(),
            ..Self::default()
        }
    }

    /// Sets the new amount.
    pub fn amount(mut self, amount: f64) -> Self {
        self.amount = Some(amount);
        self
    }

    /// Sets the new price.
    pub fn price(mut self, price: f64) -> Self {
        self.price = Some(price);
        self
    }
}

/// `private/cancel_all_by_instrument`: how many orders were cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CancelAllByInstrument {
    /// The instrument.
    pub instrument_name: String,
    /// `all` (default), `limit`, `trigger_all`, `stop`, `take`, `trailing_stop`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
}
call!(
    CancelAllByInstrument,
    "private/cancel_all_by_instrument",
    u64
);

impl CancelAllByInstrument {
    /// Every order on `instrument_name`.
    pub fn new(instrument_name: impl Into<String>) -> Self {
        CancelAllByInstrument {
            instrument_name: instrument_name.into(),
            order_type: None,
        }
    }
}

/// `private/cancel_all_by_currency`: how many orders were cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CancelAllByCurrency {
    /// `BTC`, `ETH`, …
    pub currency: String,
    /// `future`, `option`, `spot`, …, `any`; all when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// As for [`CancelAllByInstrument`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
}
call!(CancelAllByCurrency, "private/cancel_all_by_currency", u64);

impl CancelAllByCurrency {
    /// Every order in `currency`.
    pub fn new(currency: impl Into<String>) -> Self {
        CancelAllByCurrency {
            currency: currency.into(),
            ..Self::default()
        }
    }
}

/// `private/cancel_by_label`: how many orders were cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CancelByLabel {
    /// The label.
    pub label: String,
    /// Only orders in this currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}
call!(CancelByLabel, "private/cancel_by_label", u64);

impl CancelByLabel {
    /// Every order labelled `label`.
    pub fn new(label: impl Into<String>) -> Self {
        CancelByLabel {
            label: label.into(),
            currency: None,
        }
    }
}

/// `private/close_position`: an order that closes the position on
/// `instrument_name`, with its trades.
///
/// ```
/// use wsnova_adapters::deribit::calls::{Call, ClosePosition};
/// assert_eq!(
///     ClosePosition::market("ETH-PERPETUAL").params(),
///     r#"{"instrument_name":"ETH-PERPETUAL","type":"market"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosePosition {
    /// The instrument.
    pub instrument_name: String,
    /// `limit` or `market`.
    #[serde(rename = "type")]
    pub order_type: String,
    /// Limit price (`limit` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
}
call!(ClosePosition, "private/close_position", OrderResult);

impl ClosePosition {
    /// Closes at the market.
    pub fn market(instrument_name: impl Into<String>) -> Self {
        ClosePosition {
            instrument_name: instrument_name.into(),
            order_type: "market".into(),
            price: None,
        }
    }

    /// Closes with a limit order at `price`.
    pub fn limit(instrument_name: impl Into<String>, price: f64) -> Self {
        ClosePosition {
            instrument_name: instrument_name.into(),
            order_type: "limit".into(),
            price: Some(price),
        }
    }
}
