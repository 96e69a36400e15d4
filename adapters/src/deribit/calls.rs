//! Typed calls on top of the generic request API. The adapter does no I/O:
//! each call is its params (`Serialize`) with its method name and result
//! type attached, for any driver.
//!
//! ```
//! use wsnova_adapters::deribit::calls::{Call, Ticker};
//! use wsnova_core::session::JsonText;
//!
//! let call = Ticker::new("BTC-PERPETUAL");
//! // With a driver: `let result = client.request(Ticker::METHOD, &call).await?;`
//! # let _ = &call;
//! let result = JsonText::from_string(
//!     r#"{"instrument_name":"BTC-PERPETUAL","timestamp":1,"best_bid_price":100.5}"#,
//! );
//! let ticker = Ticker::parse(&result)?; // or result.parse::<<Ticker as Call>::Result>()
//! assert_eq!(ticker.best_bid_price, Some(100.5));
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! With the sans-IO session, [`Call::to_request`] gives the method and the
//! params text:
//!
//! ```
//! use wsnova_adapters::deribit::calls::{Call, GetOrderBook};
//! let request = GetOrderBook::new("ETH-PERPETUAL").depth(5).to_request();
//! assert_eq!(request.method, "public/get_order_book");
//! assert_eq!(request.params, r#"{"instrument_name":"ETH-PERPETUAL","depth":5}"#);
//! // session.request(now, &request.method, &request.params)?;
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use wsnova_core::session::{JsonText, OutgoingRequest};

use super::account::{AccountSummary, Position};
use super::order_params::OrderParams;
use super::orders::{Order, OrderResult};
use super::types::{Instrument, OrderBook, Version};
use super::{CancelScope, types};

/// A Deribit method with typed params (the implementing type) and result.
pub trait Call: Serialize {
    /// The method name, e.g. `public/ticker`.
    const METHOD: &'static str;
    /// What the `result` parses into.
    type Result: DeserializeOwned;

    /// The params as JSON text. These types always serialize.
    fn params(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// The method and the params text.
    fn method_and_params(&self) -> (&'static str, String) {
        (Self::METHOD, self.params())
    }

    /// The method and params, as the session's `request` takes them.
    fn to_request(&self) -> OutgoingRequest {
        OutgoingRequest::new(Self::METHOD, self.params())
    }

    /// Parses a response's `result`.
    fn parse(result: &JsonText) -> serde_json::Result<Self::Result> {
        result.parse()
    }
}

macro_rules! call {
    ($name:ident, $method:literal, $result:ty) => {
        impl Call for $name {
            const METHOD: &'static str = $method;
            type Result = $result;
        }
    };
}

mod account;
mod market;
mod queries;
mod trading;

pub use account::{
    GetAccountSummaries, GetCancelOnDisconnect, GetPosition, GetUserTradesByCurrency,
    GetUserTradesByInstrument, Logout, TradesPage,
};
pub use market::{
    GetBookSummaryByCurrency, GetCurrencies, GetIndexPrice, GetInstrument,
    GetLastTradesByInstrument, Status,
};
pub use queries::{
    GetOpenOrders, GetOpenOrdersByCurrency, GetOpenOrdersByInstrument, GetOrderHistoryByCurrency,
    GetOrderHistoryByInstrument, GetOrderState, GetOrderStateByLabel, HistoryPage,
};
pub use trading::{
    CancelAllByCurrency, CancelAllByInstrument, CancelByLabel, ClosePosition, Edit, EditByLabel,
};

/// `public/get_time`: the server's time in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GetTime {}
call!(GetTime, "public/get_time", u64);

/// `public/test`: `{"version": …}`, or an error when `expected_result` is `"exception"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Test {
    /// `Some("exception")` asks the server for an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_result: Option<String>,
}
call!(Test, "public/test", Version);

/// `public/hello`: introduces the client; answers with the API version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hello {
    /// The client's name.
    pub client_name: String,
    /// The client's version.
    pub client_version: String,
}
call!(Hello, "public/hello", Version);

/// `public/ticker`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticker {
    /// The instrument.
    pub instrument_name: String,
}
call!(Ticker, "public/ticker", types::Ticker);

impl Ticker {
    /// The ticker of `instrument_name`.
    pub fn new(instrument_name: impl Into<String>) -> Self {
        Ticker {
            instrument_name: instrument_name.into(),
        }
    }
}

