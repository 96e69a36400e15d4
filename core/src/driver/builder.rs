//! The one options builder of both drivers: the session configuration plus
//! how events reach the application. `wsnova_tokio::Builder` and
//! `wsnova_mio::Builder` are this type, so the two APIs cannot drift apart.

use core::net::SocketAddr;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use super::lag_policy::{DEFAULT_EVENT_CAPACITY, LagPolicy};
use super::{ConnectError, RecordTo};
use crate::session::{
    BackoffConfig, Credentials, HeartbeatConfig, RateClass, RateLimitConfig, RateLimits,
    SessionConfig, StopPolicy,
};
use crate::wire::{DeflateConfig, Limits, Proxy, RootCertStore, WireError};

/// How to open a connection: URL, headers, TLS, credentials, timeouts,
/// heartbeats, backoff, rate limit, limits, and the event queues. Every
/// setter takes and returns the builder; mistakes that only show in
/// combination (a zero capacity, inverted timeouts) are reported by
/// [`validate`](Self::validate), which the drivers' `connect` calls before
/// anything is dialled.
///
/// ```
/// use std::time::Duration;
/// use wsnova_core::driver::{Builder, LagPolicy};
/// let builder = Builder::new("wss://example.com/ws")?
///     .header("X-Api-Key", "k")?
///     .request_timeout(Duration::from_secs(5))
///     .connect_timeout(Duration::from_secs(3))
///     .event_capacity(256)
///     .lag_policy(LagPolicy::DropOldest);
/// assert_eq!(builder.config().request_timeout, Duration::from_secs(5));
/// assert!(builder.validate().is_ok());
/// assert!(Builder::new("ws://h/")?.event_capacity(0).validate().is_err());
/// # Ok::<(), wsnova_core::driver::ConnectError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: SessionConfig,
    event_capacity: usize,
    lag_policy: LagPolicy,
    retry_initial: bool,
    dial_to: Option<(String, u16)>,
    addresses: Vec<SocketAddr>,
    record: Option<RecordTo>,
}

impl From<SessionConfig> for Builder {
    fn from(config: SessionConfig) -> Self {
        Builder::from_config(config)
    }
}

impl Builder {
    /// Defaults for `url` (`ws://` or `wss://`).
    pub fn new(url: &str) -> Result<Self, WireError> {
        Ok(Self::from_config(SessionConfig::new(url)?))
    }

    /// Starts from a full session configuration.
    pub fn from_config(config: SessionConfig) -> Self {
        Builder {
            config,
            event_capacity: DEFAULT_EVENT_CAPACITY,
            lag_policy: LagPolicy::Backpressure,
            retry_initial: false,
            dial_to: None,
            addresses: Vec::new(),
            record: None,
        }
    }

    // ---- the upgrade request and TLS ------------------------------------

