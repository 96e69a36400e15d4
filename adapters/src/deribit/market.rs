//! Results of the public reference and market calls: index prices, the
//! public trade tape, book summaries, currencies and the platform's status.
//! Fields Deribit's API v2 description marks as required are plain, except
//! prices Deribit sends as `null` when there is none (an empty book side).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::types::Direction;

/// `public/get_index_price`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct IndexPrice {
    /// The index's price.
    pub index_price: f64,
    /// The estimated delivery price.
    pub estimated_delivery_price: f64,
}

/// A trade on the public tape (`public/get_last_trades_by_instrument`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublicTrade {
    /// The trade's id.
    pub trade_id: String,
    /// Its sequence number in the instrument.
    pub trade_seq: u64,
    /// The instrument.
    pub instrument_name: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The taker's side.
    pub direction: Direction,
    /// 0 plus tick, 1 zero-plus tick, 2 minus tick, 3 zero-minus tick.
    pub tick_direction: u8,
    /// Index price at the trade.
    pub index_price: f64,
    /// Price.
    pub price: f64,
    /// Amount.
    pub amount: f64,
    /// Mark price at the trade.
    pub mark_price: f64,
    /// Amount in contracts.
    #[serde(default)]
    pub contracts: Option<f64>,
    /// Implied volatility (options).
    #[serde(default)]
    pub iv: Option<f64>,
    /// `M`, `T` or `MT` when a liquidation.
    #[serde(default)]
    pub liquidation: Option<String>,
}

/// `public/get_last_trades_by_instrument`: a page of the tape.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublicTrades {
    /// The trades.
    pub trades: Vec<PublicTrade>,
    /// More trades match than were returned.
    pub has_more: bool,
}

/// An instrument's summary (`public/get_book_summary_by_currency`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BookSummary {
    /// The instrument.
    pub instrument_name: String,
    /// Base currency.
    pub base_currency: String,
    /// Quote currency.
    pub quote_currency: String,
    /// 24-hour high (`None` without trades).
    pub high: Option<f64>,
    /// 24-hour low (`None` without trades).
    pub low: Option<f64>,
    /// 24-hour volume.
    pub volume: f64,
    /// Best bid (`None` without bids).
    pub bid_price: Option<f64>,
    /// Best ask (`None` without asks).
    pub ask_price: Option<f64>,
    /// Between the best bid and ask (`None` without both).
    pub mid_price: Option<f64>,
    /// Mark price.
    pub mark_price: f64,
    /// Last trade price (`None` without trades).
    pub last: Option<f64>,
    /// Open interest.
    pub open_interest: f64,
    /// Milliseconds since the Unix epoch.
    pub creation_timestamp: u64,
    /// Estimated delivery price.
    #[serde(default)]
    pub estimated_delivery_price: Option<f64>,
    /// 24-hour volume in USD.
    #[serde(default)]
    pub volume_usd: Option<f64>,
    /// Current funding (perpetuals).
    #[serde(default)]
    pub current_funding: Option<f64>,
    /// 8-hour funding (perpetuals).
    #[serde(default)]
    pub funding_8h: Option<f64>,
    /// 24-hour price change, in percent.
    #[serde(default)]
    pub price_change: Option<f64>,
}

/// A currency (`public/get_currencies`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Currency {
    /// E.g. `BTC`.
    pub currency: String,
    /// E.g. `Bitcoin`.
    pub currency_long: String,
    /// `BITCOIN` or `ETHER`.
    pub coin_type: String,
    /// Confirmations a deposit needs.
    pub min_confirmations: u32,
    /// The withdrawal fee.
    pub withdrawal_fee: f64,
    /// Whether it counts in the cross-collateral pool (required by the
    /// schema, absent from the documentation's example).
    #[serde(default)]
    pub in_cross_collateral_pool: Option<bool>,
    /// The smallest withdrawal fee.
    #[serde(default)]
    pub min_withdrawal_fee: Option<f64>,
    /// Decimal places.
    #[serde(default)]
    pub decimals: Option<u32>,
}

/// Whether the platform is locked (`public/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// Nothing is locked.
    No,
    /// Some currencies are locked.
    Partial,
    /// Every currency is locked.
    All,
}

/// `public/status`.
///
/// ```
/// use wsnova_adapters::deribit::{Locked, PlatformStatus};
/// let s: PlatformStatus = serde_json::from_str(r#"{"locked":"partial","locked_indices":["btc_usd"]}"#).unwrap();
/// assert_eq!((s.locked, s.locked_indices.len()), (Locked::Partial, 1));
/// let s: PlatformStatus = serde_json::from_str(r#"{"locked":false}"#).unwrap();
/// assert_eq!(s.locked, Locked::No);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PlatformStatus {
    /// `"true"`, `"partial"` or `"false"` (the documentation's example sends a boolean; both are read).
    #[serde(deserialize_with = "locked")]
    pub locked: Locked,
    /// The locked indices.
    #[serde(default)]
    pub locked_indices: Vec<String>,
    /// The locked currencies (the documentation's example).
    #[serde(default)]
    pub locked_currencies: Vec<String>,
}

fn locked<'de, D: Deserializer<'de>>(d: D) -> Result<Locked, D::Error> {
    struct Lock;
    impl Visitor<'_> for Lock {
        type Value = Locked;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(r#"true, false, "true", "false" or "partial""#)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Locked, E> {
            Ok(if v { Locked::All } else { Locked::No })
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Locked, E> {
            match v {
                "true" => Ok(Locked::All),
                "false" => Ok(Locked::No),
                "partial" => Ok(Locked::Partial),
                other => Err(E::unknown_variant(other, &["true", "false", "partial"])),
            }
        }
    }
    d.deserialize_any(Lock)
}