/// `public/get_instruments`.
///
/// ```
/// use wsnova_adapters::deribit::calls::{Call, GetInstruments};
/// let call = GetInstruments::new("BTC").kind("future");
/// assert_eq!(call.params(), r#"{"currency":"BTC","kind":"future"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetInstruments {
    /// `BTC`, `ETH`, `USDC`, … or `any`.
    pub currency: String,
    /// `future`, `option`, `spot`, …; all kinds when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Expired instruments instead of active ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired: Option<bool>,
}
call!(GetInstruments, "public/get_instruments", Vec<Instrument>);

impl GetInstruments {
    /// The active instruments of `currency`.
    pub fn new(currency: impl Into<String>) -> Self {
        GetInstruments {
            currency: currency.into(),
            kind: None,
            expired: None,
        }
    }

    /// Only instruments of `kind`.
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

/// `public/get_order_book`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetOrderBook {
    /// The instrument.
    pub instrument_name: String,
    /// Levels per side (1, 5, 10, 20, 50, 100, 1000, 10000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
}
call!(GetOrderBook, "public/get_order_book", OrderBook);

impl GetOrderBook {
    /// The book of `instrument_name` at the server's default depth.
    pub fn new(instrument_name: impl Into<String>) -> Self {
        GetOrderBook {
            instrument_name: instrument_name.into(),
            depth: None,
        }
    }

    /// Levels per side.
    pub fn depth(mut self, depth: u32) -> Self {
        self.depth = Some(depth);
        self
    }
}

/// `private/buy`.
///
/// ```
/// use wsnova_adapters::deribit::calls::{Buy, Call};
/// use wsnova_adapters::deribit::OrderParams;
/// let request = Buy(OrderParams::market("ETH-PERPETUAL", 40.0)).to_request();
/// assert_eq!(request.method, "private/buy");
/// assert_eq!(request.params, r#"{"instrument_name":"ETH-PERPETUAL","amount":40.0,"type":"market"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Buy(pub OrderParams);
call!(Buy, "private/buy", OrderResult);

/// `private/sell`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Sell(pub OrderParams);
call!(Sell, "private/sell", OrderResult);

/// `private/cancel`: the cancelled order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cancel {
    /// The order's id.
    pub order_id: String,
}
call!(Cancel, "private/cancel", Order);

/// `private/cancel_all`: how many orders were cancelled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CancelAll {}
call!(CancelAll, "private/cancel_all", u64);

/// `private/get_positions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GetPositions {
    /// `BTC`, `ETH`, … or `any`; all when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// `future`, `option`, …; all when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}
call!(GetPositions, "private/get_positions", Vec<Position>);

/// `private/get_account_summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetAccountSummary {
    /// The currency.
    pub currency: String,
    /// Extra account details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended: Option<bool>,
}
call!(
    GetAccountSummary,
    "private/get_account_summary",
    AccountSummary
);

/// `public/set_heartbeat` (seconds, at least 10): `"ok"`. The adapter sends
/// it on every connect when configured (`Deribit::with_heartbeat`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetHeartbeat {
    /// Seconds between heartbeats.
    pub interval: u64,
}
call!(SetHeartbeat, "public/set_heartbeat", String);

/// `public/disable_heartbeat`: `"ok"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DisableHeartbeat {}
call!(DisableHeartbeat, "public/disable_heartbeat", String);

/// `private/enable_cancel_on_disconnect`: `"ok"`. The adapter sends it on
/// every connect when configured (`Deribit::with_cancel_on_disconnect`).
/// A connection that drops then cancels the orders placed through it; the
/// orders of other connections stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnableCancelOnDisconnect {
    /// This connection (`None`: the server's default, `connection`), or the
    /// account: every connection opened later starts with it enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<CancelScope>,
}
call!(
    EnableCancelOnDisconnect,
    "private/enable_cancel_on_disconnect",
    String
);

/// `private/disable_cancel_on_disconnect`: `"ok"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DisableCancelOnDisconnect {
    /// This connection (`None`: the server's default), or the account:
    /// connections opened later start with it disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<CancelScope>,
}
call!(
    DisableCancelOnDisconnect,
    "private/disable_cancel_on_disconnect",
    String
);

/// `public/unsubscribe_all`: `"ok"`. The session does not see it: prefer
/// `Session::unsubscribe`, which keeps the replayed set in step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnsubscribeAll {}
call!(UnsubscribeAll, "public/unsubscribe_all", String);

/// `private/unsubscribe_all`: `"ok"`. As [`UnsubscribeAll`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrivateUnsubscribeAll {}
call!(PrivateUnsubscribeAll, "private/unsubscribe_all", String);
