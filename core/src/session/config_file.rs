//! `SessionConfig` from a configuration file (TOML, JSON, … through serde).
//!
//! The file form is a private mirror of [`SessionConfig`] in which every key
//! but `url` is optional: an omitted key keeps the value of
//! [`SessionConfig::new`]. Unknown keys are refused at every level, naming
//! the key, so a typo never silently falls back to a default. Durations are
//! text such as `"250ms"`, `"10s"`, `"2m"` or `"1m30s"`.
//!
//! Left out on purpose, set in code:
//! - `credentials`: secrets belong in the environment or a secret store,
//!   not in a file next to the settings; a `credentials` key is refused.
//! - a proxy password, for the same reason: `proxy = "http://user@host:3128"`
//!   is read, a URL with `user:password@` is refused. Give a proxy with a
//!   password in code (`Builder::proxy`) or through `HTTPS_PROXY` & co.
//! - TLS roots and rustls configurations (`wire.root_certificates`,
//!   `wire.tls_config`): they are objects, not settings.
//! - `fail_before_first_ready`: the drivers set it from their own
//!   `retry_initial` option.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::validate::redact_query;
use super::{
    BackoffStrategy, ConfigError, HeartbeatConfig, Jitter, RateLimitConfig, SessionConfig,
    StopPolicy,
};
use crate::wire::{Limits, WireError};

/// The file form of [`SessionConfig`]; see the module docs.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    subprotocols: Vec<String>,
    #[serde(default)]
    failover: Vec<String>,
    proxy: Option<String>,
    proxy_from_env: Option<bool>,
    max_frame_size: Option<usize>,
    max_message_size: Option<usize>,
    name: Option<String>,
    seed: Option<u64>,
    connect_timeout: Option<Text>,
    request_timeout: Option<Text>,
    close_timeout: Option<Text>,
    stable_after: Option<Text>,
    queue_capacity: Option<usize>,
    refresh_at: Option<f64>,
    heartbeat: Option<FileHeartbeat>,
    backoff: Option<FileBackoff>,
    rate_limit: Option<FileRateLimit>,
    stop: Option<FileStop>,
}

/// [`StopPolicy`] by name: `"adapter"`, `"on_normal_close"`, `"never"`, or
/// a table `{ after_failures = 5 }`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum FileStop {
    Adapter,
    OnNormalClose,
    AfterFailures(u32),
    Never,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHeartbeat {
    ping_interval: Option<OrOff>,
    pong_timeout: Option<Text>,
    idle_timeout: Option<OrOff>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBackoff {
    strategy: Option<FileStrategy>,
    base: Option<Text>,
    max_delay: Option<Text>,
    max_attempts: Option<u32>,
}

/// [`BackoffStrategy`] by name.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FileStrategy {
    Linear,
    Exponential,
    FullJitter,
    DecorrelatedJitter,
}

/// All four keys are required: a rate limit has no meaningful default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRateLimit {
    capacity: u64,
    refill_amount: u64,
    refill_interval: Text,
    queue_capacity: usize,
}

/// A duration written as text, e.g. `"250ms"`.
struct Text(Duration);

/// A duration, or `"off"` for none.
struct OrOff(Option<Duration>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map(Text).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for OrOff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == "off" {
            return Ok(OrOff(None));
        }
        parse_duration(&text)
            .map(|d| OrOff(Some(d)))
            .map_err(|e| de::Error::custom(format!("{e}, or \"off\"")))
    }
}

/// Parses `"250ms"`, `"10s"`, `"2m"`, `"1h"`, `"1m30s"`: whole numbers, each
/// followed by a unit (`ns`, `us`, `ms`, `s`, `m`, `h`), summed. The one
/// duration syntax of configuration files and the `wsnova` command line.
///
/// ```
/// use std::time::Duration;
/// use wsnova_core::session::parse_duration;
/// assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
/// assert!(parse_duration("10").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "invalid duration {text:?}: expected whole numbers with units \
             (ns, us, ms, s, m, h), e.g. \"250ms\", \"10s\" or \"1m30s\""
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_len = rest[digits..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len() - digits);
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        let part = match &rest[digits..digits + unit_len] {
            "ns" => Duration::from_nanos(number),
            "us" => Duration::from_micros(number),
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => number
                .checked_mul(60)
                .map(Duration::from_secs)
                .ok_or_else(invalid)?,
            "h" => number
                .checked_mul(3600)
                .map(Duration::from_secs)
                .ok_or_else(invalid)?,
            _ => return Err(invalid()),
        };
        total = total.checked_add(part).ok_or_else(invalid)?;
        rest = &rest[digits + unit_len..];
    }
    Ok(total)
}

