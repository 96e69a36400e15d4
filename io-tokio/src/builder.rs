//! Building and starting a connection.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use wsnova_core::session::{
    Adapter, BackoffConfig, CloseReason, ConnectFailure, Credentials, DisconnectReason,
    HeartbeatConfig, RateLimitConfig, Session, SessionConfig, Waiters,
};
use wsnova_core::wire::{Limits, WireError};

use crate::client::Client;
use crate::driver::{self, now};
use crate::events::{Events, LagPolicy, Subscriber};
use crate::shared::{Inner, OneshotReply, Shared};

/// Why [`connect`] gave no client.
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
}

/// Connects with `config` and `adapter`; resolves once the session is
/// `Ready` (upgraded, authenticated, subscribed), or fails with the first
/// attempt's error. Later losses reconnect on their own.
pub async fn connect<A: Adapter>(
    config: SessionConfig,
    adapter: A,
) -> Result<(Client, Events), ConnectError> {
    Builder::from_config(config).connect(adapter).await
}

/// Reads naturally: URL, headers, credentials, backoff, heartbeat, rate limit, limits.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use wsnova_core::session::{Credentials, Echo};
/// let (client, events) = wsnova_tokio::Builder::new("wss://example.com/ws")?
///     .header("X-Api-Key", "k")?
///     .credentials(Credentials::new("id", "secret"))
///     .request_timeout(Duration::from_secs(5))
///     .connect(Echo)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: SessionConfig,
    event_capacity: usize,
    lag_policy: LagPolicy,
    retry_initial: bool,
    name: Option<String>,
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
            event_capacity: 1024,
            lag_policy: LagPolicy::Backpressure,
            retry_initial: false,
            name: None,
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

    /// Capacity of each event consumer's queue (default 1024). A consumer
    /// takes everything queued in one batch (one lock), and reading stops
    /// only between reads, so it can hold its batch plus a full queue plus
    /// the events of one read (at most 64 KiB of input).
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

    /// A name for this connection in its tracing span (`wsnova{name=…}`),
    /// next to the URL (printed without its query) and the generation; also
    /// its metrics' `connection` label unless [`SessionConfig::name`] is set.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Seeds the session's randomness (0: pick one from the process's entropy).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Spawns the connection's task on the current tokio runtime and waits
    /// until it is ready (see [`connect`]).
    pub async fn connect<A: Adapter>(self, adapter: A) -> Result<(Client, Events), ConnectError> {
        let (client, events, first) = self.spawn(adapter);
        match first.await {
            Ok(Ok(())) => Ok((client, events)),
            Ok(Err(ConnectFailure::Disconnected(reason))) => Err(ConnectError::Failed(reason)),
            Ok(Err(ConnectFailure::Closed(reason))) => Err(ConnectError::Closed(reason)),
            Err(_) => Err(ConnectError::Closed(CloseReason::User)),
        }
    }

    /// Spawns without waiting: events tell how it goes.
    pub fn spawn_without_waiting<A: Adapter>(self, adapter: A) -> (Client, Events) {
        let (client, events, _) = self.spawn(adapter);
        (client, events)
    }

    fn spawn<A: Adapter>(
        mut self,
        adapter: A,
    ) -> (
        Client,
        Events,
        oneshot::Receiver<crate::shared::FirstOutcome>,
    ) {
        self.config.fail_before_first_ready = !self.retry_initial;
        if self.config.seed == 0 {
            self.config.seed = entropy_seed();
        }
        if self.config.name.is_none() {
            self.config.name.clone_from(&self.name);
        }
        let now = now();
        // One span per connection (name, URL), one child per dial (its
        // generation), entered around every session call. The endpoint's
        // Debug leaves out the query, which may hold secrets.
        let root_span = tracing::info_span!(
            "wsnova",
            name = self.name.as_deref().map(tracing::field::display),
            url = ?self.config.wire.endpoint(),
        );
        let entered = root_span.enter();
        let mut session = Session::new(self.config, adapter, now);
        if let Ok(since_epoch) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
        {
            // The core has no clock; signed auth needs the wall-clock time.
            session.set_unix_time(now, since_epoch.as_millis() as u64);
        }
        let _ = session.connect(now);
        drop(entered);
        let generation = session.generation();
        let wake = Arc::new(Notify::new());
        let dropped_total = crate::events::dropped_counter(session.connection_name());
        let subscriber = Subscriber::new(
            self.event_capacity,
            self.lag_policy,
            wake.clone(),
            dropped_total.clone(),
        );
        let (first_tx, first_rx) = oneshot::channel();
        let mut waiters = Waiters::new(!self.retry_initial);
        waiters.wait_ready(OneshotReply(first_tx));
        let inner = Inner {
            session: Box::new(session),
            waiters,
            routed: Vec::new(),
            subscribers: vec![subscriber.clone()],
            capacity: self.event_capacity,
            policy: self.lag_policy,
            dropped_total,
            actions: Vec::new(),
            stream: None,
            write_blocked: false,
            span: crate::shared::generation_span(&root_span, generation),
            span_generation: generation,
            root_span,
        };
        let shared = Shared::new(inner, wake);
        tokio::spawn(driver::run(shared.clone()));
        (Client::new(shared), Events::new(subscriber), first_rx)
    }
}

/// 64 bits from the process's hash keys (seeded by the OS): enough to make
/// keys, masks and jitter unpredictable without another dependency.
fn entropy_seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(now().elapsed().as_nanos());
    hasher.finish() | 1
}
