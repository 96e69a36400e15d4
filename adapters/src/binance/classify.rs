//! Reading Binance's messages in one borrowed pass: responses of the market
//! streams' control methods and of the WebSocket API, and stream events
//! (combined-wrapped or raw).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use wsnova_core::session::{Inbound, RawRpcError, RequestId};

use crate::json_rpc::envelope::present;

/// Every field any Binance message may carry at the top level; the rest are
/// skipped whatever their type.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    id: Option<u64>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<ErrorBody<'a>>,
    // The flat error form of the streams' documentation: `{"code":2,"msg":…,"id":1}`.
    #[serde(default)]
    code: Option<i64>,
    #[serde(borrow, default)]
    msg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stream: Option<&'a str>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    e: Option<&'a str>,
    #[serde(borrow, default)]
    s: Option<&'a str>,
    #[serde(default, rename = "lastUpdateId")]
    last_update_id: Option<u64>,
    #[serde(default)]
    u: Option<u64>,
}

/// `{"code":…,"msg":…}`.
#[derive(Deserialize)]
struct ErrorBody<'a> {
    code: i64,
    #[serde(borrow, default)]
    msg: Cow<'a, str>,
}

fn rpc_error<'a>(code: i64, msg: &str) -> RawRpcError<'a> {
    RawRpcError {
        code,
        message: msg.to_owned(),
        data: None,
    }
}

/// Classifies a Binance message:
///
/// - `{"result":…,"id":n}` (streams) and `{"id":n,"status":200,"result":…}`
///   (WebSocket API) are responses; `{"error":{"code","msg"},"id":n}` and
///   the flat `{"code","msg","id":n}` are error responses (`msg` becomes the
///   error's `message`).
/// - `{"stream":name,"data":event}` (combined endpoint) is a notification on
///   `name`.
/// - A raw event is a notification whose channel is its event type (`e`:
///   `trade`, `aggTrade`, `depthUpdate`, `kline`, `markPriceUpdate`,
///   `bookTicker`), `bookTicker` for spot's book ticker (no `e`), or `depth`
///   for a partial book (`lastUpdateId`, no `e`); the data is the whole
///   event. Raw events do not carry their stream's name: derive it with
///   [`stream_of`], or use the combined endpoint.
///
/// ```
/// use wsnova_adapters::binance::classify;
/// use wsnova_core::session::{Inbound, RequestId};
/// match classify(r#"{"error":{"code":2,"msg":"Invalid request"},"id":7}"#) {
///     Inbound::Response { id, outcome: Err(e) } => assert_eq!((id, e.code, e.message.as_str()), (RequestId(7), 2, "Invalid request")),
///     other => panic!("{other:?}"),
/// }
/// match classify(r#"{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT"}}"#) {
///     Inbound::Notification { channel, .. } => assert_eq!(channel, "btcusdt@trade"),
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn classify(text: &str) -> Inbound<'_> {
    if !text.trim_start().starts_with('{') {
        return Inbound::Other;
    }
    let Ok(env) = serde_json::from_str::<Envelope<'_>>(text) else {
        return Inbound::Other;
    };
    if let Some(id) = env.id {
        if let Some(error) = env.error {
            return Inbound::Response {
                id: RequestId(id),
                outcome: Err(rpc_error(error.code, &error.msg)),
            };
        }
        if let (Some(code), Some(msg)) = (env.code, env.msg.as_deref()) {
            return Inbound::Response {
                id: RequestId(id),
                outcome: Err(rpc_error(code, msg)),
            };
        }
        if let Some(result) = env.result {
            return Inbound::Response {
                id: RequestId(id),
                outcome: Ok(result),
            };
        }
        return Inbound::Other;
    }
    if let (Some(stream), Some(data)) = (env.stream, env.data) {
        return Inbound::Notification {
            channel: stream,
            data,
        };
    }
    let channel = match (env.e, env.s) {
        (Some(kind), Some(_)) => kind,
        // Spot's book ticker has no event type: `{"u":…,"s":…,"b":…,"a":…}`.
        (None, Some(_)) if env.u.is_some() => "bookTicker",
        (None, None) if env.last_update_id.is_some() => "depth",
        _ => return Inbound::Other,
    };
    match serde_json::from_str::<&RawValue>(text) {
        Ok(data) => Inbound::Notification { channel, data },
        Err(_) => Inbound::Other,
    }
}

