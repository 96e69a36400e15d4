//! [`PoolClient`]: many connections to one service as one cloneable async
//! handle, with the verbs of [`Client`](crate::Client).

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{Notify, oneshot};
use wsnova_core::driver::{
    ConnectError, DEFAULT_EVENT_CAPACITY, LagPolicy, SubscribeError, Waiters, encode_params,
};
use wsnova_core::pool::{ConnId, Pool, PoolLimits};
use wsnova_core::session::{Adapter, JsonText, RequestError, SessionConfig, SessionError};
use wsnova_core::wire::CloseCode;

use crate::driver::now;
use crate::events::{Events, Subscriber, dropped_counter};
use crate::pool_driver::{PoolInner, PoolShared, run};
use crate::shared::OneshotReply;

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
    /// connection's `Connected` and `Ready`.
    pub async fn connect(
        config: SessionConfig,
        adapter: A,
        limits: PoolLimits,
    ) -> Result<(PoolClient<A>, Events), ConnectError> {
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
            capacity: DEFAULT_EVENT_CAPACITY,
            policy: LagPolicy::DropOldest,
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

    /// Adds channels and waits until each is confirmed on some connection
    /// (or one is refused).
    pub async fn subscribe(&self, channels: &[&str]) -> Result<(), SubscribeError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            let waiting: Vec<String> = channels
                .iter()
                .filter(|c| !inner.pool.confirmed_channels().any(|k| k == **c))
                .map(|c| c.to_string())
                .collect();
            inner
                .pool
                .subscribe(now(), channels)
                .map_err(|_| SubscribeError::Closed)?;
            inner.waiters.wait_subscribed(waiting, OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        rx.await.unwrap_or(Err(SubscribeError::Closed))
    }

    /// Removes channels wherever they are placed.
    pub async fn unsubscribe(&self, channels: &[&str]) -> Result<(), SessionError> {
        let result = self.shared.lock().pool.unsubscribe(now(), channels);
        self.shared.wake.notify_one();
        result
    }

    /// Sends a request on the least loaded ready connection and waits for
    /// its one outcome (the session's request timeout bounds the wait).
    pub async fn request<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<JsonText, RequestError> {
        let params = encode_params(params)?;
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
        rx.await.unwrap_or(Err(RequestError::Closed))
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

    /// Closes every connection and waits until all are closed.
    pub async fn close(&self) -> Result<(), SessionError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            if inner.waiters.is_closed() || inner.pool.is_closed() {
                return Ok(());
            }
            inner.pool.close(now(), CloseCode::NORMAL, "")?;
            inner.waiters.wait_close(OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        let _ = rx.await;
        Ok(())
    }
}
