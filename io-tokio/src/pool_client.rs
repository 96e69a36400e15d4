//! [`PoolClient`]: many connections to one service as one cloneable async
//! handle, with the verbs of [`Client`](crate::Client).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, oneshot};
use wsnova_core::driver::{
    Builder, ConnectError, SubscribeError, Waiters, check_raw_params, encode_params,
};
use wsnova_core::pool::{ConnId, Pool, PoolLimits, PoolOptions, PoolStatus};
use wsnova_core::session::{
    Adapter, Credentials, HeartbeatConfig, JsonText, RateLimits, RequestError, SessionError,
};
use wsnova_core::wire::CloseCode;

use crate::driver::now;
use crate::events::{Events, Subscriber, dropped_counter};
use crate::pool_driver::{PoolInner, PoolShared, run};
use crate::shared::{OneshotReply, outcome};

/// Closes the pool when the last `PoolClient` clone is dropped.
struct Handle<A: Adapter + Clone>(Arc<PoolShared<A>>);

impl<A: Adapter + Clone> Drop for Handle<A> {
    fn drop(&mut self) {
        let _ = self.0.lock().pool.close(now(), CloseCode::NORMAL, "");
        self.0.wake.notify_one();
    }
}

/// A handle on a [`Pool`]: N connections to one service as one client
/// (sharding within the declared [`PoolLimits`], failover, make-before-break
/// rotation). Clone it freely; the pool closes when the last clone is
/// dropped or [`close`](Self::close) is called. Events of all connections
/// arrive merged in one [`Events`] stream per consumer (the connection an
/// event came from is not shown there).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use wsnova_tokio::core::pool::PoolLimits;
/// use wsnova_tokio::core::session::SessionConfig;
/// use wsnova_tokio::{PoolClient, adapters::Deribit};
/// let limits = PoolLimits { max_streams_per_connection: Some(100), ..PoolLimits::default() };
/// let config = SessionConfig::new("wss://test.deribit.com/ws/api/v2")?;
/// let (pool, mut events) = PoolClient::connect(config, Deribit::new(), limits).await?;
/// pool.subscribe(&["ticker.BTC-PERPETUAL.100ms"]).await?;
/// while let Some(event) = events.recv().await {
///     println!("{event:?}");
/// }
/// # Ok(()) }
/// ```
pub struct PoolClient<A: Adapter + Clone> {
    shared: Arc<PoolShared<A>>,
    _handle: Arc<Handle<A>>,
}

impl<A: Adapter + Clone> Clone for PoolClient<A> {
    fn clone(&self) -> Self {
        PoolClient {
            shared: self.shared.clone(),
            _handle: self._handle.clone(),
        }
    }
}

impl<A: Adapter + Clone> std::fmt::Debug for PoolClient<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolClient")
            .field("connections", &self.connections().len())
            .finish()
    }
}

impl<A: Adapter + Clone> PoolClient<A> {
    /// Starts the pool on the current tokio runtime and waits until its
    /// first connection is `Ready`. The [`Events`] returned begin with that
    /// connection's `Connected` and `Ready`. `options` is a
    /// `SessionConfig` (event queues of `DEFAULT_EVENT_CAPACITY` under
    /// `LagPolicy::DropOldest`) or [`PoolOptions`]; see
    /// [`from_builder`](Self::from_builder) for a [`Builder`].
    pub async fn connect(
        options: impl Into<PoolOptions>,
        adapter: A,
        limits: PoolLimits,
    ) -> Result<(PoolClient<A>, Events), ConnectError> {
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
        let wake = Arc::new(Notify::new());
        let dropped_total = dropped_counter(config.connection_name());
        let mut pool = Pool::new(config, adapter, limits, now());
        if let Ok(since_epoch) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
        {
            // The core has no clock; signed auth needs the wall-clock time.
            pool.set_unix_time(now(), since_epoch.as_millis() as u64);
        }
        pool.connect(now()).map_err(|e| match e {
            SessionError::Config(e) => ConnectError::Invalid(e),
            other => ConnectError::InvalidOption(other.to_string()),
        })?;
        let inner = PoolInner {
            pool,
            waiters: Waiters::new(false),
            subscribers: Vec::new(),
            capacity,
            policy,
            dropped_total,
        };
        let shared = PoolShared::new(inner, wake);
        let client = PoolClient {
            _handle: Arc::new(Handle(shared.clone())),
            shared: shared.clone(),
        };
        let events = client.events();
        let (tx, rx) = oneshot::channel();
        shared.lock().waiters.wait_ready(OneshotReply(tx));
        tokio::spawn(run(shared));
        match rx.await {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => return Err(failure.into()),
            Err(_) => return Err(ConnectError::LoopStopped),
        }
        Ok((client, events))
    }

