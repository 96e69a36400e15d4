//! Channel subscriptions: which channels are private, the (un)subscribe
//! requests, and which channels a result confirms.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use wsnova_core::session::{OutgoingRequest, SubscribeLimits};

use super::Deribit;

/// `public/subscribe`.
pub(super) const PUBLIC_SUBSCRIBE: &str = "public/subscribe";
/// `private/subscribe`.
pub(super) const PRIVATE_SUBSCRIBE: &str = "private/subscribe";
/// `public/unsubscribe`.
pub(super) const PUBLIC_UNSUBSCRIBE: &str = "public/unsubscribe";
/// `private/unsubscribe`.
pub(super) const PRIVATE_UNSUBSCRIBE: &str = "private/unsubscribe";
/// `public/unsubscribe_all`.
pub(super) const PUBLIC_UNSUBSCRIBE_ALL: &str = "public/unsubscribe_all";
/// `private/unsubscribe_all`.
pub(super) const PRIVATE_UNSUBSCRIBE_ALL: &str = "private/unsubscribe_all";

/// Prefixes of the channels that carry one account's data (Deribit's
/// "Subscription Channels" reference, sections User, Block RFQ and Block
/// Trade): `user.*` (orders, trades, changes, portfolio, access log, lock,
/// MMP triggers, …), the Block RFQ maker and taker channels (scope
/// `block_rfq:read`; `block_rfq.trades.*` is public market data), and
/// block trade confirmations.
const PRIVATE_PREFIXES: &[&str] = &[
    "user.",
    "block_rfq.maker.",
    "block_rfq.taker.",
    "block_trade_confirmations.",
];

/// Whether a channel needs authentication, so it goes through
/// `private/subscribe` after `public/auth`: the account's own channels
/// ([`PRIVATE_PREFIXES`], and `block_trade_confirmations` itself), channels
/// with the `raw` interval (`book.BTC-PERPETUAL.raw`, `trades.ETH-PERPETUAL.raw`:
/// refused with 13778 without authentication), and channels starting with
/// one of the `extra` prefixes.
pub(super) fn is_private(channel: &str, extra: &[String]) -> bool {
    PRIVATE_PREFIXES.iter().any(|p| channel.starts_with(p))
        || channel == "block_trade_confirmations"
        || channel.ends_with(".raw")
        || extra.iter().any(|p| channel.starts_with(p.as_str()))
}

/// Deribit's limits on (un)subscribe requests, as the session batches them:
///
/// - **frames**: Deribit refuses messages over 32 kB ([`MAX_REQUEST_BYTES`](super::MAX_REQUEST_BYTES))
///   with -32600 and closes the connection; batches stay under 30 kB, a
///   margin for a proxy or a server that counts differently;
/// - **requests per second**: `public/subscribe` and `private/subscribe`
///   have their own sustained rate of about 3.3 requests per second
///   (OpenAPI description of both methods; 3,000 of the 10,000 credits
///   refilled per second): at most 3 leave in any second;
/// - **channels per request**: Deribit documents no such limit.
///
/// Change them with [`Deribit::with_subscribe_limits`].
///
/// ```
/// use wsnova_adapters::deribit::{Deribit, SUBSCRIBE_LIMITS};
/// use wsnova_core::session::Adapter;
/// assert_eq!(Deribit::new().subscribe_limits(), SUBSCRIBE_LIMITS);
/// assert_eq!(SUBSCRIBE_LIMITS.max_frame_bytes, Some(30 * 1024));
/// assert_eq!(SUBSCRIBE_LIMITS.max_requests_per_second, Some(3));
/// ```
pub const SUBSCRIBE_LIMITS: SubscribeLimits = SubscribeLimits::UNLIMITED
    .with_max_frame_bytes(30 * 1024)
    .with_max_requests_per_second(3);

