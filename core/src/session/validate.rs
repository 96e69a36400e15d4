//! Configuration mistakes, found before anything is dialled.
//!
//! [`SessionConfig::validate`] runs every check below; [`Session::connect`]
//! runs it too, so a wrong setting fails at once with [`ConfigError`] instead
//! of showing up later as an endless reconnect loop or a connection that
//! drops every few milliseconds.
//!
//! [`Session::connect`]: super::Session::connect

use std::time::Duration;

use super::SessionConfig;

/// A setting that cannot work. Each message names the field (with its path,
/// as in a configuration file: `heartbeat.pong_timeout`) and the bad value.
///
/// What is **not** a mistake, on purpose:
/// - `queue_capacity = 0`: nothing waits while not ready; a request or
///   message sent then fails at once with `QueueFull`.
/// - `heartbeat.pong_timeout >= heartbeat.ping_interval`: pings may overlap;
///   the pong deadline runs from the oldest unanswered ping.
/// - `stable_after = 0`: the backoff streak ends as soon as `Ready` is reached.
/// - `rate_limits.<class>.refill_amount = 0`: a bucket that never refills.
/// - `rate_limits.<class>.queue_capacity = 0`: nothing of that class waits
///   for tokens; what cannot leave at once fails with `RateLimited`.
/// - `backoff.max_attempts = Some(0)`: never reconnect.
///
/// ```
/// use std::time::Duration;
/// use wsnova_core::session::{ConfigError, SessionConfig};
/// let mut config = SessionConfig::new("ws://127.0.0.1:9001/")?;
/// config.request_timeout = Duration::ZERO;
/// let err = config.validate().unwrap_err();
/// assert_eq!(err, ConfigError::ZeroDuration { field: "request_timeout" });
/// assert_eq!(err.to_string(), "request_timeout = 0s: it must be greater than zero");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `url` is not a usable `ws://` or `wss://` URL (shown without its
    /// query, which may carry secrets).
    #[error("url = {url:?}: not a usable WebSocket URL: {reason}")]
    InvalidUrl {
        /// The URL as given, its query replaced by `?…`.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The `proxy` key is not a usable proxy URL, or carries a password
    /// (secrets are set in code or through the environment, never in a
    /// settings file). The URL is not repeated.
    #[error("proxy: {reason}")]
    InvalidProxy {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A header cannot be sent in the upgrade request.
    #[error("headers.{name:?}: {reason}")]
    InvalidHeader {
        /// The header name as given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Custom TLS settings were given for a plain `ws://` URL, which never
    /// uses TLS: they would be silently ignored.
    #[error(
        "wire.{option}: TLS settings were given but the URL {url:?} is plain ws://; \
         use wss:// or drop them"
    )]
    TlsOnPlainUrl {
        /// `root_certificates` or `tls_config`.
        option: &'static str,
        /// The URL, without its query.
        url: String,
    },
    /// A subprotocol cannot be offered (RFC 6455 §4.1: a non-empty HTTP
    /// token, each offered once).
    #[error("subprotocols: {value:?} {reason}")]
    InvalidSubprotocol {
        /// The subprotocol as given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A timeout or interval is zero: it would fire at once, every time.
    #[error("{field} = 0s: it must be greater than zero")]
    ZeroDuration {
        /// The field, e.g. `connect_timeout` or `heartbeat.pong_timeout`.
        field: &'static str,
    },
    /// A count or size is zero where nothing could ever pass.
    #[error("{field} = 0: it must be greater than zero")]
    ZeroSize {
        /// The field, e.g. `rate_limit.capacity` or `max_message_size`.
        field: &'static str,
    },
    /// `backoff.max_delay` is below `backoff.base`: every delay would be
    /// cut to `max_delay`, so the growth the strategy promises never happens.
    #[error("backoff.max_delay = {max_delay:?} is less than backoff.base = {base:?}")]
    BackoffInverted {
        /// The configured base delay.
        base: Duration,
        /// The configured upper bound.
        max_delay: Duration,
    },
    /// A rate-limit class's bucket would let nothing through (`capacity`)
    /// or refill in no time at all (`refill_interval`).
    #[error("rate_limits.{class}.{field} = 0{unit}: it must be greater than zero", unit = if *field == "refill_interval" { "s" } else { "" })]
    ZeroRateLimit {
        /// The class's name, e.g. `default` or `matching_engine`.
        class: &'static str,
        /// `capacity` or `refill_interval`.
        field: &'static str,
    },
    /// A rate-limit class is named by an empty string.
    #[error("rate_limits: a class has an empty name")]
    UnnamedRateClass,
    /// `refresh_at` is not a fraction in `(0, 1]`.
    #[error("refresh_at = {0}: it must be greater than 0 and at most 1")]
    RefreshAtOutOfRange(f64),
}

/// Replaces the query of `url` (anything after `?`) by `?…`.
pub(crate) fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((before, _)) => format!("{before}?…"),
        None => url.to_owned(),
    }
}

