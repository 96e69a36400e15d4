//! What every driver needs to open a connection besides the adapter: the
//! session configuration, and how events reach the application. Both
//! drivers' `Builder`s hold [`ConnectOptions`] and get their setters from
//! [`connect_options_setters!`](crate::connect_options_setters), so the two
//! APIs cannot drift apart.

use super::SessionConfig;

/// Events a consumer's queue holds before its [`LagPolicy`] applies.
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

/// What happens when an event consumer falls behind.
///
/// ```
/// use wsnova_core::session::LagPolicy;
/// assert_eq!(LagPolicy::default(), LagPolicy::Backpressure);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LagPolicy {
    /// Stop reading the socket until every consumer has room again: TCP
    /// pushes back on the server and nothing is lost. The default.
    #[default]
    Backpressure,
    /// Keep reading; drop the consumer's oldest notifications and messages
    /// and tell it with `Event::Lagged { dropped }` (for market data, where
    /// fresh beats complete). Lifecycle events and request outcomes are
    /// never dropped.
    DropOldest,
}

/// The session configuration plus the driver-independent options of a
/// connection.
///
/// ```
/// use wsnova_core::session::{ConnectOptions, LagPolicy, SessionConfig};
/// let options = ConnectOptions::new(SessionConfig::new("ws://127.0.0.1:9001/")?);
/// assert_eq!((options.event_capacity, options.lag_policy), (1024, LagPolicy::Backpressure));
/// assert!(!options.retry_initial);
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// URL, TLS, headers, credentials, backoff, heartbeats, limits, …
    pub config: SessionConfig,
    /// Capacity of each event consumer's queue.
    pub event_capacity: usize,
    /// What happens when a consumer falls behind.
    pub lag_policy: LagPolicy,
    /// Keep retrying when the first attempt fails instead of failing `connect`.
    pub retry_initial: bool,
}

impl ConnectOptions {
    /// Defaults around `config`.
    pub fn new(config: SessionConfig) -> Self {
        ConnectOptions {
            config,
            event_capacity: DEFAULT_EVENT_CAPACITY,
            lag_policy: LagPolicy::Backpressure,
            retry_initial: false,
        }
    }

    /// The session configuration a driver starts the session with: it gives
    /// up before its first `Ready` unless retrying was asked for, and a seed
    /// of 0 is replaced by [`entropy_seed`].
    pub fn into_session_config(self) -> SessionConfig {
        let mut config = self.config;
        config.fail_before_first_ready = !self.retry_initial;
        if config.seed == 0 {
            config.seed = entropy_seed();
        }
        config
    }
}

/// 64 unpredictable bits from the process's hash keys (seeded by the OS),
/// for drivers to seed sessions whose configuration leaves the seed at 0:
/// keys, masks and jitter differ per connection without another dependency.
/// The session itself stays deterministic: it only ever uses its seed.
///
/// ```
/// use wsnova_core::session::entropy_seed;
/// assert_ne!(entropy_seed(), entropy_seed());
/// ```
pub fn entropy_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        | 1
}

/// The setters every driver `Builder` has, written once: expands inside
/// `impl Builder { … }` of a type with a [`ConnectOptions`] field named
/// `$options`; `$error` is the driver's error type (it must convert from
/// [`WireError`](crate::wire::WireError)).
#[doc(hidden)]
#[macro_export]
macro_rules! connect_options_setters {
    ($options:ident, $error:ty) => {
        /// Adds a header to the upgrade request.
        pub fn header(mut self, name: &str, value: &str) -> Result<Self, $error> {
            self.$options.config.wire = self.$options.config.wire.header(name, value)?;
            Ok(self)
        }

        /// Trusts these roots for `wss://` instead of the webpki roots.
        pub fn root_certificates(mut self, roots: $crate::wire::RootCertStore) -> Self {
            self.$options.config.wire = self.$options.config.wire.root_certificates(roots);
            self
        }

        /// Authenticates with these on every connect.
        pub fn credentials(mut self, credentials: $crate::session::Credentials) -> Self {
            self.$options.config.credentials = Some(credentials);
            self
        }

        /// Reconnect policy.
        pub fn backoff(mut self, backoff: $crate::session::BackoffConfig) -> Self {
            self.$options.config.backoff = backoff;
            self
        }

        /// Pings, pong deadline, idle timeout.
        pub fn heartbeat(mut self, heartbeat: $crate::session::HeartbeatConfig) -> Self {
            self.$options.config.heartbeat = heartbeat;
            self
        }

        /// Token bucket for requests.
        pub fn rate_limit(mut self, rate_limit: $crate::session::RateLimitConfig) -> Self {
            self.$options.config.rate_limit = Some(rate_limit);
            self
        }

        /// Inbound frame and message size limits.
        pub fn limits(mut self, limits: $crate::wire::Limits) -> Self {
            self.$options.config.wire = self.$options.config.wire.limits(limits);
            self
        }

        /// How long a connection must stay ready before the backoff streak ends
        /// (default 2 s; zero: as soon as it is ready).
        pub fn stable_after(mut self, period: std::time::Duration) -> Self {
            self.$options.config.stable_after = period;
            self
        }

        /// How long a request may wait for its response.
        pub fn request_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.$options.config.request_timeout = timeout;
            self
        }

        /// Capacity of each event consumer's queue (default 1024). Reading
        /// stops only between reads, so a full queue can grow by the events
        /// of one read (at most 64 KiB of input); a tokio consumer also holds
        /// the batch it took from its queue in one lock.
        pub fn event_capacity(mut self, capacity: usize) -> Self {
            self.$options.event_capacity = capacity;
            self
        }

        /// What happens when an event consumer falls behind.
        pub fn lag_policy(mut self, policy: $crate::session::LagPolicy) -> Self {
            self.$options.lag_policy = policy;
            self
        }

        /// Keep retrying (with backoff) when the first attempt fails, instead
        /// of failing `connect`.
        pub fn retry_initial_connect(mut self, retry: bool) -> Self {
            self.$options.retry_initial = retry;
            self
        }

        /// Seeds the session's randomness (0: pick one from the process's entropy).
        pub fn seed(mut self, seed: u64) -> Self {
            self.$options.config.seed = seed;
            self
        }
    };
}