    /// Starts a pool with the settings of `builder` — its session
    /// configuration (with the proxy the environment asks for, unless
    /// `no_proxy_env`), event capacity and [`LagPolicy`](wsnova_core::driver::LagPolicy)
    /// — and waits as [`connect`](Self::connect) does. Options that name
    /// one socket or session (`record`, `dial_to`, `addresses`) are refused
    /// with `ConnectError::InvalidOption`.
    pub async fn from_builder(
        builder: Builder,
        adapter: A,
        limits: PoolLimits,
    ) -> Result<(PoolClient<A>, Events), ConnectError> {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        let options = PoolOptions::from_builder(&builder, vars)?;
        PoolClient::connect(options, adapter, limits).await
    }

    /// Runs a pool command and wakes the driver.
    fn command<T>(
        &self,
        f: impl FnOnce(&mut Pool<A>) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        let result = f(&mut self.shared.lock().pool);
        self.shared.wake.notify_one();
        result
    }

    /// Adds channels and waits until each is confirmed on some connection
    /// (or one is refused, [`SubscribeError::Refused`]). Channels confirmed
    /// already count as confirmed. A lost connection meanwhile does not end
    /// the wait (its channels move or come back); bound it with
    /// [`subscribe_timeout`](Self::subscribe_timeout).
    pub async fn subscribe(&self, channels: &[&str]) -> Result<(), SubscribeError> {
        let rx = self.subscribe_waiting(channels)?;
        rx.await.unwrap_or(Err(SubscribeError::Closed))
    }

    /// [`subscribe`](Self::subscribe), waiting at most `timeout` for the
    /// confirmations (then `SubscribeError::Timeout`; the channels stay
    /// wanted).
    pub async fn subscribe_timeout(
        &self,
        channels: &[&str],
        timeout: Duration,
    ) -> Result<(), SubscribeError> {
        let rx = self.subscribe_waiting(channels)?;
        let (timed_out, closed) = (SubscribeError::Timeout, SubscribeError::Closed);
        outcome(rx, Some(timeout), timed_out, closed).await
    }

    fn subscribe_waiting(
        &self,
        channels: &[&str],
    ) -> Result<oneshot::Receiver<Result<(), SubscribeError>>, SubscribeError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            let confirmed: Vec<String> =
                inner.pool.confirmed_channels().map(str::to_owned).collect();
            inner
                .pool
                .subscribe(now(), channels)
                .map_err(|_| SubscribeError::Closed)?;
            // Registered under the same lock: the outcome cannot be routed before.
            let confirmed = confirmed.iter().map(String::as_str);
            inner
                .waiters
                .wait_unconfirmed(channels, confirmed, OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        Ok(rx)
    }

    /// Adds channels without waiting: the confirmations arrive as
    /// `Event::Subscribed` / `Event::SubscriptionFailed` (once per channel,
    /// for the pool, whichever connection it lands on).
    pub fn subscribe_nowait(&self, channels: &[&str]) -> Result<(), SessionError> {
        self.command(|p| p.subscribe(now(), channels))
    }

    /// Removes channels wherever they are placed.
    pub async fn unsubscribe(&self, channels: &[&str]) -> Result<(), SessionError> {
        self.command(|p| p.unsubscribe(now(), channels))
    }

