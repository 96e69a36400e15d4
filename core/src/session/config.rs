//! Session configuration: timeouts, heartbeats, backoff, rate limits, credentials.

use std::time::Duration;

use super::{BackoffConfig, Credentials, RateLimits, StopPolicy};
use crate::wire::{WireConfig, WireError};

/// Heartbeat settings: WebSocket pings with a pong deadline (half-open
/// detection) and an optional inbound idle timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// How often to ping while connected; `None` disables pings.
    pub ping_interval: Option<Duration>,
    /// How long a ping may go unanswered before the connection counts as dead.
    /// It may exceed `ping_interval`: pings then overlap, and the deadline
    /// runs from the oldest unanswered one.
    pub pong_timeout: Duration,
    /// Reconnect when nothing at all arrives for this long; `None` disables it.
    pub idle_timeout: Option<Duration>,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            ping_interval: Some(Duration::from_secs(15)),
            pong_timeout: Duration::from_secs(10),
            idle_timeout: None,
        }
    }
}

/// Everything a [`Session`](super::Session) needs besides its adapter.
///
/// ```
/// use std::time::Duration;
/// use wsnova_core::session::{Credentials, SessionConfig};
/// let mut config = SessionConfig::new("wss://test.deribit.com/ws/api/v2")?;
/// config.request_timeout = Duration::from_secs(5);
/// config.credentials = Some(Credentials::new("id", "secret"));
/// config.wire = config.wire.subprotocol("v2.json"); // offer subprotocols
/// config.validate()?; // `Session::connect` checks this too
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # From a file
///
/// `SessionConfig` implements serde's `Deserialize`, so it loads from TOML
/// (`toml::from_str`), JSON ([`from_json_str`](Self::from_json_str)) or any
/// serde format. Only `url` is required; every omitted key keeps the value
/// of [`new`](Self::new). An unknown key is an error that names it, at every
/// level. Durations are text: `"250ms"`, `"10s"`, `"2m"`, `"1m30s"` (units
/// `ns`, `us`, `ms`, `s`, `m`, `h`); `"off"` turns off `ping_interval` and
/// `idle_timeout`. After reading, the configuration is
/// [validated](Self::validate) and a mistake fails the load.
///
/// ```toml
/// url = "wss://test.deribit.com/ws/api/v2"
/// name = "deribit-main"              # the metrics label
/// seed = 42                          # 0 = drivers pick one
/// subprotocols = ["v2.json", "json"] # in preference order
/// failover = ["wss://www.deribit.com/ws/api/v2"] # tried after the url, in order
/// proxy = "http://proxy.corp:3128"   # or socks5h://…; no password here
/// proxy_from_env = true              # HTTPS_PROXY, NO_PROXY, … (default true)
/// max_frame_size = 16777216          # bytes
/// max_message_size = 67108864
/// connect_timeout = "10s"
/// request_timeout = "5s"
/// close_timeout = "5s"
/// stable_after = "2s"
/// queue_capacity = 1024
/// refresh_at = 0.8
/// stop = "on_normal_close"           # adapter | never | { after_failures = 5 }
///
/// [headers]
/// "User-Agent" = "my-bot/1.0"
///
/// [heartbeat]
/// ping_interval = "15s"              # or "off"
/// pong_timeout = "10s"
/// idle_timeout = "off"
///
/// [backoff]
/// strategy = "full_jitter"  # linear | exponential | full_jitter | decorrelated_jitter
/// base = "250ms"
/// max_delay = "30s"
/// max_attempts = 10         # omit to retry forever
///
/// [rate_limit]              # the default class's limit (other classes: in code);
///                           # all four keys are required; omit for the adapter's
/// capacity = 20
/// refill_amount = 20
/// refill_interval = "1s"
/// queue_capacity = 100
/// ```
///
/// Not in the file form, set in code: `credentials` (secrets come from the
/// environment or a secret store, never from a settings file: the key is
/// refused; likewise a proxy URL with a password), custom TLS roots or
/// rustls configurations, and
/// `fail_before_first_ready` (the drivers own it). Header values are read
/// as given: prefer setting secret headers (API keys) in code too.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Endpoint, headers, TLS trust, frame limits and proxy.
    pub wire: WireConfig,
    /// Failover endpoints (e.g. an exchange's backup hosts), tried in order
    /// after the primary one: an attempt that fails before the upgrade
    /// moves the next attempt (after the usual backoff) to the next
    /// endpoint, wrapping around; a connection lost after its upgrade is
    /// retried on the same endpoint first. Make them with
    /// [`WireConfig::with_url`] so they share the primary's options.
    /// `Session::endpoint` and the drivers' `status().endpoint` say which
    /// one is in use. Default: none.
    pub failover: Vec<WireConfig>,
    /// Whether drivers pick a proxy from the environment (`HTTPS_PROXY`,
    /// `NO_PROXY`, …; see [`proxy_for`](crate::wire::proxy_for)) for
    /// endpoints without an explicit [proxy](WireConfig::proxy). Default
    /// `true`. The core itself never reads the environment: drivers apply
    /// it when they connect, through [`apply_proxy_env`](Self::apply_proxy_env).
    pub proxy_from_env: bool,
    /// Seeds every random choice (WebSocket key, masks, jitter): the same seed
    /// and inputs give the same outputs. 0 (the default) tells drivers to pick
    /// a seed from the process's entropy; set any other value to reproduce a run.
    pub seed: u64,
    /// Dial, TLS and upgrade must finish within this (default 10 s).
    pub connect_timeout: Duration,
    /// How reconnects are spaced.
    pub backoff: BackoffConfig,
    /// Pings and idle detection.
    pub heartbeat: HeartbeatConfig,
    /// A request with no response after this fails with `Timeout` (default 10 s).
    pub request_timeout: Duration,
    /// Requests and messages that may wait while not ready (default 1024).
    pub queue_capacity: usize,
    /// Token buckets for outgoing requests, one per rate-limit class: by
    /// default the adapter's declared limits (on, e.g. Deribit's documented
    /// credits and matching-engine tier), with any overrides set here. See
    /// [`RateLimits`]; change them on a live session with
    /// [`Session::set_rate_limits`](super::Session::set_rate_limits).
    pub rate_limits: RateLimits,
    /// How long a close handshake may take before the socket is cut (default 5 s).
    pub close_timeout: Duration,
    /// Authenticate with these on every connect.
    pub credentials: Option<Credentials>,
    /// Refresh a token when this fraction of its life has passed (default 0.8).
    pub refresh_at: f64,
    /// The backoff streak ends only after a connection stayed `Ready` this
    /// long (default 2 s): a server that accepts and then fails every
    /// connection at once still gets growing delays, not a reconnect storm.
    /// Zero ends the streak as soon as `Ready` is reached.
    pub stable_after: Duration,
    /// The connection's name in metrics (the `connection` label); `None`
    /// (the default) uses the endpoint's host. Keep it short and free of
    /// secrets: it is exported as is.
    pub name: Option<String>,
    /// Give up instead of retrying when the connection fails before the
    /// session was ever `Ready` (`Disconnected { reconnect_in: None }`, then
    /// `Closed { reason: Stopped(..) }`): a wrong URL, certificate or
    /// credentials fail at once. Drivers' `connect` sets it unless asked to
    /// retry the first connection. Default `false`.
    pub fail_before_first_ready: bool,
    /// When to give up reconnecting, beyond what the adapter decides: on a
    /// server's normal close, after N failures once `Ready`, or never
    /// (default [`StopPolicy::Adapter`]).
    pub stop: StopPolicy,
}

