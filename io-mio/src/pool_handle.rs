//! [`PoolHandle`]: a [`Pool`] (many connections to one service as one
//! client) on an [`EventLoop`], blocking, with the verbs of [`Handle`](crate::Handle).

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use wsnova_core::driver::{Builder, ConnectError, SubscribeError, check_raw_params, encode_params};
use wsnova_core::pool::{ConnId, Pool, PoolLimits, PoolOptions, PoolStatus};
use wsnova_core::session::{
    Adapter, Credentials, HeartbeatConfig, JsonText, RateLimits, RequestError, SessionError,
};
use wsnova_core::wire::CloseCode;

use crate::event_loop::{EventLoop, LoopShared, State};
use crate::events::{Events, Resume, Subscriber};
use crate::pool_runner::{PoolRunner, PoolTask};
use crate::route::{Route, SyncReplySender, wait};

/// Closes the pool when the last `PoolHandle` clone is dropped.
struct Inner {
    shared: Arc<LoopShared>,
    key: usize,
    serial: u64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared
            .send(Box::new(close_pool(self.key, self.serial)));
    }
}

/// Wakes the loop to read the pool's sockets again once a full queue has
/// room (`LagPolicy::Backpressure`); `at` is set once the pool is on the loop.
fn resume(shared: Arc<LoopShared>, at: Arc<OnceLock<(usize, u64)>>) -> Resume {
    Box::new(move || {
        if let Some(&(key, serial)) = at.get() {
            shared.send(Box::new(move |state: &mut State| {
                state.with_pool(key, serial, |_, _| {});
            }));
        }
    })
}

fn close_pool(key: usize, serial: u64) -> impl FnOnce(&mut State) + Send {
    move |state: &mut State| {
        state.with_pool(key, serial, |task, now| {
            if !task.is_closed() {
                let _ = task.close(now, CloseCode::NORMAL, "");
            }
        })
    }
}

/// A handle on a [`Pool`] running on an [`EventLoop`]: N connections to
/// one service as one client (sharding within the declared
/// [`PoolLimits`], failover, make-before-break rotation; see the core's
/// `pool` module). Each connection's socket is registered with the loop
/// under a token of its own. Every method blocks until the loop answers;
/// clone it freely and use it from any thread (not from an event callback
/// on the loop thread: that panics). The pool closes when the last clone
/// is dropped or [`close`](Self::close) is called.
///
/// Events of all connections arrive merged in one [`Events`] stream per
/// consumer (queues of the capacity and `LagPolicy` the options give:
/// `DEFAULT_EVENT_CAPACITY` under `LagPolicy::DropOldest` for a bare
/// `SessionConfig`, as the tokio `PoolClient`'s).
///
/// ```no_run
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use wsnova_mio::core::pool::PoolLimits;
/// use wsnova_mio::core::session::SessionConfig;
/// use wsnova_mio::{EventLoop, adapters::Deribit};
/// let event_loop = EventLoop::new()?;
/// let limits = PoolLimits { max_streams_per_connection: Some(100), ..PoolLimits::default() };
/// let config = SessionConfig::new("wss://test.deribit.com/ws/api/v2")?;
/// let (pool, events) = event_loop.connect_pool(config, Deribit::new(), limits)?;
/// pool.subscribe(&["ticker.BTC-PERPETUAL.100ms"])?;
/// for event in events {
///     println!("{event:?}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PoolHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PoolHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolHandle")
            .field("pool", &self.inner.key)
            .finish_non_exhaustive()
    }
}

impl EventLoop {
    /// Starts a [`Pool`] on this loop and waits until its first connection
    /// is `Ready` (or the first attempt failed). The [`Events`] returned
    /// begin with that connection's `Connected` and `Ready`. Host names are
    /// resolved on the loop's resolver thread. `options` is a
    /// `SessionConfig` or [`PoolOptions`]; see
    /// [`connect_pool_with`](Self::connect_pool_with) for a [`Builder`].
    pub fn connect_pool<A: Adapter + Clone>(
        &self,
        options: impl Into<PoolOptions>,
        adapter: A,
        limits: PoolLimits,
    ) -> Result<(PoolHandle, Events), ConnectError> {
        let PoolOptions {
            config,
            capacity,
            policy,
        } = options.into();
        if capacity == 0 {
            return Err(ConnectError::InvalidOption(
                "event_capacity must be at least 1 (got 0)".into(),
            ));
        }
        let shared = self.shared().clone();
        shared.assert_off_loop();
        let now = crate::now();
        let mut pool = Pool::new(config, adapter, limits, now);
        if let Ok(since_epoch) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
        {
            // The core has no clock; signed auth needs the wall-clock time.
            pool.set_unix_time(now, since_epoch.as_millis() as u64);
        }
        pool.connect(now).map_err(|e| match e {
            SessionError::Config(e) => ConnectError::Invalid(e),
            other => ConnectError::InvalidOption(other.to_string()),
        })?;
        let final_status = Arc::new(Mutex::new(None));
        let mut route = Route::new(false, final_status, capacity, policy);
        let (first_tx, first_rx) = mpsc::sync_channel(1);
        route.waiters.wait_ready(SyncReplySender(first_tx));
        let at = Arc::new(OnceLock::new());
        let subscriber = Subscriber::new(capacity, policy, resume(shared.clone(), at.clone()));
        route.subscribers.push(subscriber.clone());
        let task: Box<dyn PoolTask> = Box::new(PoolRunner::new(pool, route));
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        shared.send(Box::new(move |state: &mut State| {
            let (key, serial) = state.insert_pool(task);
            state.with_pool(key, serial, |_, _| {});
            let _ = reply_tx.send((key, serial));
        }));
        let (key, serial) = reply_rx.recv().map_err(|_| ConnectError::LoopStopped)?;
        let _ = at.set((key, serial));
        let handle = PoolHandle {
            inner: Arc::new(Inner {
                shared,
                key,
                serial,
            }),
        };
        match first_rx.recv() {
            Ok(outcome) => outcome.map_err(ConnectError::from)?,
            Err(_) => return Err(ConnectError::LoopStopped),
        }
        Ok((handle, Events { subscriber }))
    }
}

