//! The [`Adapter`] implementation: the envelope, the stream control
//! methods, and classification (in [`classify`](super::classify)).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::value::RawValue;
use wsnova_core::session::{
    Adapter, Inbound, OutgoingRequest, RateClass, RateLimitConfig, RequestId, Sequence,
};

use super::{Binance, classify};

/// `SUBSCRIBE`.
pub(super) const SUBSCRIBE: &str = "SUBSCRIBE";
/// `UNSUBSCRIBE`.
pub(super) const UNSUBSCRIBE: &str = "UNSUBSCRIBE";

/// `METHOD ["stream", …]`.
fn streams_request(method: &str, streams: &[String]) -> OutgoingRequest {
    #[derive(Serialize)]
    struct Params<'a>(&'a [String]);
    // Serializing strings cannot fail.
    OutgoingRequest::new(
        method,
        serde_json::to_string(&Params(streams)).unwrap_or_default(),
    )
}

impl Adapter for Binance {
    /// Binance's incoming-message limit per connection, on by default
    /// ([`Binance::rate_limit`], queue of [`DEFAULT_QUEUE`](super::DEFAULT_QUEUE));
    /// `RateLimits::off()` in the configuration lifts it.
    fn default_rate_limits(&self) -> Vec<(RateClass, RateLimitConfig)> {
        vec![(RateClass::DEFAULT, self.rate_limit(super::DEFAULT_QUEUE))]
    }

    /// `{"id":n,"method":…,"params":…}`: the streams' control messages and
    /// the WebSocket API's requests share it; `params` is left out when
    /// empty (`LIST_SUBSCRIPTIONS`, `time`).
    fn encode_request(&self, id: RequestId, method: &str, params: &str, out: &mut String) {
        let _ = write!(out, r#"{{"id":{},"method":"#, id.0);
        out.push_str(&serde_json::to_string(method).unwrap_or_else(|_| "\"\"".into()));
        if !params.is_empty() {
            out.push_str(r#","params":"#);
            out.push_str(params);
        }
        out.push('}');
    }

    fn classify<'a>(&self, text: &'a str) -> Inbound<'a> {
        classify::classify(text)
    }

    fn subscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        Some(streams_request(SUBSCRIBE, channels))
    }

    fn unsubscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        Some(streams_request(UNSUBSCRIBE, channels))
    }

    /// Binance answers a whole (un)subscribe with `null` or an error: a
    /// `null` result confirms every stream asked for.
    fn confirmed_channels(&self, requested: &[String], _result: &str) -> Vec<String> {
        requested.to_vec()
    }

    /// Every message counts once against the per-connection message limit.
    fn cost(&self, _method: &str) -> u64 {
        1
    }

    /// The events' own update ids ([`update_id`](super::update_id)), for a
    /// pool's deduplication across a rotation; `sequence` stays `None`, so
    /// a jump never makes the session resubscribe.
    fn update_id(&self, channel: &str, data: &RawValue) -> Option<Sequence> {
        super::ids::update_id(channel, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_as_binance_documents_them() {
        let b = Binance::spot();
        let mut out = String::new();
        let sub = b
            .subscribe_request(&["btcusdt@aggTrade".into(), "btcusdt@depth".into()], false)
            .unwrap();
        b.encode_request(RequestId(1), &sub.method, &sub.params, &mut out);
        assert_eq!(
            out,
            r#"{"id":1,"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"]}"#
        );
        out.clear();
        b.encode_request(RequestId(3), "LIST_SUBSCRIPTIONS", "", &mut out);
        assert_eq!(out, r#"{"id":3,"method":"LIST_SUBSCRIPTIONS"}"#);
        let unsub = b
            .unsubscribe_request(&["btcusdt@depth".into()], false)
            .unwrap();
        assert_eq!(
            (unsub.method.as_str(), unsub.params.as_str()),
            ("UNSUBSCRIBE", r#"["btcusdt@depth"]"#)
        );
        assert_eq!(b.confirmed_channels(&["a".into()], "null"), ["a"]);
    }
}
