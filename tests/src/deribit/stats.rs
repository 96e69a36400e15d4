//! What the mock observed, for tests to assert on.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Instant;

use serde_json::Value;

/// Identifies one upgraded WebSocket connection (1, 2, 3, … in accept order).
pub type ConnId = u64;

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The client closed the connection (close frame or EOF).
    ClientClosed,
    /// A read or write failed (reset, protocol violation).
    Error,
    /// A `test_request` went unanswered.
    HeartbeatTimeout,
    /// `private/logout`.
    Logout,
    /// The client sent a message over [`max_frame_bytes`](super::MockConfig::max_frame_bytes).
    FrameTooLarge,
    /// An injected fault dropped or closed it.
    Fault,
    /// A request was refused with 10028 `too_many_requests`, which
    /// terminates the session (also when the 10028 was injected).
    RateLimited,
}

/// One upgraded connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionInfo {
    /// Its id.
    pub id: ConnId,
    /// The client's address (match it with the client socket's local address).
    pub peer: SocketAddr,
    /// When the WebSocket upgrade completed.
    pub established_at: Instant,
    /// The account its current token belongs to, if it authenticated.
    pub account: Option<String>,
    /// Its current subscriptions (emptied when it ends).
    pub subscriptions: BTreeSet<String>,
    /// The heartbeat interval it set, in seconds, if any.
    pub heartbeat_interval: Option<f64>,
    /// The cancel-on-disconnect scope, when enabled.
    pub cancel_on_disconnect: Option<String>,
    /// Why it ended; `None` while it is live.
    pub ended: Option<EndReason>,
}

/// One JSON-RPC request received.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// The connection it came on.
    pub conn: ConnId,
    /// Its `method`.
    pub method: String,
    /// Its `id`, if it had one.
    pub id: Option<Value>,
    /// Whether the connection held a valid, unexpired token at the time.
    pub authenticated: bool,
    /// When it was received.
    pub at: Instant,
}

/// An order placed through `private/buy` or `private/sell`, or created when
/// a trigger order fired (kept up to date).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderRecord {
    /// e.g. `BTC-17`.
    pub order_id: String,
    /// The connection that placed it.
    pub conn: ConnId,
    /// The account (`client_id`) it belongs to.
    pub account: String,
    /// e.g. `BTC-PERPETUAL`.
    pub instrument: String,
    /// `buy` or `sell`.
    pub direction: String,
    /// Requested amount (USD for the perpetuals).
    pub amount: f64,
    /// Filled amount.
    pub filled_amount: f64,
    /// Limit price (`None` for market orders and untriggered market-type
    /// trigger orders).
    pub price: Option<f64>,
    /// Average fill price (0 when unfilled).
    pub average_price: f64,
    /// `limit`, `market`, `stop_limit`, `stop_market`, `take_limit`,
    /// `take_market`, `market_limit` or `trailing_stop`.
    pub order_type: String,
    /// The user's label (empty if none).
    pub label: String,
    /// `open`, `filled`, `rejected`, `cancelled`, `untriggered` or
    /// `triggered`.
    pub state: String,
    /// `good_til_cancelled`, `good_til_day`, `fill_or_kill` or
    /// `immediate_or_cancel`.
    pub time_in_force: String,
    /// Post-only (never takes liquidity).
    pub post_only: bool,
    /// With `post_only`: refuse rather than re-price when it would take.
    pub reject_post_only: bool,
    /// Reduce-only (never grows the position).
    pub reduce_only: bool,
    /// `index_price`, `mark_price` or `last_price` (trigger orders).
    pub trigger: Option<String>,
    /// Trigger price (trigger orders; a trailing stop's moves with the peak).
    pub trigger_price: Option<f64>,
    /// A trailing stop's distance from the peak.
    pub trigger_offset: Option<f64>,
    /// The trigger's price when a trailing stop was placed.
    pub trigger_reference_price: Option<f64>,
    /// For an order a trigger order created: that trigger order's id.
    pub trigger_order_id: Option<String>,
    /// Why it was cancelled (`user_request`, `cancel_on_disconnect`, …).
    pub cancel_reason: Option<String>,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
    /// Last update time, ms since the epoch.
    pub updated_ms: u64,
}

/// A cancel-on-disconnect firing.
#[derive(Debug, Clone, PartialEq)]
pub struct CodFiring {
    /// The connection whose end fired it.
    pub conn: ConnId,
    /// Its account.
    pub account: String,
    /// `connection` or `account`.
    pub scope: String,
    /// Ids of the orders it cancelled.
    pub cancelled: Vec<String>,
    /// How the connection ended.
    pub reason: EndReason,
}

/// Kinds of injected faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// A connection was dropped (no close frame).
    Drop,
    /// A connection was closed with a close frame on request.
    Close,
    /// A connection stalled (half-open).
    Stall,
    /// A response was delayed.
    Delay,
    /// A new connection was refused.
    Refuse,
    /// A token was expired early.
    ExpireToken,
    /// A book change notification was lost.
    BookGap,
    /// A request was answered with an injected error.
    Error,
}

/// One injected fault, recorded when it took effect.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRecord {
    /// The connection it hit (`None`: the listener or all tokens).
    pub conn: Option<ConnId>,
    /// What it was.
    pub kind: FaultKind,
    /// When.
    pub at: Instant,
}

/// Everything the mock observed. Get a copy with
/// [`MockDeribit::stats`](super::MockDeribit::stats) or look at it in place
/// with [`MockDeribit::wait_until`](super::MockDeribit::wait_until).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// TCP connections accepted (refused ones included).
    pub connections_accepted: usize,
    /// TCP connections refused by a fault.
    pub connections_refused: usize,
    /// Upgraded connections, live and ended.
    pub connections: BTreeMap<ConnId, ConnectionInfo>,
    /// Requests in arrival order (up to
    /// [`request_log_limit`](super::MockConfig::request_log_limit)).
    pub requests: Vec<RequestRecord>,
    /// Number of requests per method (never truncated).
    pub requests_by_method: BTreeMap<String, u64>,
    /// Requests refused with 10028.
    pub rate_limited: u64,
    /// Subscription notifications sent.
    pub notifications_sent: u64,
    /// Orders placed.
    pub orders: Vec<OrderRecord>,
    /// Cancel-on-disconnect firings.
    pub cancel_on_disconnect: Vec<CodFiring>,
    /// Injected faults that took effect.
    pub faults: Vec<FaultRecord>,
}

impl Stats {
    /// Ids of the connections that have not ended.
    pub fn live_connections(&self) -> Vec<ConnId> {
        let live = self.connections.values().filter(|c| c.ended.is_none());
        live.map(|c| c.id).collect()
    }

    /// Number of requests received for `method`.
    pub fn request_count(&self, method: &str) -> u64 {
        self.requests_by_method.get(method).copied().unwrap_or(0)
    }

    /// Number of injected faults of `kind` that took effect.
    pub fn fault_count(&self, kind: FaultKind) -> usize {
        self.faults.iter().filter(|f| f.kind == kind).count()
    }

    /// The current subscriptions of `conn` (empty if unknown or ended).
    pub fn subscriptions(&self, conn: ConnId) -> BTreeSet<String> {
        let info = self.connections.get(&conn);
        info.map(|c| c.subscriptions.clone()).unwrap_or_default()
    }

    /// Why `conn` ended, if it did.
    pub fn end_reason(&self, conn: ConnId) -> Option<EndReason> {
        self.connections.get(&conn).and_then(|c| c.ended)
    }
}
