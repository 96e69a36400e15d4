//! Starting a connection: [`connect`], or a [`Builder`] and [`Connect`].

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Notify, oneshot};
use wsnova_core::driver::{Builder, ConnectError, Waiters};
use wsnova_core::session::{Adapter, BoxedSession, CloseReason, Session, SessionConfig};

use crate::client::Client;
use crate::driver::{self, now};
use crate::events::{Events, Subscriber};
use crate::shared::{Inner, OneshotReply, Shared};

/// Connects and resolves once the session is `Ready` (upgraded,
/// authenticated, subscribed), or fails with the first attempt's error.
/// Later losses reconnect on their own. `options` is a URL's
/// [`Builder`] or a [`SessionConfig`](wsnova_core::session::SessionConfig).
///
/// The [`Events`] returned tell the whole story from the start, as those
/// of [`spawn_without_waiting`] do: the first events are the first
/// connection's `Connected`, then `Authenticated` (with credentials) and
/// `Ready`, which `connect` has already waited for (after a retried first
/// attempt, its `Disconnected` and `Reconnecting` come before). Consumers
/// added later with [`Client::events`] see what happens after they were added.
pub async fn connect<A: Adapter>(
    options: impl Into<Builder>,
    adapter: A,
) -> Result<(Client, Events), ConnectError> {
    let options = options.into();
    options.validate()?;
    let config = options.session_config_with_env(env_vars())?;
    let (client, events, first) = spawn(options, config, adapter)?;
    match first.await {
        Ok(Ok(())) => Ok((client, events)),
        Ok(Err(failure)) => Err(failure.into()),
        Err(_) => Err(ConnectError::Closed(CloseReason::User)),
    }
}

/// Spawns the connection's task without waiting: its [`Events`] tell how it
/// goes, from the first `Connected` on.
pub fn spawn_without_waiting<A: Adapter>(
    options: impl Into<Builder>,
    adapter: A,
) -> Result<(Client, Events), ConnectError> {
    let options = options.into();
    options.validate()?;
    let config = options.session_config_with_env(env_vars())?;
    let (client, events, _) = spawn(options, config, adapter)?;
    Ok((client, events))
}

/// `builder.connect(adapter)`: [`connect`] as a method of the
/// [`Builder`] (in the [`prelude`](crate::prelude)).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use wsnova_tokio::prelude::*;
/// let (client, events) = Builder::new("wss://example.com/ws")?
///     .header("X-Api-Key", "k")?
///     .request_timeout(Duration::from_secs(5))
///     .connect(Plain)
///     .await?;
/// # Ok(()) }
/// ```
pub trait Connect {
    /// See [`connect`].
    fn connect<A: Adapter>(
        self,
        adapter: A,
    ) -> impl Future<Output = Result<(Client, Events), ConnectError>> + Send;

    /// See [`spawn_without_waiting`].
    fn spawn_without_waiting<A: Adapter>(
        self,
        adapter: A,
    ) -> Result<(Client, Events), ConnectError>;
}

impl Connect for Builder {
    fn connect<A: Adapter>(
        self,
        adapter: A,
    ) -> impl Future<Output = Result<(Client, Events), ConnectError>> + Send {
        connect(self, adapter)
    }

    fn spawn_without_waiting<A: Adapter>(
        self,
        adapter: A,
    ) -> Result<(Client, Events), ConnectError> {
        spawn_without_waiting(self, adapter)
    }
}

/// The process's environment (for the proxy variables): the one place
/// this driver reads it. Variables that are not UTF-8 are skipped.
fn env_vars() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
}

fn spawn<A: Adapter>(
    options: Builder,
    config: SessionConfig,
    adapter: A,
) -> Result<
    (
        Client,
        Events,
        oneshot::Receiver<crate::shared::FirstOutcome>,
    ),
    ConnectError,
> {
    let (capacity, policy) = (options.capacity(), options.policy());
    let fail_fast = !options.retries_initial();
    let dial_to = options
        .dial_override()
        .map(|(host, port)| (host.to_owned(), port));
    let addresses = options.address_override().to_vec();
    let now = now();
    // Time zero of the recording is the session's: a replay starts both at once.
    let recorder = options
        .recording()
        .map(|to| to.recorder(&config, now, |path| std::fs::File::create(path)))
        .transpose()?;
    // One span per connection (name, URL), one child per dial (its
    // generation), entered around every session call. The endpoint's
    // Debug leaves out the query, which may hold secrets.
    let root_span = tracing::info_span!(
        "wsnova",
        name = config.name.as_deref().map(tracing::field::display),
        url = ?config.wire.endpoint(),
    );
    let entered = root_span.enter();
    let mut session: BoxedSession = Box::new(Session::new(config, adapter, now));
    if let Some(recorder) = recorder {
        session.set_tap(recorder);
    }
    if let Ok(since_epoch) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
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
        session,
        waiters,
        routed: Vec::new(),
        subscribers: vec![subscriber.clone()],
        capacity,
        policy,
        dropped_total,
        dial_to,
        addresses,
        actions: Vec::new(),
        stream: None,
        write_blocked: false,
        span: crate::shared::generation_span(&root_span, generation),
        span_generation: generation,
        root_span,
    };
    let shared = Shared::new(inner, wake);
    tokio::spawn(driver::run(shared.clone()));
    Ok((Client::new(shared), Events::new(subscriber), first_rx))
}
