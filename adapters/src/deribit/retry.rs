//! Refusals that pass (transient errors), refusals that end the session
//! (10028), and what follows a lost connection.

use std::time::Duration;

use wsnova_core::session::{DisconnectReason, Policy, RpcError};
use wsnova_core::wire::WireError;

use super::error::codes;

/// How long to wait before re-sending refused requests, and before
/// reconnecting during maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Delays {
    /// Before reconnecting after 10028 `too_many_requests` (the session
    /// was terminated) or an HTTP 429, and before re-sending after 10066
    /// `too_many_concurrent_requests`.
    pub(super) rate_limited: Duration,
    /// After 10040 `retry`, 10047 `matching_engine_queue_full`, 13028
    /// `temporarily_unavailable`; `None` fails those requests instead.
    pub(super) transient: Option<Duration>,
    /// At least this long before reconnecting during system maintenance.
    pub(super) maintenance: Duration,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            // 10,000 credits per second: half a second buys back ten requests.
            rate_limited: Duration::from_millis(500),
            transient: Some(Duration::from_millis(500)),
            maintenance: Duration::from_secs(30),
        }
    }
}

/// The wait before a refused request goes again on the same connection;
/// `None` when the refusal is final, or (10028) when it ended the session:
/// see [`ends_session`].
pub(super) fn retry_after(delays: &Delays, error: &RpcError) -> Option<Duration> {
    match error.code {
        codes::TOO_MANY_CONCURRENT_REQUESTS => Some(delays.rate_limited),
        codes::RETRY | codes::MATCHING_ENGINE_QUEUE_FULL | codes::TEMPORARILY_UNAVAILABLE => {
            delays.transient
        }
        _ => None,
    }
}

/// 10028 `too_many_requests`: Deribit's "Rate Limits" article: "If a
/// request arrives when no credits remain, we immediately send a
/// too_many_requests (code 10028) … and terminate the session. After a
/// disconnect, you must wait for credits to replenish and then re-establish
/// a new connection before sending additional requests." The session drops
/// the connection, waits ([`disconnect_policy`]), reconnects, restores auth
/// and subscriptions, and sends the refused request on the new connection.
pub(super) fn ends_session(error: &RpcError) -> bool {
    error.code == codes::TOO_MANY_REQUESTS
}

/// Stop when retrying cannot help (certificate errors, invalid
/// credentials); wait out maintenance (11051, HTTP 503 without
/// `Retry-After`) and rate limits (HTTP 429, a session ended by 10028);
/// otherwise reconnect with the
/// usual backoff. A server's `Retry-After` is the core's to honour
/// ([`SessionConfig`](wsnova_core::session::SessionConfig) docs): this only
/// refines what it does not cover.
pub(super) fn disconnect_policy(delays: &Delays, reason: &DisconnectReason) -> Policy {
    let maintenance = Policy::ReconnectAfter(delays.maintenance);
    match reason {
        DisconnectReason::Wire(WireError::Certificate(_)) => Policy::Stop,
        DisconnectReason::AuthFailed(message) if message.contains("invalid_credentials") => {
            Policy::Stop
        }
        DisconnectReason::AuthFailed(message) if is_maintenance(message) => maintenance,
        DisconnectReason::ServerClosed(frame) if is_maintenance(frame.reason.as_str()) => {
            maintenance
        }
        // The session was terminated for want of credits: let them refill.
        DisconnectReason::SessionEnded(error) if ends_session(error) => {
            Policy::ReconnectAfter(delays.rate_limited)
        }
        // The core waits out a `Retry-After` (either form, with jitter)
        // whatever the adapter says; without one, Deribit's own waits apply.
        DisconnectReason::Wire(WireError::UpgradeRejected {
            status,
            retry_after: None,
            ..
        }) if *status == 503 => maintenance,
        DisconnectReason::Wire(WireError::UpgradeRejected {
            status: 429,
            retry_after: None,
            ..
        }) => Policy::ReconnectAfter(delays.rate_limited),
        _ => Policy::Reconnect,
    }
}

/// Text that names Deribit's maintenance (the message or the code).
fn is_maintenance(text: &str) -> bool {
    text.contains("system_maintenance") || text.contains("11051")
}
