//! The state shared by the server thread and the test's handle: one mutex
//! over everything, a condition variable signalled on every change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::config::MockConfig;
use super::market::Market;

/// A connection's number, in order of upgrade.
pub type ConnId = u64;

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The client closed it (or went away).
    ClientClosed,
    /// It sent more messages per second than allowed.
    TooManyMessages,
    /// It reached the configured lifetime (Binance's 24 h cut).
    Lifetime,
    /// A server ping went unanswered past the pong deadline.
    PongTimeout,
    /// The test cut it.
    Killed,
    /// A socket error.
    Error,
}

/// Which endpoint a connection is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/ws[/<streams>]`.
    Raw,
    /// `/stream[?streams=…]`.
    Combined,
    /// `/ws-api/v3`.
    Api,
}

/// One connection as observed.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Its number.
    pub id: ConnId,
    /// Its endpoint.
    pub endpoint: Endpoint,
    /// When it was upgraded.
    pub established_at: Instant,
    /// Its current streams.
    pub streams: BTreeSet<String>,
    /// Messages received (text, ping and pong frames).
    pub messages_received: u64,
    /// The most received within one second.
    pub peak_messages_per_second: usize,
    /// Server pings sent.
    pub pings_sent: u64,
    /// Pongs that answered them.
    pub pongs_received: u64,
    /// Why it ended, once it has.
    pub ended: Option<EndReason>,
}

/// An order placed through the WebSocket API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// Binance's order id.
    pub order_id: u64,
    /// The client order id.
    pub client_order_id: String,
    /// Symbol.
    pub symbol: String,
    /// `BUY` / `SELL`.
    pub side: String,
    /// `NEW` or `CANCELED`.
    pub status: String,
    /// Which key signed it: `HMAC` or `Ed25519`.
    pub signed_with: &'static str,
}

/// Everything observed so far.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Connections by id.
    pub connections: BTreeMap<ConnId, ConnInfo>,
    /// `SUBSCRIBE` requests received.
    pub subscribe_requests: u64,
    /// Subscriptions refused by an injected fault.
    pub subscriptions_refused: u64,
    /// Depth events dropped by an injected fault.
    pub depth_dropped: u64,
    /// Depth events sent out of order by an injected fault.
    pub depth_reordered: u64,
    /// WebSocket API requests by method.
    pub api_requests: BTreeMap<String, u64>,
    /// Signed requests refused for their signature (-1022).
    pub bad_signatures: u64,
    /// Orders.
    pub orders: Vec<OrderRecord>,
}

impl Stats {
    /// Ids of the connections not yet ended.
    pub fn live(&self) -> Vec<ConnId> {
        self.connections
            .values()
            .filter(|c| c.ended.is_none())
            .map(|c| c.id)
            .collect()
    }

    /// The connections that ended for `reason`.
    pub fn ended(&self, reason: EndReason) -> usize {
        self.connections
            .values()
            .filter(|c| c.ended == Some(reason))
            .count()
    }
}

/// Injected faults, consumed as they take effect.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// Depth events still to drop (one per event sent, any connection).
    pub drop_depth: u64,
    /// Depth events still to hold back and send after the next one.
    pub reorder_depth: u64,
    /// Subscribes still to refuse, with the error's code and message.
    pub refuse: Option<(u64, i64, String)>,
    /// Delay of every subscribe's answer.
    pub subscribe_delay: Duration,
    /// The market stands still.
    pub paused: bool,
    /// Connections to cut.
    pub kill: BTreeSet<ConnId>,
}

/// Everything behind the mutex.
pub(crate) struct State {
    pub stats: Stats,
    pub market: Market,
    pub plan: Plan,
    pub next_conn: ConnId,
    pub next_order: u64,
}

/// The mutex, its condition variable, and the configuration.
pub(crate) struct Shared {
    pub config: MockConfig,
    /// Wakes connection tasks when the test cuts connections.
    pub killed: tokio::sync::Notify,
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    pub(crate) fn new(config: MockConfig) -> Arc<Shared> {
        let market = Market::new(config.market, &config.symbols, config.seed);
        let state = State {
            stats: Stats::default(),
            market,
            plan: Plan::default(),
            next_conn: 1,
            next_order: 1,
        };
        Arc::new(Shared {
            config,
            killed: tokio::sync::Notify::new(),
            state: Mutex::new(state),
            changed: Condvar::new(),
        })
    }

    /// Runs `f` under the lock and wakes waiters.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut guard);
        drop(guard);
        self.changed.notify_all();
        out
    }

    /// Blocks until `pred` holds or `timeout` passes; whether it held.
    pub(crate) fn wait_until(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&Stats) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if pred(&guard.stats) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = self
                .changed
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
