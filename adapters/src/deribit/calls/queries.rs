//! Reading orders: one order's state, the open orders, the order history.

use serde::Serialize;

use super::Call;
use crate::deribit::orders::Order;

/// `private/get_order_state`: one order, open or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetOrderState {
    /// The order's id.
    pub order_id: String,
}
call!(GetOrderState, "private/get_order_state", Order);

/// `private/get_order_state_by_label`: the orders labelled `label` in `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetOrderStateByLabel {
    /// `BTC`, `ETH`, …
    pub currency: String,
    /// The label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}
call!(
    GetOrderStateByLabel,
    "private/get_order_state_by_label",
    Vec<Order>
);

/// `private/get_open_orders`: every open order of the account.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GetOpenOrders {
    /// `future`, `option`, `spot`, …; all when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `all` (default), `limit`, `trigger_all`, `stop_all`, `stop_limit`,
    /// `stop_market`, `take_all`, `take_limit`, `take_market`,
    /// `trailing_all`, `trailing_stop`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
}
call!(GetOpenOrders, "private/get_open_orders", Vec<Order>);

/// `private/get_open_orders_by_instrument`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetOpenOrdersByInstrument {
    /// The instrument.
    pub instrument_name: String,
    /// As for [`GetOpenOrders`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
}
call!(
    GetOpenOrdersByInstrument,
    "private/get_open_orders_by_instrument",
    Vec<Order>
);

/// `private/get_open_orders_by_currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetOpenOrdersByCurrency {
    /// `BTC`, `ETH`, …
    pub currency: String,
    /// As for [`GetOpenOrders`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// As for [`GetOpenOrders`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
}
call!(
    GetOpenOrdersByCurrency,
    "private/get_open_orders_by_currency",
    Vec<Order>
);

/// Paging and filters shared by the order history calls.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HistoryPage {
    /// At most this many (server default 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Skip this many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Orders older than the last few days too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_old: Option<bool>,
    /// Cancelled orders that never filled too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_unfilled: Option<bool>,
}

/// `private/get_order_history_by_instrument`: orders that are no longer open
/// (filled, or cancelled after a fill unless `include_unfilled`), newest first.
///
/// ```
/// use wsnova_adapters::deribit::calls::{Call, GetOrderHistoryByInstrument};
/// let mut call = GetOrderHistoryByInstrument::new("BTC-PERPETUAL");
/// call.page.include_unfilled = Some(true);
/// assert_eq!(call.params(), r#"{"instrument_name":"BTC-PERPETUAL","include_unfilled":true}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetOrderHistoryByInstrument {
    /// The instrument.
    pub instrument_name: String,
    /// Paging and filters.
    #[serde(flatten)]
    pub page: HistoryPage,
}
call!(
    GetOrderHistoryByInstrument,
    "private/get_order_history_by_instrument",
    Vec<Order>
);

impl GetOrderHistoryByInstrument {
    /// The history of `instrument_name`, the server's default page.
    pub fn new(instrument_name: impl Into<String>) -> Self {
        GetOrderHistoryByInstrument {
            instrument_name: instrument_name.into(),
            page: HistoryPage::default(),
        }
    }
}

/// `private/get_order_history_by_currency`: as by instrument, for a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetOrderHistoryByCurrency {
    /// `BTC`, `ETH`, …
    pub currency: String,
    /// `future`, `option`, …, `any`; all when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Paging and filters.
    #[serde(flatten)]
    pub page: HistoryPage,
}
call!(
    GetOrderHistoryByCurrency,
    "private/get_order_history_by_currency",
    Vec<Order>
);

impl GetOrderHistoryByCurrency {
    /// The history of `currency`, the server's default page.
    pub fn new(currency: impl Into<String>) -> Self {
        GetOrderHistoryByCurrency {
            currency: currency.into(),
            kind: None,
            page: HistoryPage::default(),
        }
    }
}
