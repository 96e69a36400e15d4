//! The update ids of Binance's stream events, for a pool's deduplication
//! across a make-before-break rotation
//! ([`Adapter::update_id`](wsnova_core::session::Adapter::update_id)).
//!
//! Binance numbers some streams' events (spot `web-socket-streams.md`,
//! USD-M "Websocket Market Streams"): diff depth `U`..=`u` (futures also
//! `pu`, the previous event's `u`), partial depth `lastUpdateId`, trade `t`,
//! aggregate trade `a`, book ticker `u`. The adapter deliberately gives
//! these to the pool only, not as
//! [`Adapter::sequence`](wsnova_core::session::Adapter::sequence): a gap in
//! them is not cured by resubscribing (a book resynchronises from a
//! snapshot, see [`OrderBook`](super::OrderBook); a missed trade is gone).
//! Klines, mark prices and other streams have no id: the pool switches them
//! at confirmation (see `docs/pool.md`).

use serde::Deserialize;
use serde_json::value::RawValue;
use wsnova_core::session::Sequence;

/// The numbered fields any of those events may carry.
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(rename = "U", default)]
    first: Option<u64>,
    #[serde(default)]
    u: Option<u64>,
    #[serde(default)]
    pu: Option<u64>,
    #[serde(default)]
    t: Option<u64>,
    // A number in aggTrade, the best ask (a string) in bookTicker.
    #[serde(borrow, default)]
    a: Option<&'a RawValue>,
    #[serde(rename = "lastUpdateId", default)]
    last_update_id: Option<u64>,
}

/// Ids that only grow: `previous` is `id - 1`, so a pool switches once the
/// old connection delivered everything before the new one's first update.
fn growing(id: u64) -> Sequence {
    Sequence {
        id,
        previous: id.checked_sub(1),
    }
}

/// The update id of an event of `channel` (a stream name such as
/// `btcusdt@depth@100ms`, or on the raw endpoint the event type).
///
/// ```
/// use serde_json::value::RawValue;
/// use wsnova_adapters::binance::update_id;
/// use wsnova_core::session::Sequence;
/// let depth: Box<RawValue> = serde_json::from_str(r#"{"e":"depthUpdate","U":158,"u":160,"b":[],"a":[]}"#).unwrap();
/// assert_eq!(update_id("btcusdt@depth@100ms", &depth), Some(Sequence { id: 160, previous: Some(157) }));
/// let kline: Box<RawValue> = serde_json::from_str(r#"{"e":"kline","k":{"t":1}}"#).unwrap();
/// assert_eq!(update_id("btcusdt@kline_1m", &kline), None);
/// ```
pub fn update_id(channel: &str, data: &RawValue) -> Option<Sequence> {
    let kind = channel.split('@').nth(1).unwrap_or(channel);
    let f: Fields<'_> = serde_json::from_str(data.get()).ok()?;
    match kind {
        "trade" => f.t.map(growing),
        "aggTrade" => f.a.and_then(|a| a.get().parse().ok()).map(growing),
        "bookTicker" => f.u.map(growing),
        _ if kind.starts_with("depth") => match (f.first, f.u, f.last_update_id) {
            // Futures: `pu` links each event to the previous one.
            (Some(first), Some(id), _) => Some(Sequence {
                id,
                previous: f.pu.or(first.checked_sub(1)),
            }),
            (None, None, Some(id)) => Some(growing(id)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn ids_of_each_numbered_stream_and_none_for_the_rest() {
        let seq = |id, previous| Some(Sequence { id, previous });
        let fut = raw(r#"{"e":"depthUpdate","U":157,"u":160,"pu":149,"b":[],"a":[]}"#);
        assert_eq!(update_id("btcusdt@depth", &fut), seq(160, Some(149)));
        assert_eq!(update_id("depthUpdate", &fut), seq(160, Some(149)));
        let partial = raw(r#"{"lastUpdateId":160,"bids":[],"asks":[]}"#);
        assert_eq!(
            update_id("btcusdt@depth5@100ms", &partial),
            seq(160, Some(159))
        );
        assert_eq!(
            update_id("btcusdt@trade", &raw(r#"{"e":"trade","t":12345}"#)),
            seq(12345, Some(12344))
        );
        assert_eq!(
            update_id("btcusdt@aggTrade", &raw(r#"{"e":"aggTrade","a":5,"f":1}"#)),
            seq(5, Some(4))
        );
        let ticker =
            raw(r#"{"u":400900217,"s":"BNBUSDT","b":"25.35","B":"31.2","a":"25.36","A":"40.66"}"#);
        assert_eq!(
            update_id("bnbusdt@bookTicker", &ticker),
            seq(400900217, Some(400900216))
        );
        assert_eq!(
            update_id(
                "btcusdt@markPrice",
                &raw(r#"{"e":"markPriceUpdate","p":"1"}"#)
            ),
            None
        );
        assert_eq!(update_id("btcusdt@trade", &raw(r#"{"e":"trade"}"#)), None);
    }
}
