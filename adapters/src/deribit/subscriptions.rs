//! Channel subscriptions: which channels are private, the (un)subscribe
//! requests, and which channels a result confirms.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use wsnova_core::session::OutgoingRequest;

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

/// Whether a channel needs authentication: `user.*` channels, channels with
/// the `raw` interval (`book.BTC-PERPETUAL.raw`, `trades.ETH-PERPETUAL.raw`),
/// and channels starting with one of the `extra` prefixes.
pub(super) fn is_private(channel: &str, extra: &[String]) -> bool {
    channel.starts_with("user.")
        || channel.ends_with(".raw")
        || extra.iter().any(|p| channel.starts_with(p.as_str()))
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
