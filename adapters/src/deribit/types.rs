//! Result types of the common calls. Fields the API description marks as
//! required are plain; the rest are `Option`s. Unknown fields are ignored, so
//! new server fields never break parsing.

use serde::{Deserialize, Serialize};

use super::book::Level;

/// Buy or sell (`zero` for a flat position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Buy / long.
    Buy,
    /// Sell / short.
    Sell,
    /// No position.
    Zero,
}

/// `public/test`, `public/hello`: the API version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Version {
    /// E.g. `1.2.26`.
    pub version: String,
}

/// 24-hour statistics of an instrument.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Stats {
    /// Highest price.
    #[serde(default)]
    pub high: Option<f64>,
    /// Lowest price.
    #[serde(default)]
    pub low: Option<f64>,
    /// Relative price change, in percent.
    #[serde(default)]
    pub price_change: Option<f64>,
    /// Volume in the base currency.
    #[serde(default)]
    pub volume: Option<f64>,
    /// Volume in USD.
    #[serde(default)]
    pub volume_usd: Option<f64>,
}

/// Option greeks.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Greeks {
    /// Delta.
    #[serde(default)]
    pub delta: Option<f64>,
    /// Gamma.
    #[serde(default)]
    pub gamma: Option<f64>,
    /// Vega.
    #[serde(default)]
    pub vega: Option<f64>,
    /// Theta.
    #[serde(default)]
    pub theta: Option<f64>,
    /// Rho.
    #[serde(default)]
    pub rho: Option<f64>,
}

/// `public/ticker`, and the data of `ticker.{instrument}.{interval}` channels.
///
/// ```
/// use wsnova_adapters::deribit::Ticker;
/// let t: Ticker = serde_json::from_str(
///     r#"{"instrument_name":"BTC-PERPETUAL","timestamp":1,"best_bid_price":100.5,"best_ask_price":null,"mark_price":100.7}"#,
/// ).unwrap();
/// assert_eq!((t.best_bid_price, t.best_ask_price), (Some(100.5), None));
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Ticker {
    /// The instrument.
    pub instrument_name: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Book state (`open`, `closed`).
    #[serde(default)]
    pub state: Option<String>,
    /// Best bid price (`None` without bids).
    #[serde(default)]
    pub best_bid_price: Option<f64>,
    /// Amount at the best bid.
    #[serde(default)]
    pub best_bid_amount: Option<f64>,
    /// Best ask price (`None` without asks).
    #[serde(default)]
    pub best_ask_price: Option<f64>,
    /// Amount at the best ask.
    #[serde(default)]
    pub best_ask_amount: Option<f64>,
    /// Last trade price.
    #[serde(default)]
    pub last_price: Option<f64>,
    /// Mark price.
    #[serde(default)]
    pub mark_price: Option<f64>,
    /// Index price.
    #[serde(default)]
    pub index_price: Option<f64>,
    /// Highest price a buy order may have.
    #[serde(default)]
    pub max_price: Option<f64>,
    /// Lowest price a sell order may have.
    #[serde(default)]
    pub min_price: Option<f64>,
    /// Open interest.
    #[serde(default)]
    pub open_interest: Option<f64>,
    /// Last settlement price.
    #[serde(default)]
    pub settlement_price: Option<f64>,
    /// Current funding (perpetuals).
    #[serde(default)]
    pub current_funding: Option<f64>,
    /// 8-hour funding (perpetuals).
    #[serde(default)]
    pub funding_8h: Option<f64>,
    /// Estimated delivery price.
    #[serde(default)]
    pub estimated_delivery_price: Option<f64>,
    /// Implied volatility of the mark price (options).
    #[serde(default)]
    pub mark_iv: Option<f64>,
    /// Implied volatility of the best bid (options).
    #[serde(default)]
    pub bid_iv: Option<f64>,
    /// Implied volatility of the best ask (options).
    #[serde(default)]
    pub ask_iv: Option<f64>,
    /// Underlying price (options).
    #[serde(default)]
    pub underlying_price: Option<f64>,
    /// Greeks (options).
    #[serde(default)]
    pub greeks: Option<Greeks>,
    /// 24-hour statistics.
    #[serde(default)]
    pub stats: Option<Stats>,
}

/// An instrument from `public/get_instruments`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Instrument {
    /// E.g. `BTC-PERPETUAL`.
    pub instrument_name: String,
    /// `future`, `option`, `spot`, `future_combo`, `option_combo`.
    pub kind: String,
    /// Base currency.
    pub base_currency: String,
    /// Quote currency.
    pub quote_currency: String,
    /// Settlement currency.
    #[serde(default)]
    pub settlement_currency: Option<String>,
    /// Price step.
    pub tick_size: f64,
    /// Smallest order amount.
    pub min_trade_amount: f64,
    /// Contract size.
    pub contract_size: f64,
    /// Whether it trades.
    pub is_active: bool,
    /// `perpetual`, `day`, `week`, `month`, …
    pub settlement_period: String,
    /// Milliseconds since the Unix epoch.
    pub creation_timestamp: u64,
    /// Milliseconds since the Unix epoch.
    pub expiration_timestamp: u64,
    /// The index it follows, e.g. `btc_usd`.
    pub price_index: String,
    /// Numeric id.
    #[serde(default)]
    pub instrument_id: Option<u64>,
    /// Strike price (options).
    #[serde(default)]
    pub strike: Option<f64>,
    /// `call` or `put` (options).
    #[serde(default)]
    pub option_type: Option<String>,
    /// Maker commission.
    #[serde(default)]
    pub maker_commission: Option<f64>,
    /// Taker commission.
    #[serde(default)]
    pub taker_commission: Option<f64>,
    /// Largest leverage (futures).
    #[serde(default)]
    pub max_leverage: Option<f64>,
}

/// `public/get_order_book`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderBook {
    /// The instrument.
    pub instrument_name: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The book's change id (matches `book.*` notifications).
    #[serde(default)]
    pub change_id: Option<u64>,
    /// Book state.
    #[serde(default)]
    pub state: Option<String>,
    /// Bid levels, best first.
    pub bids: Vec<Level>,
    /// Ask levels, best first.
    pub asks: Vec<Level>,
    /// Best bid price.
    #[serde(default)]
    pub best_bid_price: Option<f64>,
    /// Best ask price.
    #[serde(default)]
    pub best_ask_price: Option<f64>,
    /// Last trade price.
    #[serde(default)]
    pub last_price: Option<f64>,
    /// Mark price.
    #[serde(default)]
    pub mark_price: Option<f64>,
    /// Index price.
    #[serde(default)]
    pub index_price: Option<f64>,
}
