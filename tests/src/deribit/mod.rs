//! A mock Deribit exchange (API v2 over WebSocket) for wsnova's tests.
//!
//! Built on tokio and tokio-tungstenite (server side), independent of wsnova.
//! It listens on `ws://127.0.0.1:<port>/ws/api/v2` from its own thread and
//! runtime and speaks Deribit's JSON-RPC 2.0 dialect: responses carry
//! `usIn`/`usOut`/`usDiff` and `testnet: true`; errors use Deribit's codes.
//!
//! * Authentication (`public/auth` grants `client_credentials`,
//!   `client_signature`, one-shot `refresh_token`), token expiry (13009).
//! * Subscriptions with notifications from a simulated market
//!   (`BTC-PERPETUAL`, `ETH-PERPETUAL`, indices `btc_usd`, `eth_usd`; 520
//!   listed options whose channels are confirmed but quiet, see
//!   [`option_names`]): `book.*` (snapshot, then changes chained by
//!   `prev_change_id`), `trades.*`, `ticker.*`, `quote.*`,
//!   `deribit_price_index.*`, `platform_state`, `announcements`, private
//!   `user.orders.*`, `user.trades.*`, `user.changes.*`, `user.portfolio.*`;
//!   `raw` channels need authentication (13778).
//! * Heartbeats (`public/set_heartbeat`, `test_request`s, enforced),
//!   credit-based rate limits (10028), a 32 kB message limit (-32600, close).
//! * Orders (`private/buy`/`sell`/`cancel`…) matched against the book's
//!   depth with time in force, post-only, reduce-only, and stop, take and
//!   trailing orders on the index, mark or last price; `private/edit`,
//!   `edit_by_label`, the cancel variants, `close_position`; order state,
//!   open orders and history, user trades, positions, account summaries;
//!   cancel-on-disconnect per connection and per account; `private/logout`
//!   (closes the session, no cancel).
//! * Reference data: index price, the public tape, book summaries,
//!   instruments, currencies, `public/status`.
//! * Test controls: pin an index ([`MockDeribit::set_index_price`]), freeze
//!   the market and lay out a book ([`MockDeribit::freeze_market`],
//!   [`MockDeribit::set_book`]), publish platform events
//!   ([`MockDeribit::announce`], [`MockDeribit::set_platform_locked`]).
//! * Fault injection through [`Faults`] (targeted) or [`Chaos`] (random,
//!   seeded), and observability through [`Stats`].
//!
//! ```no_run
//! use std::time::Duration;
//! use wsnova_tests::deribit::{MockConfig, MockDeribit};
//!
//! let mock = MockDeribit::start(MockConfig::default());
//! println!("connect to {}", mock.url()); // ws://127.0.0.1:<port>/ws/api/v2
//! mock.faults().next_connection().drop_after_sent(3);
//! // … run the client, then:
//! assert!(mock.wait_until(Duration::from_secs(5), |s| s.connections_accepted >= 1));
//! ```

mod account;
mod armed;
mod auth;
mod book;
mod channels;
mod cod;
mod config;
mod conn;
mod control;
mod dispatch;
mod engine;
mod faults;
mod feeds;
mod filters;
mod heartbeat;
mod market;
mod methods;
mod options;
mod order_edits;
mod order_params;
mod orders;
mod outbox;
mod queries;
mod ratelimit;
mod reference;
mod rpc;
mod server;
mod state;
mod stats;
mod subscriptions;
mod trade_log;
mod triggers;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

pub use config::{Chaos, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, RateLimits};
pub use faults::{FaultTarget, Faults, RefuseMode};
pub use options::{EXPIRIES, option_names};
pub use stats::{
    CodFiring, ConnId, ConnectionInfo, EndReason, FaultKind, FaultRecord, OrderRecord,
    RequestRecord, Stats,
};

use state::Shared;

/// `hex(HMAC_SHA256(secret, timestamp + "\n" + nonce + "\n" + data))`: the
/// `signature` of a `client_signature` grant.
pub fn client_signature(secret: &str, timestamp_ms: u64, nonce: &str, data: &str) -> String {
    auth::sign(secret, timestamp_ms, nonce, data)
}

/// A running mock exchange; dropping it stops it (bounded).
pub struct MockDeribit {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockDeribit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockDeribit")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockDeribit {
    /// Starts the mock on `127.0.0.1:<config.port>` (0: ephemeral).
    ///
    /// # Panics
    ///
    /// If the listener cannot be bound or the thread cannot be spawned.
    pub fn start(config: MockConfig) -> MockDeribit {
        let shared = Shared::new(config);
        let (addr, shutdown, thread) = server::spawn(Arc::clone(&shared));
        MockDeribit {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:<port>/ws/api/v2`.
    pub fn url(&self) -> String {
        format!("ws://{}{}", self.addr, server::PATH)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &MockConfig {
        &self.shared.config
    }

    /// The fault injection controls.
    pub fn faults(&self) -> Faults {
        Faults::new(Arc::clone(&self.shared))
    }

    /// A copy of everything observed so far.
    pub fn stats(&self) -> Stats {
        self.shared.with(|st| st.stats.clone())
    }

    /// Blocks until `pred` holds for the stats (re-checked on every change
    /// inside the mock) or `timeout` passes; whether it held. It blocks the
    /// calling thread: from an async test, make sure the client side does
    /// not need that thread meanwhile (or use a multi-threaded runtime).
    pub fn wait_until(&self, timeout: Duration, pred: impl FnMut(&Stats) -> bool) -> bool {
        self.shared.wait_until(timeout, pred)
    }

    /// TCP connections accepted (refused ones included).
    pub fn connections_accepted(&self) -> usize {
        self.shared.with(|st| st.stats.connections_accepted)
    }

    /// Ids of the live (upgraded, not ended) connections.
    pub fn live_connections(&self) -> Vec<ConnId> {
        self.shared.with(|st| st.stats.live_connections())
    }

    /// The id of the most recently established connection.
    pub fn last_connection(&self) -> Option<ConnId> {
        self.shared
            .with(|st| st.stats.connections.keys().next_back().copied())
    }

    /// The connection whose client address is `peer` (the client socket's
    /// local address).
    pub fn connection_by_peer(&self, peer: SocketAddr) -> Option<ConnId> {
        let find = |st: &mut state::State| {
            st.stats
                .connections
                .values()
                .rev()
                .find(|c| c.peer == peer)
                .map(|c| c.id)
        };
        self.shared.with(find)
    }

    /// The current subscriptions of `conn`.
    pub fn subscriptions(&self, conn: ConnId) -> BTreeSet<String> {
        self.shared.with(|st| st.stats.subscriptions(conn))
    }

    /// Requests received for `method`.
    pub fn request_count(&self, method: &str) -> u64 {
        self.shared.with(|st| st.stats.request_count(method))
    }

    /// Orders placed, in their current state.
    pub fn orders(&self) -> Vec<OrderRecord> {
        self.shared.with(|st| st.stats.orders.clone())
    }

    /// Cancel-on-disconnect firings.
    pub fn cancel_on_disconnect_firings(&self) -> Vec<CodFiring> {
        self.shared.with(|st| st.stats.cancel_on_disconnect.clone())
    }

    /// Injected faults that took effect.
    pub fn faults_injected(&self) -> usize {
        self.shared.with(|st| st.stats.faults.len())
    }
}

impl Drop for MockDeribit {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The runtime shutdown is bounded.
            let _ = thread.join();
        }
    }
}
