//! [`Binance`]: the adapter for Binance's WebSocket market streams (spot and
//! USD-M futures) and its WebSocket API (`ws-api`).
//!
//! - **Market streams** (`wss://stream.binance.com:9443`, futures
//!   `wss://fstream.binance.com`): a raw endpoint `/ws/<stream>` sends each
//!   event as it is; a combined endpoint `/stream?streams=a/b` wraps it in
//!   `{"stream":…,"data":…}` (see [`raw_url`], [`combined_url`]). Streams are
//!   added and removed live with `SUBSCRIBE` / `UNSUBSCRIBE`
//!   (`{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}`, answered
//!   `{"result":null,"id":1}`); `LIST_SUBSCRIPTIONS` is a plain request.
//!   Errors come as `{"error":{"code":2,"msg":…},"id":1}` (or, in older
//!   servers, flat `{"code":…,"msg":…,"id":…}`) and become
//!   `SubscriptionFailed` / `RequestError::Rejected` with `code` and `msg`.
//!   Notifications carry the stream name: the combined wrapper's `stream`, or
//!   on the raw endpoint a name derived from the event (see [`classify`]).
//! - **Server pings** (spot every 20 s with a one-minute pong deadline,
//!   futures every 3 minutes with 10 minutes to answer): answered by the
//!   core's WebSocket layer with a pong echoing the payload (RFC 6455
//!   §5.5.3); nothing to configure here.
//! - **Limits** a pool must respect: [`ConnectionLimits`] per market
//!   (1024 streams, 5 — futures 10 — incoming messages per second, 300
//!   connections per 5 minutes per IP, 24 h lifetime). Pace subscribes with
//!   [`Binance::rate_limit`] as `SessionConfig::rate_limit`.
//! - **WebSocket API** (`wss://ws-api.binance.com:443/ws-api/v3`): requests
//!   `{"id":…,"method":…,"params":{…}}` answered `{"id":…,"status":200,"result":…}`;
//!   typed calls in [`api`] (`time`, `exchangeInfo`, `depth`, `order.place`,
//!   `order.cancel`), signed with HMAC-SHA256 or Ed25519 keys ([`Signer`]).
//! - **Typed stream messages** in [`types`], and a sans-IO local order book
//!   ([`OrderBook`]) kept from a `depth` snapshot plus diff-depth events.
//!
//! ```
//! use wsnova_adapters::binance::{self, Binance, Market};
//! use wsnova_core::session::{Adapter, SessionConfig};
//!
//! let adapter = Binance::new(Market::Spot);
//! let url = binance::combined_url(binance::SPOT_STREAM_URL, &["btcusdt@trade"]);
//! assert_eq!(url, "wss://stream.binance.com:9443/stream?streams=btcusdt@trade");
//! let mut config = SessionConfig::new(&url)?;
//! // Binance's 5 messages a second are kept by default; lifting them:
//! config.rate_limits = wsnova_core::session::RateLimits::off();
//! let sub = adapter.subscribe_request(&["btcusdt@depth@100ms".into()], false).unwrap();
//! assert_eq!((sub.method.as_str(), sub.params.as_str()), ("SUBSCRIBE", r#"["btcusdt@depth@100ms"]"#));
//! # Ok::<(), wsnova_core::wire::WireError>(())
//! ```

/// Messages the default rate limit holds while they wait for tokens.
pub const DEFAULT_QUEUE: usize = 4096;

mod adapter;
pub mod api;
pub mod book;
mod classify;
mod ids;
mod limits;
mod price;
mod sign;
pub mod types;

pub use book::{BookError, BookEvent, DepthUpdate, OrderBook, Snapshot};
pub use classify::{classify, stream_of};
pub use ids::update_id;
pub use limits::{ConnectionLimits, ROTATION_MARGIN};
pub use price::{BadDecimal, Decimal};
pub use sign::{ApiKey, SignError, Signer};

use wsnova_core::session::RateLimitConfig;

/// Spot market streams.
pub const SPOT_STREAM_URL: &str = "wss://stream.binance.com:9443";
/// USD-M futures market streams.
pub const FUTURES_STREAM_URL: &str = "wss://fstream.binance.com";
/// The spot WebSocket API.
pub const SPOT_WS_API_URL: &str = "wss://ws-api.binance.com:443/ws-api/v3";
/// The USD-M futures WebSocket API.
pub const FUTURES_WS_API_URL: &str = "wss://ws-fapi.binance.com/ws-fapi/v1";

