//! The scheme of the Redis keys that hold the shared limits.

use std::fmt;

use wsnova_core::session::RateClass;

/// Who a quota belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// An exchange account (its API key's client id, or another stable name;
    /// never a secret).
    Account(String),
    /// A source IP address, for limits the service counts per address.
    Ip(std::net::IpAddr),
}

/// The Redis key of one quota: `{prefix}:{venue}:{scope}:{class}`, where
/// scope is `acct:{account}` or `ip:{address}` and class is the
/// [`RateClass`]'s name. Every node sharing a quota must build the same key.
///
/// ```
/// use wsnova_cluster::limits::{LimitKey, Scope};
/// use wsnova_core::session::RateClass;
/// let key = LimitKey::new("deribit", Scope::Account("alice".into()), RateClass::DEFAULT);
/// assert_eq!(key.as_str(), "wsnova:rl:deribit:acct:alice:default");
/// let ip = LimitKey::new("binance", Scope::Ip([10, 0, 0, 7].into()), RateClass::new("orders"))
///     .with_prefix("prod:rl");
/// assert_eq!(ip.as_str(), "prod:rl:binance:ip:10.0.0.7:orders");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LimitKey {
    venue: String,
    scope: Scope,
    class: RateClass,
    key: String,
}

/// The default key prefix.
const PREFIX: &str = "wsnova:rl";

impl LimitKey {
    /// The key of `class`'s quota for `scope` on `venue` (e.g. `deribit`).
    pub fn new(venue: &str, scope: Scope, class: RateClass) -> Self {
        let key = Self::build(PREFIX, venue, &scope, class);
        LimitKey {
            venue: venue.to_owned(),
            scope,
            class,
            key,
        }
    }

    /// The same key under another prefix (e.g. one per environment).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.key = Self::build(prefix, &self.venue, &self.scope, self.class);
        self
    }

    fn build(prefix: &str, venue: &str, scope: &Scope, class: RateClass) -> String {
        format!("{prefix}:{venue}:{scope}:{class}")
    }

    /// The Redis key.
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The class it limits.
    pub fn class(&self) -> RateClass {
        self.class
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Account(account) => write!(f, "acct:{account}"),
            Scope::Ip(ip) => write!(f, "ip:{ip}"),
        }
    }
}
