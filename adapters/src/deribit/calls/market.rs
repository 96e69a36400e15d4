//! Public reference and market calls: index prices, the tape, book
//! summaries, instruments, currencies and the platform's status.

use serde::Serialize;

use super::Call;
use crate::deribit::market::{BookSummary, Currency, IndexPrice, PlatformStatus, PublicTrades};
use crate::deribit::types::Instrument;

/// `public/get_index_price`.
///
/// ```
/// use wsnova_adapters::deribit::calls::{Call, GetIndexPrice};
/// assert_eq!(GetIndexPrice::new("btc_usd").params(), r#"{"index_name":"btc_usd"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetIndexPrice {
    /// E.g. `btc_usd`.
    pub index_name: String,
}
call!(GetIndexPrice, "public/get_index_price", IndexPrice);

impl GetIndexPrice {
    /// The index `index_name`.
    pub fn new(index_name: impl Into<String>) -> Self {
        GetIndexPrice {
            index_name: index_name.into(),
        }
    }
}

/// `public/get_last_trades_by_instrument`: the latest public trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetLastTradesByInstrument {
    /// The instrument.
    pub instrument_name: String,
    /// From this trade sequence number on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_seq: Option<u64>,
    /// Up to this trade sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_seq: Option<u64>,
    /// At most this many (server default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// `asc`, `desc` or `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sorting: Option<String>,
}
call!(
    GetLastTradesByInstrument,
    "public/get_last_trades_by_instrument",
    PublicTrades
);

impl GetLastTradesByInstrument {
    /// The latest trades of `instrument_name`.
    pub fn new(instrument_name: impl Into<String>) -> Self {
        GetLastTradesByInstrument {
            instrument_name: instrument_name.into(),
            start_seq: None,
            end_seq: None,
            count: None,
            sorting: None,
        }
    }
}

/// `public/get_book_summary_by_currency`: one summary per instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetBookSummaryByCurrency {
    /// `BTC`, `ETH`, …
    pub currency: String,
    /// `future`, `option`, …; all when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}
call!(
    GetBookSummaryByCurrency,
    "public/get_book_summary_by_currency",
    Vec<BookSummary>
);

/// `public/get_instrument`: one instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetInstrument {
    /// The instrument.
    pub instrument_name: String,
}
call!(GetInstrument, "public/get_instrument", Instrument);

/// `public/get_currencies`: every currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GetCurrencies {}
call!(GetCurrencies, "public/get_currencies", Vec<Currency>);

/// `public/status`: whether the platform is locked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {}
call!(Status, "public/status", PlatformStatus);
