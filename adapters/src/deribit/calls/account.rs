//! Account calls: trades, positions, summaries, cancel-on-disconnect, logout.

use serde::Serialize;

use super::Call;
use crate::deribit::CancelScope;
use crate::deribit::account::{AccountSummaries, CancelOnDisconnect, Position};
use crate::deribit::orders::UserTrades;

/// Paging and filters shared by the user trade calls.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TradesPage {
    /// At most this many (server default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// From this time on (ms since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<u64>,
    /// Up to this time (ms since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<u64>,
    /// `asc`, `desc` or `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sorting: Option<String>,
}

/// `private/get_user_trades_by_instrument`: the account's trades.
///
/// ```
/// use wsnova_adapters::deribit::calls::{Call, GetUserTradesByInstrument};
/// let mut call = GetUserTradesByInstrument::new("BTC-PERPETUAL");
/// call.page.count = Some(50);
/// assert_eq!(call.params(), r#"{"instrument_name":"BTC-PERPETUAL","count":50}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetUserTradesByInstrument {
    /// The instrument.
    pub instrument_name: String,
    /// From this trade sequence number on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_seq: Option<u64>,
    /// Up to this trade sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_seq: Option<u64>,
    /// Paging and filters.
    #[serde(flatten)]
    pub page: TradesPage,
}
call!(
    GetUserTradesByInstrument,
    "private/get_user_trades_by_instrument",
    UserTrades
);

impl GetUserTradesByInstrument {
    /// The latest trades on `instrument_name`.
    pub fn new(instrument_name: impl Into<String>) -> Self {
        GetUserTradesByInstrument {
            instrument_name: instrument_name.into(),
            start_seq: None,
            end_seq: None,
            page: TradesPage::default(),
        }
    }
}

/// `private/get_user_trades_by_currency`: the account's trades in a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetUserTradesByCurrency {
    /// `BTC`, `ETH`, …
    pub currency: String,
    /// `future`, `option`, …, `any`; all when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Paging and filters.
    #[serde(flatten)]
    pub page: TradesPage,
}
call!(
    GetUserTradesByCurrency,
    "private/get_user_trades_by_currency",
    UserTrades
);

impl GetUserTradesByCurrency {
    /// The latest trades in `currency`.
    pub fn new(currency: impl Into<String>) -> Self {
        GetUserTradesByCurrency {
            currency: currency.into(),
            kind: None,
            page: TradesPage::default(),
        }
    }
}

/// `private/get_position`: the position on one instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetPosition {
    /// The instrument.
    pub instrument_name: String,
}
call!(GetPosition, "private/get_position", Position);

/// `private/get_account_summaries`: the account and every currency's summary.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GetAccountSummaries {
    /// A subaccount's instead of this account's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subaccount_id: Option<u64>,
    /// Extra account details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended: Option<bool>,
}
call!(
    GetAccountSummaries,
    "private/get_account_summaries",
    AccountSummaries
);

/// `private/get_cancel_on_disconnect`: whether it is on, for this
/// connection (the server's default) or for new connections of the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GetCancelOnDisconnect {
    /// `None`: the server's default, [`CancelScope::Connection`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<CancelScope>,
}
call!(
    GetCancelOnDisconnect,
    "private/get_cancel_on_disconnect",
    CancelOnDisconnect
);

/// `private/logout`: ends the session. Deribit answers nothing and closes
/// the connection; cancel-on-disconnect does not fire. The adapter marks it
/// terminal (`Adapter::is_terminal`), so the session does not reconnect:
/// it ends with `Event::Closed { reason: User }`, and the call's outcome is
/// a `null` result (`()`) once the server closed.
///
/// ```
/// use wsnova_adapters::deribit::calls::{Call, Logout};
/// assert_eq!(Logout::default().params(), "{}");
/// assert_eq!(Logout { invalidate_token: Some(false) }.params(), r#"{"invalidate_token":false}"#);
/// // With the tokio driver: client.request(Logout::METHOD, &Logout::default()).await?;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Logout {
    /// Invalidate the session's tokens (the server's default: `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalidate_token: Option<bool>,
}
call!(Logout, "private/logout", ());