    /// Adds a header to the upgrade request.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, WireError> {
        self.config.wire = self.config.wire.header(name, value)?;
        Ok(self)
    }

    /// Trusts these roots for `wss://` instead of the webpki roots.
    pub fn root_certificates(mut self, roots: RootCertStore) -> Self {
        self.config.wire = self.config.wire.root_certificates(roots);
        self
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`); call once per
    /// protocol, in order of preference. The one the server selects is in
    /// the driver's `status().subprotocol`; a server that selects one not
    /// offered fails the upgrade with an error naming it.
    pub fn subprotocol(mut self, protocol: &str) -> Self {
        self.config.wire = self.config.wire.subprotocol(protocol);
        self
    }

    /// Inbound frame and message size limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.wire = self.config.wire.limits(limits);
        self
    }

    /// permessage-deflate (RFC 7692): offered by default; pass
    /// [`DeflateConfig::disabled`] to turn it off, or tune window bits,
    /// context takeover and the size under which messages go out
    /// uncompressed. Out-of-range values are refused here.
    ///
    /// ```
    /// use wsnova_core::driver::Builder;
    /// use wsnova_core::wire::DeflateConfig;
    /// let builder = Builder::new("wss://example.com/ws")?
    ///     .deflate(DeflateConfig { server_max_window_bits: Some(12), ..DeflateConfig::default() })?;
    /// assert_eq!(builder.config().wire.deflate_config().server_max_window_bits, Some(12));
    /// let off = Builder::new("wss://example.com/ws")?.deflate(DeflateConfig::disabled())?;
    /// assert!(!off.config().wire.deflate_config().enabled);
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn deflate(mut self, deflate: DeflateConfig) -> Result<Self, WireError> {
        self.config.wire = self.config.wire.deflate(deflate)?;
        Ok(self)
    }

    /// Dials `host:port` instead of the URL's host and port (which still
    /// name the server for TLS and the `Host` header): a known address, a
    /// local tunnel, a test server.
    pub fn dial_to(mut self, host: impl Into<String>, port: u16) -> Self {
        self.dial_to = Some((host.into(), port));
        self
    }

    /// Dials these addresses instead of resolving the host (the proxy's
    /// when there is one): racing them as for a resolved name (Happy
    /// Eyeballs, RFC 8305: IPv6 first, IPv4 250 ms later). The URL's host
    /// still names the server for TLS and the `Host` header.
    pub fn addresses(mut self, addresses: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.addresses = addresses.into_iter().collect();
        self
    }

    // ---- proxies and failover -------------------------------------------

    /// Reaches the server (and every failover endpoint) through this proxy:
    /// `http://[user:password@]host[:port]` (HTTP CONNECT, RFC 7231 §4.3.6,
    /// with RFC 7617 Basic credentials) or `socks5h://[user:password@]host[:port]`
    /// (SOCKS5, RFC 1928/1929; `socks5://` too: the proxy resolves the host
    /// name either way). The environment's proxy variables are then ignored.
    /// The password never shows in `Debug` output or logs.
    ///
    /// ```
    /// use wsnova_core::driver::Builder;
    /// let builder = Builder::new("wss://example.com/ws")?.proxy("socks5h://u:pw@127.0.0.1:1080")?;
    /// assert_eq!(builder.config().wire.dial_target(), ("127.0.0.1", 1080));
    /// assert!(!format!("{builder:?}").contains("pw"));
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn proxy(mut self, url: &str) -> Result<Self, WireError> {
        let proxy = Proxy::parse(url)?;
        self.set_proxy(Some(proxy));
        Ok(self)
    }

    /// Connects directly: no proxy, and the environment's proxy variables
    /// are ignored.
    pub fn no_proxy(mut self) -> Self {
        self.set_proxy(None);
        self
    }

    /// Ignores the proxy environment variables (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`, lowercase too), which drivers otherwise read
    /// when they start the connection (tokio's `connect`, mio's
    /// `Connection::new`); a proxy set with [`proxy`](Self::proxy) still applies.
    pub fn no_proxy_env(mut self) -> Self {
        self.config.proxy_from_env = false;
        self
    }

    /// Adds a failover endpoint, tried after the primary URL (and earlier
    /// failover URLs) when an attempt fails, with the usual backoff; it
    /// shares the headers, subprotocols, limits, proxy and TLS trust set so
    /// far. The driver's `status().endpoint` says which one is in use.
    ///
    /// ```
    /// use wsnova_core::driver::Builder;
    /// let builder = Builder::new("wss://www.deribit.com/ws/api/v2")?
    ///     .failover_url("wss://backup.deribit.com/ws/api/v2")?;
    /// assert_eq!(builder.config().failover.len(), 1);
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn failover_url(mut self, url: &str) -> Result<Self, WireError> {
        let backup = self.config.wire.with_url(url)?;
        self.config.failover.push(backup);
        Ok(self)
    }

    fn set_proxy(&mut self, proxy: Option<Proxy>) {
        self.config.proxy_from_env = false;
        let config = &mut self.config;
        for wire in std::iter::once(&mut config.wire).chain(&mut config.failover) {
            *wire = wire.clone().proxy(proxy.clone());
        }
    }

    // ---- the session ----------------------------------------------------

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

    /// Limits the default rate-limit class (every request the adapter does
    /// not classify otherwise) by `rate_limit`; other classes keep their
    /// limits. Shorthand for [`rate_limit_for`](Self::rate_limit_for)`(RateClass::DEFAULT, …)`.
    pub fn rate_limit(self, rate_limit: RateLimitConfig) -> Self {
        self.rate_limit_for(RateClass::DEFAULT, rate_limit)
    }

    /// Limits `class` by `limit`, overriding the adapter's declared limit
    /// for it (e.g. Deribit's matching-engine tier of your account).
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_core::driver::Builder;
    /// use wsnova_core::session::{RateClass, RateLimitConfig};
    /// let tier = RateLimitConfig {
    ///     capacity: 50, refill_amount: 20, refill_interval: Duration::from_secs(1), queue_capacity: 256,
    /// };
    /// let builder = Builder::new("wss://example.com/ws")?
    ///     .rate_limit_for(RateClass::new("matching_engine"), tier);
    /// let config = builder.config();
    /// assert_eq!(config.rate_limits.get(RateClass::new("matching_engine")), Some(Some(tier)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rate_limit_for(mut self, class: RateClass, limit: RateLimitConfig) -> Self {
        self.config.rate_limits.set(class, Some(limit));
        self
    }

    /// Replaces every rate-limit setting: the adapter's defaults with
    /// overrides ([`RateLimits::default`]`.with(…)`), or none at all
    /// ([`RateLimits::off`]).
    pub fn rate_limits(mut self, rate_limits: RateLimits) -> Self {
        self.config.rate_limits = rate_limits;
        self
    }

    /// Dial, TLS and upgrade must finish within this (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// How long a request may wait for its response (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// How long a close handshake may take before the socket is cut (default 5 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.config.close_timeout = timeout;
        self
    }

    /// Requests and messages that may wait while not ready (default 1024).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.config.queue_capacity = capacity;
        self
    }

    /// Refresh a token when this fraction of its life has passed (default 0.8).
    pub fn refresh_at(mut self, fraction: f64) -> Self {
        self.config.refresh_at = fraction;
        self
    }

    /// How long a connection must stay ready before the backoff streak ends
    /// (default 2 s; zero: as soon as it is ready).
    pub fn stable_after(mut self, period: Duration) -> Self {
        self.config.stable_after = period;
        self
    }

    /// When to give up reconnecting without writing an adapter: stop on
    /// the server's normal close (1000), after N failed attempts in a row
    /// once ready, or never (default: the adapter decides).
    ///
    /// ```
    /// use wsnova_core::driver::Builder;
    /// use wsnova_core::session::StopPolicy;
    /// let options = Builder::new("ws://127.0.0.1:9001/")?.stop(StopPolicy::OnNormalClose);
    /// assert_eq!(options.config().stop, StopPolicy::OnNormalClose);
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn stop(mut self, policy: StopPolicy) -> Self {
        self.config.stop = policy;
        self
    }

    /// The connection's name in logs (its tracing span) and metrics (the
    /// `connection` label); default: the URL's host. Keep it free of secrets.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = Some(name.into());
        self
    }

    /// Seeds the session's randomness (0: pick one from the process's entropy).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Keep retrying (with backoff) when the first attempt fails, instead
    /// of failing `connect`.
    pub fn retry_initial_connect(mut self, retry: bool) -> Self {
        self.retry_initial = retry;
        self
    }

    /// Records the session to the file at `path` (created when the
    /// connection starts) as JSON Lines: every input, command and output,
    /// secrets redacted — what `wsnova --record FILE` writes, and what
    /// `wsnova replay` and [`record::replay`](crate::record::replay) read.
    /// Lines are buffered (64 KiB) and flushed when the session closes and,
    /// while it runs, at most once a second. A file that cannot be created
    /// fails `connect`.
    ///
    /// ```
    /// use wsnova_core::driver::Builder;
    /// let builder = Builder::new("ws://127.0.0.1:9001/")?.record("/tmp/session.jsonl");
    /// assert!(builder.recording().is_some());
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn record(mut self, path: impl Into<PathBuf>) -> Self {
        self.record = Some(RecordTo::file(path));
        self
    }

    /// [`record`](Self::record) to any writer instead of a file; the first
    /// connection started with this builder (or a clone) takes it.
    pub fn record_to(mut self, writer: impl Write + Send + 'static) -> Self {
        self.record = Some(RecordTo::writer(writer));
        self
    }

    // ---- event delivery -------------------------------------------------

    /// Capacity of each event consumer's queue (default 1024; at least 1).
    /// Reading stops only between reads, so a full queue can grow by the
    /// events of one read (at most 64 KiB of input); a tokio consumer also
    /// holds the batch it took from its queue in one lock.
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity;
        self
    }

    /// What happens when an event consumer falls behind.
    pub fn lag_policy(mut self, policy: LagPolicy) -> Self {
        self.lag_policy = policy;
        self
    }

    // ---- for drivers ----------------------------------------------------

    /// The session configuration so far.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Capacity of each event consumer's queue.
    pub fn capacity(&self) -> usize {
        self.event_capacity
    }

    /// What happens when a consumer falls behind.
    pub fn policy(&self) -> LagPolicy {
        self.lag_policy
    }

    /// Whether a failed first attempt is retried instead of failing `connect`.
    pub fn retries_initial(&self) -> bool {
        self.retry_initial
    }

    /// The `host:port` to dial instead of the URL's, if set.
    pub fn dial_override(&self) -> Option<(&str, u16)> {
        self.dial_to.as_ref().map(|(h, p)| (h.as_str(), *p))
    }

    /// Where the session is recorded, if asked: the driver puts
    /// [`RecordTo::recorder`] on the session it starts.
    pub fn recording(&self) -> Option<&RecordTo> {
        self.record.as_ref()
    }

    /// The addresses to dial instead of resolving, if set.
    pub fn address_override(&self) -> &[SocketAddr] {
        &self.addresses
    }

    /// Checks what a setter alone cannot: the session configuration's own
    /// rules and the event queues' capacity.
    pub fn validate(&self) -> Result<(), ConnectError> {
        self.config.validate()?;
        if self.event_capacity == 0 {
            return Err(ConnectError::InvalidOption(
                "event_capacity must be at least 1 (got 0)".into(),
            ));
        }
        Ok(())
    }

    /// The session configuration a driver starts the session with: it gives
    /// up before its first `Ready` unless retrying was asked for, and a seed
    /// of 0 is replaced by [`entropy_seed`].
    pub fn session_config(&self) -> SessionConfig {
        let mut config = self.config.clone();
        config.fail_before_first_ready = !self.retry_initial;
        if config.seed == 0 {
            config.seed = entropy_seed();
        }
        config
    }

    /// [`session_config`](Self::session_config) with the proxy the
    /// environment asks for (see [`SessionConfig::apply_proxy_env`]); the
    /// drivers pass `std::env::vars()` when they connect, the one place the
    /// environment is read. A proxy variable that is not a valid URL fails
    /// with an error naming it.
    ///
    /// ```
    /// use wsnova_core::driver::Builder;
    /// let env = [("ALL_PROXY", "socks5h://127.0.0.1:1080"), ("NO_PROXY", "localhost")];
    /// let via = Builder::new("ws://example.com/")?.session_config_with_env(env)?;
    /// assert_eq!(via.wire.dial_target(), ("127.0.0.1", 1080));
    /// let direct = Builder::new("ws://localhost:9001/")?.session_config_with_env(env)?;
    /// assert_eq!(direct.wire.dial_target(), ("localhost", 9001));
    /// let ignored = Builder::new("ws://example.com/")?.no_proxy_env().session_config_with_env(env)?;
    /// assert!(ignored.wire.proxy_config().is_none());
    /// # Ok::<(), wsnova_core::driver::ConnectError>(())
    /// ```
    pub fn session_config_with_env<I, K, V>(&self, vars: I) -> Result<SessionConfig, ConnectError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = self.session_config();
        config.apply_proxy_env(vars)?;
        Ok(config)
    }
}

/// 64 unpredictable bits from the process's hash keys (seeded by the OS),
/// for drivers to seed sessions whose configuration leaves the seed at 0:
/// keys, masks and jitter differ per connection without another dependency.
/// The session itself stays deterministic: it only ever uses its seed.
///
/// ```
/// use wsnova_core::driver::entropy_seed;
/// assert_ne!(entropy_seed(), entropy_seed());
/// ```
pub fn entropy_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        | 1
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
