//! [`Deribit`]: the adapter for Deribit's API v2 over WebSocket.
//!
//! - **Envelope**: JSON-RPC 2.0 with named params. Responses are matched by
//!   id; `usIn`/`usOut`/`usDiff` may be numbers or strings ([`ServerTimes`]
//!   reads them from raw text). An error `{code, message, data}` becomes
//!   `RequestError::Rejected(RpcError)`: read it with [`code`] or
//!   [`DeribitError`] and the [`codes`].
//! - **Auth** with the session's `Credentials`, on every (re)connect:
//!   `client_credentials` (default) or `client_signature`
//!   ([`AuthMethod::Signature`], HMAC-SHA256, see [`signature`]). The token's
//!   `expires_in` is reported, and the session refreshes it with the
//!   `refresh_token` grant before it expires. A request refused with 13009
//!   (`unauthorized` as documented, or `invalid_token`) while the session
//!   holds a token is sent once more after a refresh; 13004
//!   `invalid_credentials` is fatal (no reconnect loop).
//! - **Heartbeat**: with [`with_heartbeat`](Deribit::with_heartbeat),
//!   `public/set_heartbeat` goes out on every connect; each `test_request`
//!   is answered with `public/test` at once (no queue, no rate limit).
//! - **Subscriptions**: `public/subscribe` or `private/subscribe` by channel
//!   (the account's channels — `user.*`, Block RFQ maker/taker, block trade
//!   confirmations — and `raw`-interval channels need auth); only the
//!   channels in the result list count as confirmed. The session splits
//!   every (un)subscribe, replays included, into batches under Deribit's
//!   frame limit and subscribe rate ([`SUBSCRIBE_LIMITS`]). Notifications
//!   carry the channel and a borrowed slice of `data`.
//! - **Order books**: `book.*` notifications report `change_id` /
//!   `prev_change_id`; on a gap the session emits `Event::Gap` and
//!   resubscribes the channel for a fresh snapshot ([`BookUpdate`]).
//! - **Rate limits**, on by default: two classes, each with its own bucket
//!   and queue ([`Credits`]): [`MATCHING_ENGINE`] (orders, edits, cancels;
//!   the account's [`Tier`], default the starting Tier 4: 5 per second,
//!   bursts of 20; set yours with [`Deribit::with_tier`]) and
//!   [`NON_MATCHING_ENGINE`] (500 credits a call from 50,000, 10,000 per
//!   second). Orders never wait behind market data. 10028
//!   `too_many_requests` ends the session, as Deribit does: the connection
//!   is dropped, the session reconnects after a pause
//!   ([`with_rate_limit_delay`](Deribit::with_rate_limit_delay)), restores
//!   auth and subscriptions and sends the refused request again there,
//!   never on the dead connection.
//! - **Cancel on disconnect**: [`with_cancel_on_disconnect`](Deribit::with_cancel_on_disconnect)
//!   sends `private/enable_cancel_on_disconnect` after auth on every connect
//!   ([`CancelScope::Connection`] is the server's default; a dropped
//!   connection cancels only its own orders, whatever the scope).
//! - **Logout** ([`calls::Logout`]) is terminal: the server closes the
//!   connection without cancelling orders, and the session ends
//!   (`Closed { reason: User }`) instead of reconnecting.
//! - **Typed calls**: [`calls`] (method, params and result type per call),
//!   for orders, account state and market reference data.
//! - **Server timestamps** (`usIn`/`usOut`/`usDiff`) are not part of a
//!   response's `result`; [`ServerTimes`] reads them from a raw message.
//!
//! Deribit refuses frames larger than 32 kB ([`MAX_REQUEST_BYTES`]) with
//! -32600: (un)subscribe requests are batched under it by the session; keep
//! other large params (`mass_quote`) under it too.
//!
//! ```
//! use std::time::Duration;
//! use wsnova_adapters::deribit::{AuthMethod, CancelScope, Deribit, TESTNET_URL};
//! use wsnova_core::session::{Credentials, SessionConfig};
//!
//! let adapter = Deribit::new()
//!     .with_auth_method(AuthMethod::Signature)
//!     .with_heartbeat(Duration::from_secs(30))
//!     .with_cancel_on_disconnect(CancelScope::Connection);
//! let mut config = SessionConfig::new(TESTNET_URL)?;
//! config.credentials = Some(Credentials::new("client-id", "client-secret"));
//! // Rate limits are on (Deribit's documented defaults); a bigger tier:
//! let adapter = adapter.with_tier(wsnova_adapters::deribit::Tier::Tier2);
//! // Session::new(config, adapter, now), or a driver's builder.
//! # Ok::<(), wsnova_core::wire::WireError>(())
//! ```

