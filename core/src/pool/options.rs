//! [`PoolOptions`]: a pool built from the same [`Builder`] settings as a
//! single connection — the session configuration (with the proxy the
//! environment asks for), the event queues' capacity and [`LagPolicy`].
//!
//! Options that name one socket or one session cannot apply to many and
//! are refused with [`ConnectError::InvalidOption`] naming them, rather
//! than ignored: a recording (one session's tape; record a connection on
//! its own instead), `dial_to` and `addresses` (every connection of a pool
//! dials the service itself).

use crate::driver::{Builder, ConnectError, DEFAULT_EVENT_CAPACITY, LagPolicy};
use crate::session::SessionConfig;

/// What a driver needs to start a pool besides the adapter and the limits.
///
/// ```
/// use wsnova_core::driver::{Builder, LagPolicy};
/// use wsnova_core::pool::PoolOptions;
/// let builder = Builder::new("ws://127.0.0.1:9001/")?
///     .event_capacity(64)
///     .lag_policy(LagPolicy::DropOldest);
/// let options = PoolOptions::from_builder(&builder, [("ALL_PROXY", "socks5h://127.0.0.1:1080")])?;
/// assert_eq!((options.capacity, options.policy), (64, LagPolicy::DropOldest));
/// assert_eq!(options.config.wire.dial_target(), ("127.0.0.1", 1080));
/// let recorded = Builder::new("ws://127.0.0.1:9001/")?.record("/tmp/tape");
/// assert!(PoolOptions::from_builder(&recorded, [("A", "B")]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Every connection's configuration (each gets its own seed and name).
    pub config: SessionConfig,
    /// Each event consumer's queue capacity.
    pub capacity: usize,
    /// What a full consumer queue does.
    pub policy: LagPolicy,
}

impl PoolOptions {
    /// `config` as it is, with queues of `DEFAULT_EVENT_CAPACITY` under
    /// [`LagPolicy::DropOldest`].
    pub fn from_config(config: SessionConfig) -> PoolOptions {
        PoolOptions {
            config,
            capacity: DEFAULT_EVENT_CAPACITY,
            policy: LagPolicy::DropOldest,
        }
    }

    /// The settings of `builder`, with the proxy `vars` (the environment)
    /// ask for unless the builder said otherwise; refuses what a pool
    /// cannot honour (see the module docs).
    pub fn from_builder<I, K, V>(builder: &Builder, vars: I) -> Result<PoolOptions, ConnectError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        builder.validate()?;
        let refused = if builder.recording().is_some() {
            Some("record")
        } else if builder.dial_override().is_some() {
            Some("dial_to")
        } else if !builder.address_override().is_empty() {
            Some("addresses")
        } else {
            None
        };
        if let Some(option) = refused {
            return Err(ConnectError::InvalidOption(format!(
                "{option} applies to one connection, not to a pool"
            )));
        }
        Ok(PoolOptions {
            config: builder.session_config_with_env(vars)?,
            capacity: builder.capacity(),
            policy: builder.policy(),
        })
    }
}

impl From<SessionConfig> for PoolOptions {
    fn from(config: SessionConfig) -> Self {
        PoolOptions::from_config(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> Builder {
        Builder::new("ws://127.0.0.1:9001/").expect("url")
    }

    #[test]
    fn options_for_one_connection_are_refused_by_name() {
        let no_env: [(&str, &str); 0] = [];
        let refused = [
            (builder().record("/tmp/tape"), "record"),
            (builder().dial_to("127.0.0.1", 9002), "dial_to"),
            (
                builder().addresses(["127.0.0.1:9002".parse().unwrap()]),
                "addresses",
            ),
        ];
        for (builder, option) in refused {
            match PoolOptions::from_builder(&builder, no_env) {
                Err(ConnectError::InvalidOption(why)) => assert!(why.starts_with(option), "{why}"),
                other => panic!("{option}: {other:?}"),
            }
        }
        let plain = builder()
            .event_capacity(7)
            .lag_policy(LagPolicy::Backpressure);
        let options = PoolOptions::from_builder(&plain, no_env).expect("a pool can honour it");
        assert_eq!(
            (options.capacity, options.policy),
            (7, LagPolicy::Backpressure)
        );
    }
}