/// The stream name a raw event belongs to, as far as the event tells:
/// `<symbol>@trade`, `@aggTrade`, `@bookTicker`, `@depth`, `@kline_<interval>`,
/// `@markPrice`, with the symbol in lower case. Update-speed suffixes
/// (`@100ms`, `@1s`) are not in the payload and are not guessed. `None` for
/// events without a symbol (spot partial depth) or of other kinds.
///
/// ```
/// use wsnova_adapters::binance::stream_of;
/// let kline = r#"{"e":"kline","E":1,"s":"BNBBTC","k":{"i":"1m"}}"#;
/// assert_eq!(stream_of(kline).as_deref(), Some("bnbbtc@kline_1m"));
/// assert_eq!(stream_of(r#"{"e":"depthUpdate","s":"BTCUSDT"}"#).as_deref(), Some("btcusdt@depth"));
/// ```
pub fn stream_of(event: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Kline<'a> {
        #[serde(borrow)]
        i: &'a str,
    }
    #[derive(Deserialize)]
    struct Event<'a> {
        #[serde(borrow, default)]
        e: Option<&'a str>,
        #[serde(borrow)]
        s: &'a str,
        #[serde(borrow, default)]
        k: Option<Kline<'a>>,
        #[serde(default)]
        u: Option<u64>,
    }
    let ev: Event<'_> = serde_json::from_str(event).ok()?;
    let symbol = ev.s.to_ascii_lowercase();
    let kind = match (ev.e, ev.k) {
        (Some("kline"), Some(k)) => format!("kline_{}", k.i),
        (Some("depthUpdate"), _) => "depth".into(),
        (Some("markPriceUpdate"), _) => "markPrice".into(),
        (Some(kind @ ("trade" | "aggTrade" | "bookTicker")), _) => kind.into(),
        (None, _) if ev.u.is_some() => "bookTicker".into(),
        _ => return None,
    };
    Some(format!("{symbol}@{kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(text: &str) -> (u64, Result<String, (i64, String)>) {
        match classify(text) {
            Inbound::Response { id, outcome } => (
                id.0,
                outcome
                    .map(|r| r.get().to_owned())
                    .map_err(|e| (e.code, e.message)),
            ),
            other => panic!("{text}: {other:?}"),
        }
    }

    fn notification(text: &str) -> (String, String) {
        match classify(text) {
            Inbound::Notification { channel, data } => (channel.to_owned(), data.get().to_owned()),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn stream_control_responses_and_errors() {
        assert_eq!(
            response(r#"{"result":null,"id":1}"#),
            (1, Ok("null".into()))
        );
        assert_eq!(
            response(r#"{"result":["btcusdt@aggTrade"],"id":3}"#),
            (3, Ok(r#"["btcusdt@aggTrade"]"#.into()))
        );
        assert_eq!(
            response(r#"{"error":{"code":2,"msg":"Invalid request: too many parameters"},"id":4}"#),
            (4, Err((2, "Invalid request: too many parameters".into())))
        );
        assert_eq!(
            response(r#"{"code":0,"msg":"Unknown property","id":5}"#),
            (5, Err((0, "Unknown property".into())))
        );
    }

    #[test]
    fn ws_api_responses_and_errors() {
        assert_eq!(
            response(
                r#"{"id":9,"status":200,"result":{"serverTime":1656400526260},"rateLimits":[]}"#
            ),
            (9, Ok(r#"{"serverTime":1656400526260}"#.into()))
        );
        assert_eq!(
            response(r#"{"id":10,"status":400,"error":{"code":-1121,"msg":"Invalid symbol."}}"#),
            (10, Err((-1121, "Invalid symbol.".into())))
        );
    }

    #[test]
    fn combined_and_raw_events() {
        let (channel, data) =
            notification(r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","U":1}}"#);
        assert_eq!(
            (channel.as_str(), data.as_str()),
            ("bnbbtc@depth@100ms", r#"{"e":"depthUpdate","U":1}"#)
        );
        let raw = r#"{"e":"trade","E":1,"s":"BNBBTC","t":12345}"#;
        assert_eq!(notification(raw), ("trade".into(), raw.into()));
        let ticker =
            r#"{"u":400900217,"s":"BNBUSDT","b":"25.35","B":"31.21","a":"25.36","A":"40.66"}"#;
        assert_eq!(notification(ticker).0, "bookTicker");
        assert_eq!(stream_of(ticker).as_deref(), Some("bnbusdt@bookTicker"));
        let partial = r#"{"lastUpdateId":160,"bids":[],"asks":[]}"#;
        assert_eq!(notification(partial).0, "depth");
        assert_eq!(stream_of(partial), None);
    }

    #[test]
    fn garbage_is_other() {
        for text in [
            "",
            "[1]",
            "null",
            "{",
            r#"{"id":"abc","result":1}"#,
            r#"{"id":1}"#,
            r#"{"x":1}"#,
        ] {
            assert!(matches!(classify(text), Inbound::Other), "{text}");
        }
    }
}
