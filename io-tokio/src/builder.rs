//! Building and starting a connection.

use std::sync::Arc;

use tokio::sync::{Notify, oneshot};
use wsnova_core::session::{
    Adapter, CloseReason, ConnectFailure, ConnectOptions, DisconnectReason, Session, SessionConfig,
    Waiters,
};
use wsnova_core::wire::WireError;

use crate::client::Client;
use crate::driver::{self, now};
use crate::events::{Events, Subscriber};
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
    options: ConnectOptions,
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
            options: ConnectOptions::new(config),
            name: None,
        }
    }

    wsnova_core::connect_options_setters!(options, ConnectError);

    /// A name for this connection in its tracing span (`wsnova{name=…}`),
    /// next to the URL (printed without its query) and the generation; also
    /// its metrics' `connection` label unless [`SessionConfig::name`] is set.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
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
        self,
        adapter: A,
    ) -> (
        Client,
        Events,
        oneshot::Receiver<crate::shared::FirstOutcome>,
    ) {
        let (capacity, policy) = (self.options.event_capacity, self.options.lag_policy);
        let fail_fast = !self.options.retry_initial;
        let mut config = self.options.into_session_config();
        if config.name.is_none() {
            config.name.clone_from(&self.name);
        }
        let now = now();
        // One span per connection (name, URL), one child per dial (its
        // generation), entered around every session call. The endpoint's
        // Debug leaves out the query, which may hold secrets.
        let root_span = tracing::info_span!(
            "wsnova",
            name = self.name.as_deref().map(tracing::field::display),
            url = ?config.wire.endpoint(),
        );
        let entered = root_span.enter();
        let mut session = Session::new(config, adapter, now);
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
        let subscriber = Subscriber::new(capacity, policy, wake.clone(), dropped_total.clone());
        let (first_tx, first_rx) = oneshot::channel();
        let mut waiters = Waiters::new(fail_fast);
        waiters.wait_ready(OneshotReply(first_tx));
        let inner = Inner {
            session: Box::new(session),
            waiters,
            routed: Vec::new(),
            subscribers: vec![subscriber.clone()],
            capacity,
            policy,
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