impl EventLoop {
    /// Starts a pool with the settings of `builder` — its session
    /// configuration (with the proxy the environment asks for, unless
    /// `no_proxy_env`), event capacity and `LagPolicy` — and waits as
    /// [`connect_pool`](Self::connect_pool) does. Options that name one
    /// socket or session (`record`, `dial_to`, `addresses`) are refused
    /// with `ConnectError::InvalidOption`.
    pub fn connect_pool_with<A: Adapter + Clone>(
        &self,
        builder: Builder,
        adapter: A,
        limits: PoolLimits,
    ) -> Result<(PoolHandle, Events), ConnectError> {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        let options = PoolOptions::from_builder(&builder, vars)?;
        self.connect_pool(options, adapter, limits)
    }
}

impl PoolHandle {
    /// Runs `f` on the loop thread with the pool and waits for its result;
    /// `None` when the pool is gone or the loop has stopped.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn PoolTask, std::time::Instant) -> T + Send + 'static,
    ) -> Option<T> {
        self.inner.shared.assert_off_loop();
        let (key, serial) = (self.inner.key, self.inner.serial);
        let (tx, rx) = mpsc::sync_channel(1);
        self.inner.shared.send(Box::new(move |state: &mut State| {
            state.with_pool(key, serial, |task, now| {
                let _ = tx.send(f(task, now));
            })
        }));
        rx.recv().ok()
    }

    /// Adds channels and blocks until each is confirmed on some connection
    /// of the pool, or one is refused ([`SubscribeError::Refused`]).
    /// Channels confirmed already count as confirmed.
    pub fn subscribe(&self, channels: &[&str]) -> Result<(), SubscribeError> {
        self.subscribe_waiting(channels, None)
    }

    /// [`subscribe`](Self::subscribe), waiting at most `timeout` (then
    /// `SubscribeError::Timeout`; the channels stay wanted).
    pub fn subscribe_timeout(
        &self,
        channels: &[&str],
        timeout: Duration,
    ) -> Result<(), SubscribeError> {
        self.subscribe_waiting(channels, Some(timeout))
    }

    fn subscribe_waiting(
        &self,
        channels: &[&str],
        timeout: Option<Duration>,
    ) -> Result<(), SubscribeError> {
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        let (tx, rx) = mpsc::sync_channel(1);
        let started = self.call(move |task, now| {
            let names: Vec<&str> = channels.iter().map(String::as_str).collect();
            let confirmed = task.subscribe(now, &names)?;
            // Registered before the pool settles: the outcome cannot be routed before.
            let confirmed = confirmed.iter().map(String::as_str);
            task.route()
                .waiters
                .wait_unconfirmed(&names, confirmed, SyncReplySender(tx));
            Ok::<(), SessionError>(())
        });
        if !matches!(started, Some(Ok(()))) {
            return Err(SubscribeError::Closed);
        }
        wait(rx, timeout, SubscribeError::Timeout, SubscribeError::Closed)
    }

    /// Adds channels without waiting: the confirmations arrive as
    /// `Event::Subscribed` / `Event::SubscriptionFailed` (once per channel,
    /// for the pool, whichever connection it lands on).
    pub fn subscribe_nowait(&self, channels: &[&str]) -> Result<(), SessionError> {
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        self.call(move |task, now| {
            let names: Vec<&str> = channels.iter().map(String::as_str).collect();
            task.subscribe(now, &names).map(|_| ())
        })
        .unwrap_or(Err(SessionError::Closed))
    }

    /// Removes channels wherever they are placed.
    pub fn unsubscribe(&self, channels: &[&str]) -> Result<(), SessionError> {
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        self.call(move |task, now| {
            let names: Vec<&str> = channels.iter().map(String::as_str).collect();
            task.unsubscribe(now, &names)
        })
        .unwrap_or(Err(SessionError::Closed))
    }

    /// Sends a request on the least loaded ready connection and waits for
    /// its one outcome (the session's request timeout bounds the wait).
    pub fn request<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<JsonText, RequestError> {
        self.request_inner(method, encode_params(params)?, None)
    }

    /// [`request`](Self::request), waiting at most `timeout` for this call
    /// (then `RequestError::Timeout`; a late response is discarded).
    pub fn request_timeout<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        timeout: Duration,
    ) -> Result<JsonText, RequestError> {
        self.request_inner(method, encode_params(params)?, Some(timeout))
    }

    /// [`request`](Self::request) with params given as JSON text (an object
    /// or an array; empty for none), checked before it is sent.
    pub fn request_raw(&self, method: &str, params: &str) -> Result<JsonText, RequestError> {
        self.request_inner(method, check_raw_params(params)?, None)
    }

    fn request_inner(
        &self,
        method: &str,
        params: String,
        timeout: Option<Duration>,
    ) -> Result<JsonText, RequestError> {
        let method = method.to_owned();
        let (tx, rx) = mpsc::sync_channel(1);
        let started = self.call(move |task, now| {
            let id = task.request(now, &method, &params)?;
            task.route().waiters.wait_response(id, SyncReplySender(tx));
            Ok::<(), SessionError>(())
        });
        if !matches!(started, Some(Ok(()))) {
            return Err(RequestError::Closed);
        }
        wait(rx, timeout, RequestError::Timeout, RequestError::Closed)
    }

    /// Sets credentials for every connection, present and future: those
    /// up authenticate now, every later one (scale-out, replacement,
    /// rotation, reconnect) when it comes up.
    pub fn authenticate(&self, credentials: Credentials) -> Result<(), SessionError> {
        self.call(move |task, now| task.authenticate(now, credentials))
            .unwrap_or(Err(SessionError::Closed))
    }

    /// Changes pings, the pong deadline and the idle timeout on every
    /// connection, present and future, without a reconnect; zero durations
    /// are refused and change nothing.
    pub fn set_heartbeat(&self, heartbeat: HeartbeatConfig) -> Result<(), SessionError> {
        self.call(move |task, now| task.set_heartbeat(now, heartbeat))
            .unwrap_or(Err(SessionError::Closed))
    }

    /// Changes the rate limits of every connection, present and future
    /// (each connection keeps its own buckets); an invalid limit is refused
    /// and changes nothing.
    pub fn set_rate_limits(&self, limits: RateLimits) -> Result<(), SessionError> {
        self.call(move |task, now| task.set_rate_limits(now, limits))
            .unwrap_or(Err(SessionError::Closed))
    }

    /// The pool right now: every connection's status and part, with the
    /// totals (`ready()` of `total()`, channels desired and confirmed).
    /// Once the pool has ended, `closed` is set (with no connections once
    /// the loop has dropped it).
    pub fn status(&self) -> PoolStatus {
        self.call(|task, _| task.status())
            .unwrap_or_else(PoolStatus::closed)
    }

    /// Another independent consumer of the merged events, from now on
    /// (with the capacity and `LagPolicy` the pool was started with).
    pub fn events(&self) -> Events {
        let (tx, rx) = mpsc::sync_channel(1);
        let at = Arc::new(OnceLock::from((self.inner.key, self.inner.serial)));
        let wake = resume(self.inner.shared.clone(), at);
        let added = self.call(move |task, _| {
            let route = task.route();
            let subscriber = Subscriber::new(route.capacity, route.policy, wake);
            if route.waiters.is_closed() {
                subscriber.close();
            }
            route.subscribers.push(subscriber.clone());
            let _ = tx.send(subscriber);
        });
        let subscriber = match (added, rx.try_recv()) {
            (Some(()), Ok(subscriber)) => subscriber,
            _ => {
                // The pool is gone: the stream ends at once.
                let subscriber = Subscriber::new(1, Default::default(), Box::new(|| {}));
                subscriber.close();
                subscriber
            }
        };
        Events { subscriber }
    }

    /// The pool's connections right now (for diagnostics); empty once it is gone.
    pub fn connections(&self) -> Vec<ConnId> {
        self.call(|task, _| task.connections()).unwrap_or_default()
    }

    /// Updates the pool dropped because another connection had already
    /// delivered them (the overlap of make-before-break rotations).
    pub fn duplicates_dropped(&self) -> u64 {
        self.status().duplicates_dropped
    }

    /// Closes every connection (close handshakes, no reconnect) and waits
    /// until all are closed.
    pub fn close(&self) -> Result<(), SessionError> {
        self.close_with(CloseCode::NORMAL, "")
    }

    /// [`close`](Self::close) with the code and reason every connection's
    /// close frame carries; a code an endpoint may not send is refused and
    /// changes nothing.
    pub fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        let reason = reason.to_owned();
        let (tx, rx) = mpsc::sync_channel(1);
        let started = self.call(move |task, now| {
            if task.route().waiters.is_closed() || task.is_closed() {
                return Ok(false);
            }
            task.close(now, code, &reason)?;
            task.route().waiters.wait_close(SyncReplySender(tx));
            Ok(true)
        });
        match started {
            Some(Ok(true)) => {
                let _ = rx.recv();
                Ok(())
            }
            Some(Err(err)) => Err(err),
            Some(Ok(false)) | None => Ok(()), // closed already
        }
    }
}