impl SessionConfig {
    /// Checks every setting for a mistake that cannot work (see
    /// [`ConfigError`] for the rules); the first one found is returned.
    /// [`Session::connect`](super::Session::connect) calls this before it
    /// dials, and loading a configuration with serde calls it after reading.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_core::session::SessionConfig;
    /// let mut config = SessionConfig::new("wss://example.com/ws")?;
    /// assert_eq!(config.validate(), Ok(()));
    /// config.backoff.max_delay = Duration::from_millis(10); // below the 250 ms base
    /// assert!(config.validate().unwrap_err().to_string().contains("backoff.max_delay"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(option) = self.wire.ignored_tls_option() {
            let url = format!("{:?}", self.wire.endpoint());
            return Err(ConfigError::TlsOnPlainUrl { option, url });
        }
        if let Some((value, reason)) = self.wire.subprotocol_problem() {
            return Err(ConfigError::InvalidSubprotocol { value, reason });
        }
        let limits = self.wire.size_limits();
        nonzero_size("max_frame_size", limits.max_frame_size as u64)?;
        nonzero_size("max_message_size", limits.max_message_size as u64)?;
        nonzero("connect_timeout", self.connect_timeout)?;
        nonzero("request_timeout", self.request_timeout)?;
        nonzero("close_timeout", self.close_timeout)?;
        let heartbeat = &self.heartbeat;
        if let Some(interval) = heartbeat.ping_interval {
            nonzero("heartbeat.ping_interval", interval)?;
            nonzero("heartbeat.pong_timeout", heartbeat.pong_timeout)?;
        }
        if let Some(idle) = heartbeat.idle_timeout {
            nonzero("heartbeat.idle_timeout", idle)?;
        }
        let backoff = &self.backoff;
        nonzero("backoff.base", backoff.base)?;
        if backoff.max_delay < backoff.base {
            return Err(ConfigError::BackoffInverted {
                base: backoff.base,
                max_delay: backoff.max_delay,
            });
        }
        self.rate_limits.validate()?;
        // `!(x > 0.0)` also catches NaN.
        if !(self.refresh_at > 0.0 && self.refresh_at <= 1.0) {
            return Err(ConfigError::RefreshAtOutOfRange(self.refresh_at));
        }
        Ok(())
    }
}

impl super::RateLimits {
    /// Checks every class's override: a class must have a name, a bucket
    /// must hold something and refill over some time. (The adapter's
    /// declared limits are checked when they are applied.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_core::session::{ConfigError, RateClass, RateLimitConfig, RateLimits};
    /// let empty = RateLimitConfig {
    ///     capacity: 0, refill_amount: 5, refill_interval: Duration::from_secs(1), queue_capacity: 8,
    /// };
    /// let limits = RateLimits::default().with(RateClass::new("orders"), empty);
    /// let err = limits.validate().unwrap_err();
    /// assert_eq!(err, ConfigError::ZeroRateLimit { class: "orders", field: "capacity" });
    /// assert_eq!(err.to_string(), "rate_limits.orders.capacity = 0: it must be greater than zero");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (class, limit) in self.overrides() {
            check_class_limit(class, limit.as_ref())?;
        }
        Ok(())
    }
}

/// One class's limit: named, a bucket that holds something and refills over time.
pub(crate) fn check_class_limit(
    class: super::RateClass,
    limit: Option<&super::RateLimitConfig>,
) -> Result<(), ConfigError> {
    if class.name().is_empty() {
        return Err(ConfigError::UnnamedRateClass);
    }
    let Some(limit) = limit else { return Ok(()) };
    let zero = |field| ConfigError::ZeroRateLimit {
        class: class.name(),
        field,
    };
    if limit.capacity == 0 {
        return Err(zero("capacity"));
    }
    if limit.refill_interval.is_zero() {
        return Err(zero("refill_interval"));
    }
    Ok(())
}

fn nonzero(field: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() {
        return Err(ConfigError::ZeroDuration { field });
    }
    Ok(())
}

fn nonzero_size(field: &'static str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::ZeroSize { field });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_redacted_and_the_rest_kept() {
        // A query may carry a token (`?token=…`): it never reaches a message.
        assert_eq!(redact_query("wss://h/ws?token=s3cret"), "wss://h/ws?…");
        assert_eq!(redact_query("wss://h/ws?"), "wss://h/ws?…");
        assert_eq!(redact_query("wss://h:9443/ws"), "wss://h:9443/ws");
    }

    #[test]
    fn refresh_at_is_a_fraction_above_0_and_at_most_1() {
        let mut config = super::super::SessionConfig::new("ws://127.0.0.1:9001/").unwrap();
        for ok in [1.0, 0.5, 0.001] {
            config.refresh_at = ok;
            assert_eq!(config.validate(), Ok(()), "{ok}");
        }
        for bad in [0.0, -0.5, 1.5, f64::NAN] {
            config.refresh_at = bad;
            assert!(
                matches!(config.validate(), Err(ConfigError::RefreshAtOutOfRange(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn rate_limits_check_every_class() {
        use super::super::{RateClass, RateLimitConfig, RateLimits};
        use std::time::Duration;
        let good = RateLimitConfig {
            capacity: 5,
            refill_amount: 5,
            refill_interval: Duration::from_secs(1),
            queue_capacity: 8,
        };
        let limits = RateLimits::default().with(RateClass::new("orders"), good);
        assert_eq!(limits.validate(), Ok(()));
        let stalled = RateLimitConfig {
            refill_interval: Duration::ZERO,
            ..good
        };
        let limits = limits.with(RateClass::new("quotes"), stalled);
        assert_eq!(
            limits.validate(),
            Err(ConfigError::ZeroRateLimit {
                class: "quotes",
                field: "refill_interval"
            })
        );
    }
}
