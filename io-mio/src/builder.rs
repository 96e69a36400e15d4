//! Building a connection on an [`EventLoop`].

use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wsnova_core::session::{
    Adapter, BackoffConfig, CloseReason, ConnectFailure, Credentials, DisconnectReason, Event,
    HeartbeatConfig, RateLimitConfig, SessionConfig,
};
use wsnova_core::wire::{Limits, WireError};

use crate::connection::{Connection, DEFAULT_EVENT_CAPACITY};
use crate::event_loop::{EventLoop, State};
use crate::events::{Events, LagPolicy};
use crate::handle::{Handle, subscribe};
use crate::route::{Callback, FirstOutcome, Route, SyncReplySender};

/// Why a connection could not be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The configuration is invalid (URL, headers).
    #[error("invalid configuration: {0}")]
    Config(#[from] WireError),
    /// The first connection attempt failed (and retrying was not asked for).
    #[error("connection failed: {0:?}")]
    Failed(DisconnectReason),
    /// The session closed before it was ever ready.
    #[error("closed before ready: {0:?}")]
    Closed(CloseReason),
    /// The event loop has stopped.
    #[error("the event loop has stopped")]
    LoopStopped,
}

/// Reads naturally: URL, headers, credentials, backoff, heartbeat, rate
/// limit, limits, then [`connect`](Self::connect) on an [`EventLoop`].
///
/// ```no_run
/// # fn demo(event_loop: &wsnova_mio::EventLoop) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use wsnova_core::session::{Credentials, Echo};
/// let (handle, events) = wsnova_mio::Builder::new("wss://example.com/ws")?
///     .header("X-Api-Key", "k")?
///     .credentials(Credentials::new("id", "secret"))
///     .request_timeout(Duration::from_secs(5))
///     .connect(event_loop, Echo)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: SessionConfig,
    event_capacity: usize,
    lag_policy: LagPolicy,
    retry_initial: bool,
    address: Option<SocketAddr>,
}