impl FileConfig {
    /// Applies every key given over the defaults of [`SessionConfig::new`],
    /// then validates the result.
    fn into_config(self) -> Result<SessionConfig, ConfigError> {
        let mut config = SessionConfig::new(&self.url).map_err(|err| {
            let reason = match err {
                WireError::InvalidUrl(reason) => reason,
                _ => "not a ws:// or wss:// URL",
            };
            let url = redact_query(&self.url);
            ConfigError::InvalidUrl { url, reason }
        })?;
        let mut wire = config.wire;
        for (name, value) in self.headers {
            wire = wire.header(&name, &value).map_err(|err| {
                let reason = match err {
                    WireError::InvalidHeader { reason, .. } => reason,
                    _ => "cannot be sent",
                };
                ConfigError::InvalidHeader { name, reason }
            })?;
        }
        for protocol in &self.subprotocols {
            wire = wire.subprotocol(protocol);
        }
        let default_limits = Limits::default();
        config.wire = wire.limits(Limits {
            max_frame_size: self.max_frame_size.unwrap_or(default_limits.max_frame_size),
            max_message_size: self
                .max_message_size
                .unwrap_or(default_limits.max_message_size),
        });
        if let Some(url) = &self.proxy {
            let invalid = |reason| ConfigError::InvalidProxy { reason };
            let proxy = crate::wire::Proxy::parse(url).map_err(|err| match err {
                WireError::InvalidProxy(reason) => invalid(reason),
                _ => invalid("not a proxy URL"),
            })?;
            if proxy.has_password() {
                return Err(invalid(
                    "a password may not be given in a settings file; \
                     set it in code or through the environment (HTTPS_PROXY, …)",
                ));
            }
            config.wire = config.wire.proxy(proxy);
        }
        for url in &self.failover {
            let backup = config.wire.with_url(url).map_err(|err| {
                let reason = match err {
                    WireError::InvalidUrl(reason) => reason,
                    _ => "not a ws:// or wss:// URL",
                };
                ConfigError::InvalidUrl {
                    url: redact_query(url),
                    reason,
                }
            })?;
            config.failover.push(backup);
        }
        set(&mut config.proxy_from_env, self.proxy_from_env);
        set(&mut config.name, self.name.map(Some));
        set(&mut config.seed, self.seed);
        set(
            &mut config.connect_timeout,
            self.connect_timeout.map(|t| t.0),
        );
        set(
            &mut config.request_timeout,
            self.request_timeout.map(|t| t.0),
        );
        set(&mut config.close_timeout, self.close_timeout.map(|t| t.0));
        set(&mut config.stable_after, self.stable_after.map(|t| t.0));
        set(&mut config.queue_capacity, self.queue_capacity);
        set(&mut config.refresh_at, self.refresh_at);
        set(
            &mut config.stop,
            self.stop.map(|stop| match stop {
                FileStop::Adapter => StopPolicy::Adapter,
                FileStop::OnNormalClose => StopPolicy::OnNormalClose,
                FileStop::AfterFailures(n) => StopPolicy::AfterFailures(n),
                FileStop::Never => StopPolicy::Never,
            }),
        );
        if let Some(file) = self.heartbeat {
            file.apply(&mut config.heartbeat);
        }
        if let Some(file) = self.backoff {
            let backoff = &mut config.backoff;
            set(
                &mut backoff.strategy,
                file.strategy.map(FileStrategy::strategy),
            );
            set(&mut backoff.base, file.base.map(|t| t.0));
            set(&mut backoff.max_delay, file.max_delay.map(|t| t.0));
            set(&mut backoff.max_attempts, file.max_attempts.map(Some));
        }
        if let Some(file) = self.rate_limit {
            let limit = RateLimitConfig {
                capacity: file.capacity,
                refill_amount: file.refill_amount,
                refill_interval: file.refill_interval.0,
                queue_capacity: file.queue_capacity,
            };
            config
                .rate_limits
                .set(super::RateClass::DEFAULT, Some(limit));
        }
        config.validate()?;
        Ok(config)
    }
}