/// Which Binance market a connection belongs to: their limits and depth
/// sequencing differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Market {
    /// Spot (`stream.binance.com`).
    #[default]
    Spot,
    /// USD-M futures (`fstream.binance.com`).
    UsdM,
}

/// The raw-stream URL `base/ws/<stream>` (several streams joined by `/`;
/// none: `base/ws`, subscribe later).
///
/// ```
/// use wsnova_adapters::binance::raw_url;
/// assert_eq!(raw_url("ws://127.0.0.1:1", &["btcusdt@trade"]), "ws://127.0.0.1:1/ws/btcusdt@trade");
/// assert_eq!(raw_url("ws://127.0.0.1:1", &[]), "ws://127.0.0.1:1/ws");
/// ```
pub fn raw_url(base: &str, streams: &[&str]) -> String {
    let base = base.trim_end_matches('/');
    if streams.is_empty() {
        format!("{base}/ws")
    } else {
        format!("{base}/ws/{}", streams.join("/"))
    }
}

/// The combined-stream URL `base/stream?streams=a/b` (none: `base/stream`).
///
/// ```
/// use wsnova_adapters::binance::combined_url;
/// assert_eq!(combined_url("ws://h", &["a@trade", "b@trade"]), "ws://h/stream?streams=a@trade/b@trade");
/// ```
pub fn combined_url(base: &str, streams: &[&str]) -> String {
    let base = base.trim_end_matches('/');
    if streams.is_empty() {
        format!("{base}/stream")
    } else {
        format!("{base}/stream?streams={}", streams.join("/"))
    }
}

/// The Binance adapter. It holds no keys (signed requests are built with a
/// [`Signer`]), so its `Debug` output has nothing secret in it.
///
/// ```
/// use wsnova_adapters::binance::{Binance, Market};
/// assert_eq!(Binance::new(Market::UsdM).limits().messages_per_second, 10);
/// assert_eq!(Binance::new(Market::Spot).limits().streams_per_connection, 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Binance {
    market: Market,
}

impl Binance {
    /// The adapter for `market`'s streams and WebSocket API.
    pub fn new(market: Market) -> Self {
        Binance { market }
    }

    /// Spot.
    pub fn spot() -> Self {
        Self::new(Market::Spot)
    }

    /// USD-M futures.
    pub fn usdm() -> Self {
        Self::new(Market::UsdM)
    }

    /// The market.
    pub fn market(&self) -> Market {
        self.market
    }

    /// What one connection may do (read by a pool).
    pub fn limits(&self) -> ConnectionLimits {
        ConnectionLimits::for_market(self.market)
    }

    /// What a [`Pool`](wsnova_core::pool::Pool) (or `wsnova_tokio::PoolClient`)
    /// must respect on this market ([`ConnectionLimits::pool_limits`]), with
    /// the replacement opened [`ROTATION_MARGIN`] before the 24 h cut. For
    /// another margin: `self.limits().pool_limits(margin)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_adapters::binance::Binance;
    /// let limits = Binance::spot().pool_limits();
    /// assert_eq!(limits.max_streams_per_connection, Some(1024));
    /// assert_eq!(limits.rotate_after(), Some(Duration::from_secs(24 * 3600 - 600)));
    /// assert_eq!(Binance::usdm().pool_limits().max_subscribe_messages_per_second, Some(9));
    /// ```
    pub fn pool_limits(&self) -> wsnova_core::pool::PoolLimits {
        self.limits().pool_limits(ROTATION_MARGIN)
    }

    /// A token bucket that keeps the client's own messages within the
    /// incoming-message limit: the adapter's default (with a queue of
    /// [`DEFAULT_QUEUE`]); use this to choose another queue size.
    ///
    /// Keeps the client's own messages within the
    /// incoming-message limit, with one token of headroom per second for the
    /// pongs Binance counts too (use as `SessionConfig::rate_limit`).
    pub fn rate_limit(&self, queue_capacity: usize) -> RateLimitConfig {
        self.limits().rate_limit(queue_capacity)
    }
}