impl SessionConfig {
    /// Defaults for `url`: 10 s connect and request timeouts, 5 s close
    /// timeout, pings every 15 s with a 10 s pong deadline, exponential
    /// backoff with full jitter from 250 ms to 30 s, a queue of 1024, the
    /// adapter's declared rate limits, no credentials.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_core::session::SessionConfig;
    /// let config = SessionConfig::new("wss://example.com/ws")?;
    /// assert_eq!(config.connect_timeout, Duration::from_secs(10));
    /// assert!(SessionConfig::new("http://example.com/").is_err());
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn new(url: &str) -> Result<Self, WireError> {
        Ok(SessionConfig {
            wire: WireConfig::new(url)?,
            failover: Vec::new(),
            proxy_from_env: true,
            seed: 0,
            connect_timeout: Duration::from_secs(10),
            backoff: BackoffConfig::default(),
            heartbeat: HeartbeatConfig::default(),
            request_timeout: Duration::from_secs(10),
            queue_capacity: 1024,
            rate_limits: RateLimits::default(),
            close_timeout: Duration::from_secs(5),
            credentials: None,
            refresh_at: 0.8,
            stable_after: Duration::from_secs(2),
            fail_before_first_ready: false,
            name: None,
            stop: StopPolicy::Adapter,
        })
    }