impl Builder {
    /// Defaults for `url`.
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        Ok(Self::from_config(SessionConfig::new(url)?))
    }

    /// Starts from a full session configuration.
    pub fn from_config(config: SessionConfig) -> Self {
        Builder {
            config,
            event_capacity: DEFAULT_EVENT_CAPACITY,
            lag_policy: LagPolicy::Backpressure,
            retry_initial: false,
            address: None,
        }
    }

    /// Adds a header to the upgrade request.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ConnectError> {
        self.config.wire = self.config.wire.header(name, value)?;
        Ok(self)
    }

    /// Trusts these roots for `wss://` instead of the webpki roots.
    pub fn root_certificates(mut self, roots: wsnova_core::wire::RootCertStore) -> Self {
        self.config.wire = self.config.wire.root_certificates(roots);
        self
    }

    /// Authenticates with these on every connect.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.config.credentials = Some(credentials);
        self
    }

    /// Reconnect policy.
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// Pings, pong deadline, idle timeout.
    pub fn heartbeat(mut self, heartbeat: HeartbeatConfig) -> Self {
        self.config.heartbeat = heartbeat;
        self
    }

    /// Token bucket for requests.
    pub fn rate_limit(mut self, rate_limit: RateLimitConfig) -> Self {
        self.config.rate_limit = Some(rate_limit);
        self
    }

    /// Inbound frame and message size limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.wire = self.config.wire.limits(limits);
        self
    }

    /// How long a connection must stay ready before the backoff streak ends
    /// (default 2 s; zero: as soon as it is ready).
    pub fn stable_after(mut self, period: Duration) -> Self {
        self.config.stable_after = period;
        self
    }

    /// How long a request may wait for its response.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Capacity of each event consumer's queue (default 1024).
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity;
        self
    }

    /// What happens when an event consumer falls behind.
    pub fn lag_policy(mut self, policy: LagPolicy) -> Self {
        self.lag_policy = policy;
        self
    }

    /// Keep retrying (with backoff) when the first attempt fails, instead of failing `connect`.
    pub fn retry_initial_connect(mut self, retry: bool) -> Self {
        self.retry_initial = retry;
        self
    }

    /// Seeds the session's randomness (0: pick one from the process's entropy).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Dials `addr` instead of resolving the URL's host (which still names
    /// the server for TLS and the `Host` header).
    pub fn address(mut self, addr: SocketAddr) -> Self {
        self.address = Some(addr);
        self
    }

    /// Adds the connection to `event_loop` and waits until it is ready, or
    /// fails with the first attempt's error (see [`retry_initial_connect`](Self::retry_initial_connect)).
    pub fn connect<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
    ) -> Result<(Handle, Events), ConnectError> {
        let (handle, events, first) = self.spawn(event_loop, adapter, None)?;
        wait_ready(first)?;
        Ok((handle, events.expect("a queue without a callback")))
    }

    /// Adds the connection without waiting: events tell how it goes.
    pub fn spawn_without_waiting<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
    ) -> Result<(Handle, Events), ConnectError> {
        let (handle, events, _) = self.spawn(event_loop, adapter, None)?;
        Ok((handle, events.expect("a queue without a callback")))
    }

    /// Like [`connect`](Self::connect), but every event goes to `callback`
    /// on the loop thread instead of a queue (no lag, no policy). It must
    /// return quickly and must not call the [`Handle`] (that would block
    /// the loop on itself; it panics instead).
    pub fn connect_with_callback<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
        callback: impl FnMut(&Event) + Send + 'static,
    ) -> Result<Handle, ConnectError> {
        let (handle, _, first) = self.spawn(event_loop, adapter, Some(Box::new(callback)))?;
        wait_ready(first)?;
        Ok(handle)
    }

    fn spawn<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
        callback: Option<Callback>,
    ) -> Result<(Handle, Option<Events>, Receiver<FirstOutcome>), ConnectError> {
        let shared = event_loop.shared().clone();
        shared.assert_off_loop();
        let (first_tx, first_rx) = mpsc::sync_channel(1);
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        let final_status = Arc::new(Mutex::new(None));
        let status = final_status.clone();
        let loop_shared = shared.clone();
        let Builder {
            mut config,
            event_capacity,
            lag_policy,
            retry_initial,
            address,
        } = self;
        config.fail_before_first_ready = !retry_initial;
        shared.send(Box::new(move |state: &mut State| {
            let (registry, resolver) = (state.registry.clone(), state.resolver.clone());
            let with_queue = callback.is_none();
            let (key, serial) = state.insert(|token| {
                let mut conn = Connection::new(config, adapter, registry, token)
                    .with_resolver(resolver)
                    .with_event_capacity(event_capacity);
                if let Some(addr) = address {
                    conn = conn.with_address(addr);
                }
                let mut route = Route::new(!retry_initial, status);
                route.waiters.wait_ready(SyncReplySender(first_tx));
                route.callback = callback;
                (conn, route)
            });
            state.with(key, serial, |entry| {
                let events = with_queue
                    .then(|| subscribe(entry, loop_shared, key, event_capacity, lag_policy));
                let _ = reply_tx.send((key, serial, events));
                let _ = entry.conn.connect();
            });
        }));
        let (key, serial, events) = reply_rx.recv().map_err(|_| ConnectError::LoopStopped)?;
        let handle = Handle::new(shared, key, serial, final_status);
        Ok((handle, events, first_rx))
    }
}

fn wait_ready(first: Receiver<FirstOutcome>) -> Result<(), ConnectError> {
    match first.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(ConnectFailure::Disconnected(reason))) => Err(ConnectError::Failed(reason)),
        Ok(Err(ConnectFailure::Closed(reason))) => Err(ConnectError::Closed(reason)),
        Err(_) => Err(ConnectError::LoopStopped),
    }
}
