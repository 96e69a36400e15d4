//! Typed stream events, borrowed from the message (prices and quantities
//! stay the decimal strings Binance sends). Field names follow Binance's
//! one-letter keys (spot `web-socket-streams.md`, USD-M "Websocket Market
//! Streams").
//!
//! ```
//! use wsnova_adapters::binance::types::Trade;
//! let t: Trade = serde_json::from_str(r#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}"#).unwrap();
//! assert_eq!((t.symbol, t.price, t.buyer_is_maker), ("BNBBTC", "0.001", true));
//! ```

use serde::Deserialize;

/// A price level: `[price, quantity]`.
pub type Level<'a> = [&'a str; 2];

/// `<symbol>@trade`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Trade<'a> {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: u64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// Trade id.
    #[serde(rename = "t")]
    pub trade_id: u64,
    /// Price.
    #[serde(rename = "p")]
    pub price: &'a str,
    /// Quantity.
    #[serde(rename = "q")]
    pub quantity: &'a str,
    /// Trade time (ms).
    #[serde(rename = "T")]
    pub trade_time: u64,
    /// Whether the buyer was the maker.
    #[serde(rename = "m")]
    pub buyer_is_maker: bool,
}

/// `<symbol>@aggTrade`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AggTrade<'a> {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: u64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// Aggregate trade id.
    #[serde(rename = "a")]
    pub agg_id: u64,
    /// Price.
    #[serde(rename = "p")]
    pub price: &'a str,
    /// Quantity.
    #[serde(rename = "q")]
    pub quantity: &'a str,
    /// First trade id.
    #[serde(rename = "f")]
    pub first_trade_id: u64,
    /// Last trade id.
    #[serde(rename = "l")]
    pub last_trade_id: u64,
    /// Trade time (ms).
    #[serde(rename = "T")]
    pub trade_time: u64,
    /// Whether the buyer was the maker.
    #[serde(rename = "m")]
    pub buyer_is_maker: bool,
}

/// `<symbol>@bookTicker`: best bid and ask (spot has no event type or
/// times; futures adds them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BookTicker<'a> {
    /// Order book update id.
    #[serde(rename = "u")]
    pub update_id: u64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// Best bid price.
    #[serde(rename = "b")]
    pub bid_price: &'a str,
    /// Best bid quantity.
    #[serde(rename = "B")]
    pub bid_qty: &'a str,
    /// Best ask price.
    #[serde(rename = "a")]
    pub ask_price: &'a str,
    /// Best ask quantity.
    #[serde(rename = "A")]
    pub ask_qty: &'a str,
    /// Event time (futures only).
    #[serde(rename = "E", default)]
    pub event_time: Option<u64>,
}

/// `<symbol>@depth` / `@depth@100ms`: a diff of the book. Futures add
/// `pu`, the previous event's final update id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DepthDiff<'a> {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: u64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// First update id in the event.
    #[serde(rename = "U")]
    pub first_update_id: u64,
    /// Final update id in the event.
    #[serde(rename = "u")]
    pub final_update_id: u64,
    /// Final update id of the previous event (futures only).
    #[serde(rename = "pu", default)]
    pub prev_final_update_id: Option<u64>,
    /// Bids to set (quantity 0 removes the level).
    #[serde(rename = "b", borrow)]
    pub bids: Vec<Level<'a>>,
    /// Asks to set.
    #[serde(rename = "a", borrow)]
    pub asks: Vec<Level<'a>>,
}

/// `<symbol>@depth<5|10|20>`: the top levels. Spot sends
/// `{"lastUpdateId","bids","asks"}`; futures sends the diff shape
/// (`b`/`a`, `U`/`u`/`pu`), which reads as [`DepthDiff`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PartialDepth<'a> {
    /// The book's update id.
    #[serde(rename = "lastUpdateId")]
    pub last_update_id: u64,
    /// Bids, best first.
    #[serde(borrow)]
    pub bids: Vec<Level<'a>>,
    /// Asks, best first.
    #[serde(borrow)]
    pub asks: Vec<Level<'a>>,
}

/// `<symbol>@kline_<interval>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KlineEvent<'a> {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: u64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// The candle.
    #[serde(rename = "k", borrow)]
    pub kline: Kline<'a>,
}

/// One candle.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Kline<'a> {
    /// Start time (ms).
    #[serde(rename = "t")]
    pub start: u64,
    /// Close time (ms).
    #[serde(rename = "T")]
    pub close_time: u64,
    /// Interval (`1m`, `1h`, …).
    #[serde(rename = "i")]
    pub interval: &'a str,
    /// Open.
    #[serde(rename = "o")]
    pub open: &'a str,
    /// Close.
    #[serde(rename = "c")]
    pub close: &'a str,
    /// High.
    #[serde(rename = "h")]
    pub high: &'a str,
    /// Low.
    #[serde(rename = "l")]
    pub low: &'a str,
    /// Base asset volume.
    #[serde(rename = "v")]
    pub volume: &'a str,
    /// Number of trades.
    #[serde(rename = "n")]
    pub trades: u64,
    /// Whether the candle is closed.
    #[serde(rename = "x")]
    pub closed: bool,
}

/// `<symbol>@markPrice` / `@markPrice@1s` (futures).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MarkPrice<'a> {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: u64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: &'a str,
    /// Mark price.
    #[serde(rename = "p")]
    pub mark_price: &'a str,
    /// Index price.
    #[serde(rename = "i")]
    pub index_price: &'a str,
    /// Funding rate.
    #[serde(rename = "r")]
    pub funding_rate: &'a str,
    /// Next funding time (ms).
    #[serde(rename = "T")]
    pub next_funding_time: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_payloads_read() {
        let agg: AggTrade<'_> = serde_json::from_str(r#"{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}"#).unwrap();
        assert_eq!(
            (agg.agg_id, agg.first_trade_id, agg.last_trade_id),
            (12345, 100, 105)
        );
        let spot_ticker: BookTicker<'_> = serde_json::from_str(r#"{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#).unwrap();
        assert_eq!(
            (spot_ticker.bid_price, spot_ticker.event_time),
            ("25.35190000", None)
        );
        let futures_ticker: BookTicker<'_> = serde_json::from_str(r#"{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#).unwrap();
        assert_eq!(futures_ticker.event_time, Some(1568014460893));
        let diff: DepthDiff<'_> = serde_json::from_str(r#"{"e":"depthUpdate","E":123456789,"T":123456788,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#).unwrap();
        assert_eq!(
            (
                diff.first_update_id,
                diff.final_update_id,
                diff.prev_final_update_id
            ),
            (157, 160, Some(149))
        );
        assert_eq!(diff.bids, [["0.0024", "10"]]);
        let partial: PartialDepth<'_> = serde_json::from_str(
            r#"{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}"#,
        )
        .unwrap();
        assert_eq!(partial.asks, [["0.0026", "100"]]);
        let kline: KlineEvent<'_> = serde_json::from_str(r#"{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}"#).unwrap();
        assert_eq!(
            (kline.kline.interval, kline.kline.trades, kline.kline.closed),
            ("1m", 100, false)
        );
        let mark: MarkPrice<'_> = serde_json::from_str(r#"{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}"#).unwrap();
        assert_eq!(
            (mark.funding_rate, mark.next_funding_time),
            ("0.00038167", 1562306400000)
        );
    }
}