impl FileHeartbeat {
    fn apply(self, heartbeat: &mut HeartbeatConfig) {
        set(
            &mut heartbeat.ping_interval,
            self.ping_interval.map(|t| t.0),
        );
        set(&mut heartbeat.pong_timeout, self.pong_timeout.map(|t| t.0));
        set(&mut heartbeat.idle_timeout, self.idle_timeout.map(|t| t.0));
    }
}

impl FileStrategy {
    fn strategy(self) -> BackoffStrategy {
        match self {
            FileStrategy::Linear => BackoffStrategy::Linear,
            FileStrategy::Exponential => BackoffStrategy::Exponential,
            FileStrategy::FullJitter => BackoffStrategy::Jittered(Jitter::Full),
            FileStrategy::DecorrelatedJitter => BackoffStrategy::Jittered(Jitter::Decorrelated),
        }
    }
}

/// Overwrites `field` when the file gave a value.
fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// Reads the file form (see the [`SessionConfig`] docs for the keys), then
/// [validates](SessionConfig::validate) it: a mistake fails the load with
/// the [`ConfigError`] text.
impl<'de> Deserialize<'de> for SessionConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        FileConfig::deserialize(d)?
            .into_config()
            .map_err(de::Error::custom)
    }
}

impl SessionConfig {
    /// Reads a configuration from JSON (the same keys as the TOML form in
    /// the [`SessionConfig`] docs), then validates it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_core::session::SessionConfig;
    /// let config = SessionConfig::from_json_str(
    ///     r#"{"url": "wss://example.com/ws", "request_timeout": "5s"}"#,
    /// )?;
    /// assert_eq!(config.request_timeout, Duration::from_secs(5));
    /// let err = SessionConfig::from_json_str(r#"{"url": "wss://x.io/", "timeout": "5s"}"#)
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("unknown field `timeout`"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json_str(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_sum() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("250ms"), Ok(ms(250)));
        assert_eq!(parse_duration("10s"), Ok(ms(10_000)));
        assert_eq!(parse_duration("2m"), Ok(ms(120_000)));
        assert_eq!(parse_duration("1h"), Ok(ms(3_600_000)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("5us"), Ok(Duration::from_micros(5)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_are_refused_with_the_text() {
        for bad in [
            "",
            "10",
            "s",
            "1.5s",
            "10 s",
            "-1s",
            "3d",
            "99999999999999999999h",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    /// A setting the wire refuses is reported with the wire's own reason,
    /// not a generic one.
    #[test]
    fn a_refused_setting_keeps_the_reason_the_wire_gave() {
        use crate::wire::{Proxy, WireConfig};
        let url_reason = match WireConfig::new("ws:///no-host").unwrap_err() {
            WireError::InvalidUrl(reason) => reason,
            other => panic!("{other:?}"),
        };
        let header_reason = match WireConfig::new("ws://h/").unwrap().header("bad name", "v") {
            Err(WireError::InvalidHeader { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        let proxy_reason = match Proxy::parse("ftp://p:1") {
            Err(WireError::InvalidProxy(reason)) => reason,
            other => panic!("{other:?}"),
        };
        let cases = [
            (r#"{"url": "ws:///no-host"}"#, url_reason),
            (
                r#"{"url": "ws://h/", "headers": {"bad name": "v"}}"#,
                header_reason,
            ),
            (r#"{"url": "ws://h/", "proxy": "ftp://p:1"}"#, proxy_reason),
            (
                r#"{"url": "ws://h/", "failover": ["ws:///no-host"]}"#,
                url_reason,
            ),
        ];
        for (json, reason) in cases {
            assert!(
                ![
                    "not a ws:// or wss:// URL",
                    "cannot be sent",
                    "not a proxy URL"
                ]
                .contains(&reason),
                "{json}: pick an input whose reason is specific"
            );
            let err = SessionConfig::from_json_str(json).unwrap_err().to_string();
            assert!(err.contains(reason), "{json}: {err}");
        }
    }
}