impl Deribit {
    /// Replaces Deribit's [`SUBSCRIBE_LIMITS`] (e.g. for a proxy with a
    /// smaller frame limit, or a share of the account's subscribe rate when
    /// several connections subscribe at once).
    ///
    /// ```
    /// use wsnova_adapters::deribit::{Deribit, SUBSCRIBE_LIMITS};
    /// use wsnova_core::session::Adapter;
    /// let adapter = Deribit::new().with_subscribe_limits(SUBSCRIBE_LIMITS.with_max_requests_per_second(1));
    /// assert_eq!(adapter.subscribe_limits().max_requests_per_second, Some(1));
    /// ```
    pub fn with_subscribe_limits(mut self, limits: SubscribeLimits) -> Self {
        self.subscribe_limits = Some(limits);
        self
    }

    /// The limits the session batches (un)subscribe requests by.
    pub(super) fn limits(&self) -> SubscribeLimits {
        self.subscribe_limits.unwrap_or(SUBSCRIBE_LIMITS)
    }
}

/// `{method} {"channels": [...]}`.
pub(super) fn channels_request(method: &str, channels: &[String]) -> OutgoingRequest {
    #[derive(Serialize)]
    struct Params<'a> {
        channels: &'a [String],
    }
    // Serializing strings cannot fail.
    let params = serde_json::to_string(&Params { channels }).unwrap_or_default();
    OutgoingRequest::new(method, params)
}

/// A channel name from a result, borrowed unless it has escapes.
#[derive(Deserialize)]
struct Channel<'a>(#[serde(borrow)] Cow<'a, str>);

/// The requested channels the result list names, in the order requested.
/// Deribit answers with the channels it subscribed: a channel it left out
/// (unknown instrument, not allowed) is not confirmed. A result that is not
/// a list of strings confirms nothing.
pub(super) fn confirmed(requested: &[String], result: &str) -> Vec<String> {
    let Ok(returned) = serde_json::from_str::<Vec<Channel<'_>>>(result) else {
        return Vec::new();
    };
    requested
        .iter()
        .filter(|r| returned.iter().any(|c| c.0 == r.as_str()))
        .cloned()
        .collect()
}

/// `public|private/unsubscribe_all {}`.
pub(super) fn unsubscribe_all(private: bool) -> OutgoingRequest {
    let method = if private {
        PRIVATE_UNSUBSCRIBE_ALL
    } else {
        PUBLIC_UNSUBSCRIBE_ALL
    };
    OutgoingRequest::new(method, "{}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsnova_core::session::{Adapter, RequestId};

    #[test]
    fn account_channels_are_private_wherever_they_are_named() {
        for private in [
            "user.trades.BTC-PERPETUAL.100ms",
            "user.mmp_trigger.btc_usd",
            "user.access_log",
            "user.lock",
            "block_rfq.maker.BTC",
            "block_rfq.maker.quotes.any",
            "block_rfq.taker.ETH",
            "block_trade_confirmations",
            "block_trade_confirmations.BTC",
        ] {
            assert!(is_private(private, &[]), "{private}");
        }
        for public in [
            "block_rfq.trades.BTC",
            "incremental_ticker.BTC-PERPETUAL",
            "chart.trades.BTC-PERPETUAL.1",
            "deribit_volatility_index.btc_usd",
            "instrument.state.any.any",
        ] {
            assert!(!is_private(public, &[]), "{public}");
        }
    }

    #[test]
    fn a_full_batch_of_long_channels_stays_under_deribits_frame_limit() {
        let adapter = Deribit::new();
        let limit = adapter.subscribe_limits().max_frame_bytes.unwrap();
        assert!(limit < super::super::MAX_REQUEST_BYTES, "a margin is left");
        // The longest id the session can give, and long option names.
        let channels: Vec<String> = (0..limit / 40)
            .map(|i| format!("book.BTC-27DEC26-{:06}-C.none.20.100ms", i))
            .collect();
        let request = adapter.subscribe_request(&channels, false).unwrap();
        let mut text = String::new();
        adapter.encode_request(
            RequestId(u64::MAX),
            &request.method,
            &request.params,
            &mut text,
        );
        assert!(
            text.len() > limit,
            "this set needs two batches: {}",
            text.len()
        );
    }
}