mod account;
mod adapter;
mod auth;
mod book;
pub mod calls;
mod classify;
mod costs;
mod error;
mod market;
mod order_params;
mod orders;
mod retry;
mod signature;
mod subscriptions;
#[cfg(test)]
mod tests;
mod types;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wsnova_core::session::{OutgoingRequest, RateLimitConfig};

pub use account::{AccountSummaries, AccountSummary, CancelOnDisconnect, Position};
pub use auth::AuthMethod;
pub use book::{
    BookAction, BookChange, BookUpdate, BookUpdateKind, GroupedBook, Level, is_book_channel,
};
pub use classify::ServerTimes;
pub use costs::{Credits, MATCHING_ENGINE, NON_MATCHING_ENGINE, Tier, is_matching_engine};
pub use error::{DeribitError, ErrorKind, code, codes};
pub use market::{
    BookSummary, Currency, IndexPrice, Locked, PlatformStatus, PublicTrade, PublicTrades,
};
pub use order_params::{Advanced, LinkedOrderType, OrderParams, OtocoOrder, TriggerFillCondition};
pub use orders::{Order, OrderPrice, OrderResult, OrderType, TimeInForce, Trade, UserTrades};
pub use signature::signature;
pub use subscriptions::SUBSCRIBE_LIMITS;
pub use types::{Direction, Greeks, Instrument, OrderBook, Stats, Ticker, Version};

/// The production endpoint.
pub const PRODUCTION_URL: &str = "wss://www.deribit.com/ws/api/v2";
/// The test network's endpoint.
pub const TESTNET_URL: &str = "wss://test.deribit.com/ws/api/v2";
/// The largest frame Deribit accepts (larger ones are refused with -32600).
pub const MAX_REQUEST_BYTES: usize = 32 * 1024;
/// The shortest heartbeat interval Deribit accepts.
pub const MIN_HEARTBEAT: Duration = Duration::from_secs(10);

/// Where a cancel-on-disconnect change applies (`scope` of
/// `private/enable_cancel_on_disconnect` and its siblings). Either way a
/// connection that drops cancels only the orders placed through it:
/// "Cancel-on-Disconnect does not affect orders created by other
/// connections" (Deribit API v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelScope {
    /// This connection only (the server's default when no scope is sent).
    Connection,
    /// The account: "every newly opened connection will start with active
    /// Cancel on Disconnect" (or inactive, when disabling).
    Account,
}

/// The Deribit adapter, configured with a builder. See the [module docs](self).
///
/// It holds no credentials (they live in `SessionConfig`), so its `Debug`
/// output has nothing secret in it.
///
/// ```
/// use wsnova_adapters::Deribit;
/// use wsnova_core::session::Adapter;
///
/// let adapter = Deribit::new();
/// assert!(adapter.is_private("user.orders.BTC-PERPETUAL.raw"));
/// assert!(adapter.is_private("book.BTC-PERPETUAL.raw"));
/// assert!(!adapter.is_private("book.BTC-PERPETUAL.100ms"));
/// let sub = adapter.subscribe_request(&["ticker.BTC-PERPETUAL.100ms".into()], false).unwrap();
/// assert_eq!(sub.method, "public/subscribe");
/// assert_eq!(sub.params, r#"{"channels":["ticker.BTC-PERPETUAL.100ms"]}"#);
/// assert_eq!((adapter.cost("public/ticker"), adapter.cost("public/subscribe")), (500, 3000));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deribit {
    auth: AuthMethod,
    scope: Option<String>,
    signature_data: String,
    heartbeat_secs: Option<u64>,
    cancel_on_disconnect: Option<CancelScope>,
    credits: Credits,
    delays: retry::Delays,
    private_prefixes: Vec<String>,
    /// `None`: Deribit's [`SUBSCRIBE_LIMITS`].
    subscribe_limits: Option<wsnova_core::session::SubscribeLimits>,
}

impl Deribit {
    /// `client_credentials` auth, no heartbeat, no cancel-on-disconnect,
    /// Deribit's default credits.
    pub fn new() -> Self {
        Self::default()
    }

    /// How to authenticate (default [`AuthMethod::ClientCredentials`]).
    pub fn with_auth_method(mut self, method: AuthMethod) -> Self {
        self.auth = method;
        self
    }

