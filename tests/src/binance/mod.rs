//! A mock Binance (market streams and WebSocket API) for wsnova's tests.
//!
//! Built on tokio and tokio-tungstenite (server side), independent of
//! wsnova. It listens on `127.0.0.1:<port>` from its own thread and serves:
//!
//! * Market streams: raw `/ws[/<stream>…]` (events as they are) and
//!   combined `/stream[?streams=a/b]` (`{"stream","data"}`), with
//!   `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` / `SET_PROPERTY` /
//!   `GET_PROPERTY` and Binance's error messages. A seeded market moves every
//!   [`MockConfig::tick`]: `<symbol>@depth` (also `@depth@100ms`: a
//!   sequenced diff, `U`/`u`, futures `pu`), `@trade`, `@aggTrade`,
//!   `@bookTicker`, `@kline_1m`, futures `@markPrice` (also `@markPrice@1s`). The book behind the depth stream is readable
//!   ([`MockBinance::book`]) to compare with a client's.
//! * The WebSocket API at `/ws-api/v3`: `ping`, `time`, `exchangeInfo`,
//!   `depth`, and `order.place` / `order.cancel` with their signatures
//!   verified (HMAC-SHA256, Ed25519).
//! * Binance's limits and faults: the connection lifetime (24 h, settable in
//!   seconds), a disconnect (close 1008) when a client sends more than
//!   [`MockConfig::max_messages_per_second`] messages (text, ping and pong
//!   frames) within a second, the 1024-stream limit (an error answer),
//!   server pings with a pong deadline; and through [`Faults`]: dropped or
//!   reordered depth events, refused or slow subscriptions, a paused
//!   market, cut connections.
//!
//! ```no_run
//! use wsnova_tests::binance::{MockBinance, MockConfig};
//! let mock = MockBinance::start(MockConfig::default());
//! println!("{}", mock.combined_url(&["btcusdt@depth@100ms"]));
//! mock.faults().drop_depth_events(2);
//! ```

mod config;
mod conn;
mod market;
mod server;
mod state;
mod streams;
mod wsapi;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

pub use config::{DEFAULT_API_KEY, DEFAULT_SECRET, MockConfig, MockMarket};
pub use market::BookView;
pub use state::{ConnId, ConnInfo, EndReason, Endpoint, OrderRecord, Stats};

use state::Shared;

/// A running mock; dropping it stops it (bounded).
pub struct MockBinance {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockBinance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBinance")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockBinance {
    /// Starts the mock on `127.0.0.1:<config.port>` (0: ephemeral).
    ///
    /// # Panics
    ///
    /// If the listener cannot be bound or the thread cannot be spawned.
    pub fn start(config: MockConfig) -> MockBinance {
        let shared = Shared::new(config);
        let (addr, shutdown, thread) = server::spawn(Arc::clone(&shared));
        MockBinance {
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

    /// `ws://127.0.0.1:<port>`: the base of the stream URLs.
    pub fn base_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The raw-stream endpoint `…/ws[/<streams>]`.
    pub fn raw_url(&self, streams: &[&str]) -> String {
        if streams.is_empty() {
            format!("{}/ws", self.base_url())
        } else {
            format!("{}/ws/{}", self.base_url(), streams.join("/"))
        }
    }

    /// The combined-stream endpoint `…/stream[?streams=a/b]`.
    pub fn combined_url(&self, streams: &[&str]) -> String {
        if streams.is_empty() {
            format!("{}/stream", self.base_url())
        } else {
            format!("{}/stream?streams={}", self.base_url(), streams.join("/"))
        }
    }

    /// The WebSocket API endpoint `…/ws-api/v3`.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.base_url(), server::API_PATH)
    }

    /// Its configuration.
    pub fn config(&self) -> &MockConfig {
        &self.shared.config
    }

    /// The fault controls.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(&self.shared),
        }
    }

    /// A copy of everything observed so far.
    pub fn stats(&self) -> Stats {
        self.shared.with(|st| st.stats.clone())
    }

    /// Blocks until `pred` holds for the stats or `timeout` passes; whether it held.
    pub fn wait_until(&self, timeout: Duration, pred: impl FnMut(&Stats) -> bool) -> bool {
        self.shared.wait_until(timeout, pred)
    }

    /// The book of `symbol` behind its depth stream (all levels), now.
    pub fn book(&self, symbol: &str) -> Option<BookView> {
        self.shared
            .with(|st| st.market.symbol(symbol).map(|s| s.view(usize::MAX)))
    }
}

impl Drop for MockBinance {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Fault injection. Each call takes effect on the next matching event, on
/// any connection.
#[derive(Clone)]
pub struct Faults {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Faults")
    }
}

impl Faults {
    /// Drops the next `n` depth events sent.
    pub fn drop_depth_events(&self, n: u64) {
        self.shared.with(|st| st.plan.drop_depth += n);
    }

    /// Holds back each of the next `n` depth events and sends it after the
    /// one that follows.
    pub fn reorder_depth_events(&self, n: u64) {
        self.shared.with(|st| st.plan.reorder_depth += n);
    }

    /// Answers the next `n` `SUBSCRIBE`s with `{"error":{"code","msg"}}`.
    pub fn refuse_subscriptions(&self, n: u64, code: i64, msg: &str) {
        if n > 0 {
            self.shared
                .with(|st| st.plan.refuse = Some((n, code, msg.to_owned())));
        }
    }

    /// Delays every `SUBSCRIBE`'s answer by `delay` (zero: none).
    pub fn subscribe_delay(&self, delay: Duration) {
        self.shared.with(|st| st.plan.subscribe_delay = delay);
    }

    /// Stops or restarts the market.
    pub fn pause_market(&self, paused: bool) {
        self.shared.with(|st| st.plan.paused = paused);
    }

    /// Cuts connection `id` (no close frame).
    pub fn kill(&self, id: ConnId) {
        self.shared.with(|st| st.plan.kill.insert(id));
        self.shared.killed.notify_waiters();
    }
}
