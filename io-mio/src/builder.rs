//! Building a connection on an [`EventLoop`].

use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use wsnova_core::session::{
    Adapter, CloseReason, ConnectFailure, ConnectOptions, DisconnectReason, Event, SessionConfig,
};
use wsnova_core::wire::WireError;

use crate::connection::Connection;
use crate::event_loop::{EventLoop, State};
use crate::events::Events;
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
    options: ConnectOptions,
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
            options: ConnectOptions::new(config),
            address: None,
        }
    }

    wsnova_core::connect_options_setters!(options, ConnectError);

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
        let Builder { options, address } = self;
        let (event_capacity, lag_policy) = (options.event_capacity, options.lag_policy);
        let fail_fast = !options.retry_initial;
        let config = options.into_session_config();
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
                let mut route = Route::new(fail_fast, status);
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