    /// Sends a request on the least loaded ready connection and waits for
    /// its one outcome (the session's request timeout bounds the wait).
    /// `params` is any serializable object or array; `&()` sends none.
    pub async fn request<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<JsonText, RequestError> {
        self.request_inner(method, encode_params(params)?, None)
            .await
    }

    /// [`request`](Self::request), waiting at most `timeout` for this call
    /// (then `RequestError::Timeout`; a late response is discarded, never
    /// delivered twice).
    pub async fn request_timeout<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        timeout: Duration,
    ) -> Result<JsonText, RequestError> {
        self.request_inner(method, encode_params(params)?, Some(timeout))
            .await
    }

    /// [`request`](Self::request) with params given as JSON text (an object
    /// or an array; empty for none), checked before it is sent.
    pub async fn request_raw(&self, method: &str, params: &str) -> Result<JsonText, RequestError> {
        self.request_inner(method, check_raw_params(params)?, None)
            .await
    }

    async fn request_inner(
        &self,
        method: &str,
        params: String,
        timeout: Option<Duration>,
    ) -> Result<JsonText, RequestError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            let id = inner
                .pool
                .request(now(), method, &params)
                .map_err(|_| RequestError::Closed)?;
            inner.waiters.wait_response(id, OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        outcome(rx, timeout, RequestError::Timeout, RequestError::Closed).await
    }

    /// Sets credentials for every connection, present and future: those
    /// up authenticate now, every later one (scale-out, replacement,
    /// rotation, reconnect) when it comes up.
    pub async fn authenticate(&self, credentials: Credentials) -> Result<(), SessionError> {
        self.command(|p| p.authenticate(now(), credentials))
    }

    /// Changes pings, the pong deadline and the idle timeout on every
    /// connection, present and future, without a reconnect; zero durations
    /// are refused and change nothing.
    pub fn set_heartbeat(&self, heartbeat: HeartbeatConfig) -> Result<(), SessionError> {
        self.command(|p| p.set_heartbeat(now(), heartbeat))
    }

    /// Changes the rate limits of every connection, present and future
    /// (each connection keeps its own buckets, as services count per
    /// connection); an invalid limit is refused and changes nothing.
    pub fn set_rate_limits(&self, limits: RateLimits) -> Result<(), SessionError> {
        self.command(|p| p.set_rate_limits(now(), limits))
    }

    /// The pool right now: every connection's status and part, with the
    /// totals (`ready()` of `total()`, channels desired and confirmed).
    /// Once the pool has ended, `closed` is set.
    pub fn status(&self) -> PoolStatus {
        self.shared.lock().pool.status()
    }

    /// Another independent consumer of the merged events, from now on.
    pub fn events(&self) -> Events {
        let mut inner = self.shared.lock();
        let subscriber = Subscriber::new(
            inner.capacity,
            inner.policy,
            self.shared.wake.clone(),
            inner.dropped_total.clone(),
        );
        if inner.waiters.is_closed() {
            subscriber.close();
        }
        inner.subscribers.push(subscriber.clone());
        Events::new(subscriber)
    }

    /// The pool's connections right now (for diagnostics).
    pub fn connections(&self) -> Vec<ConnId> {
        self.shared.lock().pool.conns().collect()
    }

    /// Updates the pool dropped because another connection had already
    /// delivered them (the overlap of make-before-break rotations).
    pub fn duplicates_dropped(&self) -> u64 {
        self.shared.lock().pool.duplicates_dropped()
    }

    /// Closes every connection (close handshakes, no reconnect) and waits
    /// until all are closed.
    pub async fn close(&self) -> Result<(), SessionError> {
        self.close_with(CloseCode::NORMAL, "").await
    }

    /// [`close`](Self::close) with the code and reason every connection's
    /// close frame carries; a code an endpoint may not send is refused and
    /// changes nothing.
    pub async fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            if inner.waiters.is_closed() || inner.pool.is_closed() {
                return Ok(());
            }
            inner.pool.close(now(), code, reason)?;
            inner.waiters.wait_close(OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        let _ = rx.await;
        Ok(())
    }
}
