//! The state shared by the server thread and the test's handle: one mutex
//! over everything, and a condition variable signalled on every change.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::armed::{Fault, FaultPlan};
use super::auth::AuthStore;
use super::cod::AccountDefaults;
use super::config::MockConfig;
use super::engine;
use super::feeds;
use super::market::{Market, Spec};
use super::orders::{OrderUpdate, Position};
use super::ratelimit::RateLimiter;
use super::stats::{ConnId, FaultKind, FaultRecord, RequestRecord, Stats};
use super::trade_log::TradeLog;

/// What the server or the test tells a connection task.
#[derive(Debug)]
pub(crate) enum ConnEvent {
    /// An injected fault.
    Fault(Fault),
    /// Orders, trades and a position of an account changed (for the
    /// `user.*` channels).
    Account(Arc<AccountChange>),
    /// A platform-wide event for the channel named (`announcements`,
    /// `platform_state`, …).
    Public { channel: String, data: Value },
}

/// What one change did to an account: the `user.orders`, `user.trades`,
/// `user.changes` and `user.portfolio` notifications are cut from it.
#[derive(Debug)]
pub(crate) struct AccountChange {
    pub account: String,
    pub instrument: &'static Spec,
    /// `order` objects.
    pub orders: Vec<Value>,
    /// `user_trade` objects.
    pub trades: Vec<Value>,
    /// The instrument's `position` (empty before the first trade).
    pub positions: Vec<Value>,
    /// The `user.portfolio` data of the instrument's currency.
    pub portfolio: Value,
}

/// Everything behind the mutex.
pub(crate) struct State {
    pub config: Arc<MockConfig>,
    pub stats: Stats,
    pub auth: AuthStore,
    pub market: Market,
    pub positions: BTreeMap<(String, &'static str), Position>,
    pub limiter: RateLimiter,
    /// Live connections' event channels.
    pub conns: BTreeMap<ConnId, UnboundedSender<ConnEvent>>,
    pub plan: FaultPlan,
    pub next_conn: ConnId,
    /// Order and trade id counter.
    pub next_id: u64,
    /// The accounts' trades (`private/get_user_trades_by_*`).
    pub user_trades: TradeLog,
    /// Accounts whose new connections start with cancel-on-disconnect on.
    pub cod_defaults: AccountDefaults,
}

impl State {
    /// Records a fault that took effect.
    pub(crate) fn record_fault(&mut self, conn: Option<ConnId>, kind: FaultKind) {
        let at = Instant::now();
        self.stats.faults.push(FaultRecord { conn, kind, at });
    }

    /// Records a request.
    pub(crate) fn record_request(
        &mut self,
        conn: ConnId,
        method: &str,
        id: Option<Value>,
        authenticated: bool,
    ) {
        *self
            .stats
            .requests_by_method
            .entry(method.to_owned())
            .or_default() += 1;
        if self.stats.requests.len() < self.config.request_log_limit {
            self.stats.requests.push(RequestRecord {
                conn,
                method: method.to_owned(),
                id,
                authenticated,
                at: Instant::now(),
            });
        }
    }

    /// Tells every live connection about changed orders (and the trades in
    /// each update's `result`, if any).
    pub(crate) fn broadcast(&mut self, updates: &[OrderUpdate]) {
        self.user_trades.record(updates);
        engine::show_resting_orders(self);
        for u in updates {
            let trades = u.result.get("trades").and_then(Value::as_array);
            let change = AccountChange {
                account: u.account.clone(),
                instrument: u.instrument,
                orders: vec![u.order.clone()],
                trades: trades.cloned().unwrap_or_default(),
                positions: feeds::positions(self, &u.account, u.instrument),
                portfolio: feeds::portfolio(self, &u.account, u.instrument.currency),
            };
            let change = Arc::new(change);
            for tx in self.conns.values() {
                let _ = tx.send(ConnEvent::Account(Arc::clone(&change)));
            }
        }
    }

    /// Sends `data` to the subscribers of the public `channel`.
    pub(crate) fn publish(&mut self, channel: &str, data: &Value) {
        for tx in self.conns.values() {
            let event = ConnEvent::Public {
                channel: channel.to_owned(),
                data: data.clone(),
            };
            let _ = tx.send(event);
        }
    }

    /// Moves the market on to `now`, then lets the matching engine react
    /// (resting orders the book crossed fill, triggers fire).
    pub(crate) fn advance(&mut self, now: Instant) {
        if self.market.advance(now) {
            self.react();
        }
    }

    /// Lets the matching engine react to the market as it is now.
    pub(crate) fn react(&mut self) {
        let updates = engine::on_market(self);
        self.broadcast(&updates);
    }
}

/// The shared state and its change signal.
pub(crate) struct Shared {
    pub config: Arc<MockConfig>,
    state: Mutex<State>,
    changed: Condvar,
    /// Wakes the accept loop when refusals change.
    pub wake: tokio::sync::Notify,
}

impl Shared {
    pub(crate) fn new(config: MockConfig) -> Arc<Shared> {
        let config = Arc::new(config);
        let now = Instant::now();
        let seed = config.seed;
        let state = State {
            config: Arc::clone(&config),
            stats: Stats::default(),
            auth: AuthStore::new(seed),
            market: Market::new(seed, config.raw_interval, now),
            positions: BTreeMap::new(),
            limiter: RateLimiter::default(),
            conns: BTreeMap::new(),
            plan: FaultPlan::new(seed),
            next_conn: 1,
            next_id: 1000,
            user_trades: TradeLog::default(),
            cod_defaults: AccountDefaults::default(),
        };
        Arc::new(Shared {
            config,
            state: Mutex::new(state),
            changed: Condvar::new(),
            wake: tokio::sync::Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the state, then signals a change.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.lock());
        self.changed.notify_all();
        r
    }

    /// Blocks until `pred` holds for the stats (checked after every change),
    /// or `timeout` passes; whether it held.
    pub(crate) fn wait_until(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&Stats) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if pred(&state.stats) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let waited = self.changed.wait_timeout(state, left);
            state = waited.unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}