    /// Gives every endpoint without an explicit proxy the one the
    /// environment `vars` ask for (curl's rules, see
    /// [`proxy_for`](crate::wire::proxy_for)), unless
    /// [`proxy_from_env`](Self::proxy_from_env) is off. Pure: the caller
    /// passes the variables (drivers pass `std::env::vars()`).
    ///
    /// ```
    /// use wsnova_core::session::SessionConfig;
    /// let mut config = SessionConfig::new("wss://example.com/ws")?;
    /// config.apply_proxy_env([("https_proxy", "http://proxy.corp:3128")])?;
    /// assert_eq!(config.wire.dial_target(), ("proxy.corp", 3128));
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn apply_proxy_env<I, K, V>(&mut self, vars: I) -> Result<(), WireError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        if !self.proxy_from_env {
            return Ok(());
        }
        let vars: Vec<(K, V)> = vars.into_iter().collect();
        for wire in std::iter::once(&mut self.wire).chain(&mut self.failover) {
            if wire.proxy_config().is_none() {
                let proxy =
                    crate::wire::proxy_for(wire.endpoint(), vars.iter().map(|(k, v)| (k, v)))?;
                *wire = wire.clone().proxy(proxy);
            }
        }
        Ok(())
    }

    /// The `connection` label of this session's metrics: [`name`](Self::name),
    /// or the endpoint's host (never the path or query).
    ///
    /// ```
    /// use wsnova_core::session::SessionConfig;
    /// let config = SessionConfig::new("wss://example.com/ws?key=s3cret")?;
    /// assert_eq!(config.connection_name(), "example.com");
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn connection_name(&self) -> &str {
        self.name
            .as_deref()
            .unwrap_or_else(|| self.wire.endpoint().host())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_variables_apply_only_when_allowed_and_to_every_endpoint() {
        let vars = [("https_proxy", "http://proxy.corp:3128")];
        let mut config = SessionConfig::new("wss://example.com/ws").unwrap();
        config.failover = vec![WireConfig::new("wss://backup.example.com/ws").unwrap()];
        config.apply_proxy_env(vars).unwrap();
        assert_eq!(config.wire.dial_target(), ("proxy.corp", 3128));
        assert_eq!(config.failover[0].dial_target(), ("proxy.corp", 3128));
        let mut direct = SessionConfig::new("wss://example.com/ws").unwrap();
        direct.proxy_from_env = false;
        direct.apply_proxy_env(vars).unwrap();
        assert_eq!(direct.wire.dial_target(), ("example.com", 443));
    }

    #[test]
    fn the_connection_label_is_the_name_or_the_host_alone() {
        let mut config = SessionConfig::new("wss://example.com:9443/ws?key=s3cret").unwrap();
        assert_eq!(config.connection_name(), "example.com");
        config.name = Some("orders-eu".into());
        assert_eq!(config.connection_name(), "orders-eu");
    }
}
