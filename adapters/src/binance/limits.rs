//! What one Binance connection may do, as data a pool reads.
//!
//! Binance's "WebSocket Limits" (spot `web-socket-streams.md`; USD-M futures
//! "Websocket Market Streams"): a connection is valid for 24 hours; it may
//! listen to at most 1024 streams; the server counts incoming messages
//! (pings, pongs and JSON control messages) and disconnects a connection
//! that sends more than 5 per second (futures: 10); an IP may open at most
//! 300 connections per 5 minutes. The server pings every 20 s and expects a
//! pong within a minute (futures: every 3 minutes, pong within 10 minutes).

use std::time::Duration;

use wsnova_core::pool::PoolLimits;
use wsnova_core::session::RateLimitConfig;

use super::Market;

/// Per-connection limits of a Binance endpoint.
///
/// ```
/// use std::time::Duration;
/// use wsnova_adapters::binance::{ConnectionLimits, Market};
/// let spot = ConnectionLimits::for_market(Market::Spot);
/// assert_eq!(spot.lifetime, Duration::from_secs(24 * 3600));
/// assert_eq!((spot.connections_per_window, spot.connection_window), (300, Duration::from_secs(300)));
/// assert_eq!(spot.server_ping_interval, Duration::from_secs(20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Streams one connection may listen to.
    pub streams_per_connection: usize,
    /// Incoming messages (from the client) per second before the server
    /// disconnects; pings and pongs count.
    pub messages_per_second: u32,
    /// New connections per IP within [`connection_window`](Self::connection_window).
    pub connections_per_window: u32,
    /// The window of [`connections_per_window`](Self::connections_per_window).
    pub connection_window: Duration,
    /// When the server cuts a connection, however healthy.
    pub lifetime: Duration,
    /// How often the server pings.
    pub server_ping_interval: Duration,
    /// How long the server waits for the pong.
    pub pong_deadline: Duration,
}

/// How long before Binance's 24 h cut a pool opens the replacement by
/// default ([`Binance::pool_limits`](super::Binance::pool_limits)).
pub const ROTATION_MARGIN: Duration = Duration::from_secs(10 * 60);

impl ConnectionLimits {
    /// These limits as a [`PoolLimits`]: streams per connection; (un)subscribe
    /// messages per second one under the incoming-message limit (the pong to
    /// the server's ping counts too); connections per window; the lifetime,
    /// with the replacement opened `rotation_margin` before the cut.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_adapters::binance::ConnectionLimits;
    /// let pool = ConnectionLimits::SPOT.pool_limits(Duration::from_secs(60));
    /// assert_eq!(pool.max_streams_per_connection, Some(1024));
    /// assert_eq!(pool.max_subscribe_messages_per_second, Some(4));
    /// assert_eq!((pool.max_new_connections, pool.per_window), (Some(300), Duration::from_secs(300)));
    /// assert_eq!(pool.rotate_after(), Some(Duration::from_secs(24 * 3600 - 60)));
    /// ```
    pub fn pool_limits(&self, rotation_margin: Duration) -> PoolLimits {
        PoolLimits {
            max_streams_per_connection: Some(self.streams_per_connection),
            max_subscribe_messages_per_second: Some(
                self.messages_per_second.saturating_sub(1).max(1),
            ),
            max_new_connections: Some(self.connections_per_window),
            per_window: self.connection_window,
            connection_lifetime: Some(self.lifetime),
            rotation_margin,
        }
    }

    /// Spot market streams.
    pub const SPOT: ConnectionLimits = ConnectionLimits {
        streams_per_connection: 1024,
        messages_per_second: 5,
        connections_per_window: 300,
        connection_window: Duration::from_secs(5 * 60),
        lifetime: Duration::from_secs(24 * 60 * 60),
        server_ping_interval: Duration::from_secs(20),
        pong_deadline: Duration::from_secs(60),
    };

    /// USD-M futures market streams.
    pub const USD_M: ConnectionLimits = ConnectionLimits {
        streams_per_connection: 1024,
        messages_per_second: 10,
        connections_per_window: 300,
        connection_window: Duration::from_secs(5 * 60),
        lifetime: Duration::from_secs(24 * 60 * 60),
        server_ping_interval: Duration::from_secs(3 * 60),
        pong_deadline: Duration::from_secs(10 * 60),
    };

    /// The limits of `market`.
    pub fn for_market(market: Market) -> ConnectionLimits {
        match market {
            Market::Spot => Self::SPOT,
            Market::UsdM => Self::USD_M,
        }
    }

    /// A token bucket for the client's requests that keeps every sliding
    /// second under the limit with one message to spare (for a pong): a
    /// bucket of capacity `c` refilled at `r` per second lets at most
    /// `c + r` messages out in any one second, so `c + r = limit - 1`.
    /// Spot: bursts of 2, 2 more per second (at most 4 in any second).
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_adapters::binance::ConnectionLimits;
    /// let bucket = ConnectionLimits::SPOT.rate_limit(64);
    /// assert_eq!((bucket.capacity, bucket.refill_amount), (2, 2));
    /// assert_eq!(bucket.refill_interval, Duration::from_secs(1));
    /// let futures = ConnectionLimits::USD_M.rate_limit(64);
    /// assert!(futures.capacity + futures.refill_amount < 10);
    /// ```
    pub fn rate_limit(&self, queue_capacity: usize) -> RateLimitConfig {
        let budget = u64::from(self.messages_per_second.saturating_sub(1).max(2));
        let capacity = budget / 2;
        RateLimitConfig {
            capacity,
            refill_amount: budget - capacity,
            refill_interval: Duration::from_secs(1),
            queue_capacity,
        }
    }
}