    /// The `scope` of the auth request, e.g. `"session:bot1 trade:read_write"`
    /// (the server's default is `connection`).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The `data` signed with a `client_signature` grant (default empty).
    pub fn with_signature_data(mut self, data: impl Into<String>) -> Self {
        self.signature_data = data.into();
        self
    }

    /// Sends `public/set_heartbeat` on every connect: the server then checks
    /// the connection every `interval` (whole seconds, rounded up, at least
    /// [`MIN_HEARTBEAT`]).
    pub fn with_heartbeat(mut self, interval: Duration) -> Self {
        let secs = interval.max(MIN_HEARTBEAT).as_secs_f64().ceil() as u64;
        self.heartbeat_secs = Some(secs);
        self
    }

    /// Sends `private/enable_cancel_on_disconnect` on every connect, after
    /// authentication: the server cancels the orders in `scope` when the
    /// connection drops. Needs credentials (without them the server refuses
    /// it and nothing else happens).
    pub fn with_cancel_on_disconnect(mut self, scope: CancelScope) -> Self {
        self.cancel_on_disconnect = Some(scope);
        self
    }

    /// Replaces the credit model.
    pub fn with_credits(mut self, credits: Credits) -> Self {
        self.credits = credits;
        self
    }

    /// Sets the account's matching-engine tier (default [`Tier::Tier4`]):
    /// the limit orders, edits and cancels are held to.
    ///
    /// ```
    /// use wsnova_adapters::deribit::{Deribit, MATCHING_ENGINE, Tier};
    /// use wsnova_core::session::Adapter;
    /// let adapter = Deribit::new().with_tier(Tier::Tier1);
    /// let limits = adapter.default_rate_limits();
    /// let (_, orders) = limits.iter().find(|(c, _)| *c == MATCHING_ENGINE).unwrap();
    /// assert_eq!((orders.capacity, orders.refill_amount), (100, 30));
    /// ```
    pub fn with_tier(mut self, tier: Tier) -> Self {
        self.credits.tier = tier;
        self
    }

    /// Sets the credits one method costs.
    pub fn with_cost(mut self, method: impl Into<String>, cost: u64) -> Self {
        self.credits = std::mem::take(&mut self.credits).with_cost(method, cost);
        self
    }

    /// The pause before reconnecting after 10028 `too_many_requests` ended
    /// the session (and before re-sending after 10066
    /// `too_many_concurrent_requests`); default 500 ms.
    pub fn with_rate_limit_delay(mut self, delay: Duration) -> Self {
        self.delays.rate_limited = delay;
        self
    }

    /// The wait before re-sending a request refused with 10040 `retry`, 10047
    /// `matching_engine_queue_full` or 13028 `temporarily_unavailable`
    /// (default 500 ms); `None` fails such requests instead.
    pub fn with_transient_retry(mut self, delay: Option<Duration>) -> Self {
        self.delays.transient = delay;
        self
    }

    /// The least wait before reconnecting during system maintenance
    /// (11051, HTTP 503 without `Retry-After`; default 30 s).
    pub fn with_maintenance_delay(mut self, delay: Duration) -> Self {
        self.delays.maintenance = delay;
        self
    }

    /// Channels starting with `prefix` need authentication too (besides
    /// `user.*` and `raw`-interval channels).
    pub fn with_private_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.private_prefixes.push(prefix.into());
        self
    }

    /// The credit model.
    pub fn credits(&self) -> &Credits {
        &self.credits
    }

    /// The non-matching-engine bucket with room for `queue_capacity`
    /// waiting requests: an override for
    /// [`NON_MATCHING_ENGINE`] (`RateLimits::with`); the session applies
    /// the default one by itself.
    pub fn rate_limit(&self, queue_capacity: usize) -> RateLimitConfig {
        self.credits.rate_limit(queue_capacity)
    }

    /// The heartbeat interval in seconds, if configured.
    pub fn heartbeat_interval(&self) -> Option<u64> {
        self.heartbeat_secs
    }

    /// `hex(HMAC_SHA256(secret, timestamp + "\n" + nonce + "\n" + data))`:
    /// the same as [`signature`].
    pub fn signature(secret: &str, timestamp_ms: u64, nonce: &str, data: &str) -> String {
        signature::signature(secret, timestamp_ms, nonce, data)
    }

    /// `public/unsubscribe_all` or `private/unsubscribe_all`, as a plain
    /// request. The session does not track it: prefer `Session::unsubscribe`.
    pub fn unsubscribe_all_request(&self, private: bool) -> OutgoingRequest {
        subscriptions::unsubscribe_all(private)
    }
}
