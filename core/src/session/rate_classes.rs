//! Rate-limit classes: which bucket a request is charged to, and the limits
//! of each class (the adapter's declared defaults, with the user's
//! overrides).
//!
//! Services often limit kinds of requests separately: Deribit keeps one
//! credit pool for its matching engine (orders, edits, cancels; tiered by
//! trading volume) and another for everything else. A session keeps one
//! token bucket **and one queue** per class, so a class that waits for
//! credits never delays another: an order never waits behind market data.

use super::RateLimitConfig;

/// A class of requests with its own token bucket and its own queue.
///
/// Named by a static string (compared by value, no allocation per
/// request). Requests an adapter does not classify belong to
/// [`RateClass::DEFAULT`], as do raw application messages.
///
/// ```
/// use wsnova_core::session::RateClass;
/// const ORDERS: RateClass = RateClass::new("orders");
/// assert_eq!(ORDERS.name(), "orders");
/// assert_ne!(ORDERS, RateClass::DEFAULT);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateClass(&'static str);

impl RateClass {
    /// The class of every request an adapter does not classify otherwise.
    pub const DEFAULT: RateClass = RateClass("default");

    /// A class named `name` (keep it short: it appears in errors and logs).
    pub const fn new(name: &'static str) -> Self {
        RateClass(name)
    }

    /// The class's name.
    pub const fn name(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for RateClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// What one request costs: the class it is charged to and how many tokens.
///
/// ```
/// use wsnova_core::session::{Charge, RateClass};
/// let charge = Charge::new(RateClass::DEFAULT, 500);
/// assert_eq!((charge.class, charge.cost), (RateClass::DEFAULT, 500));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// The bucket (and queue) it is charged to.
    pub class: RateClass,
    /// Tokens taken from that bucket; 0 is never delayed.
    pub cost: u64,
}

impl Charge {
    /// `cost` tokens of `class`.
    pub const fn new(class: RateClass, cost: u64) -> Self {
        Charge { class, cost }
    }
}

/// The rate limits of a session, by class: the adapter's declared defaults
/// ([`Adapter::default_rate_limits`](super::Adapter::default_rate_limits)),
/// with the user's overrides on top.
///
/// The default is **on**: every class the adapter declares is limited as it
/// declares (Deribit: its documented non-matching-engine credits and the
/// lowest matching-engine tier). Override a class with [`with`](Self::with),
/// lift a class's limit with [`without`](Self::without), or start from
/// nothing with [`off`](Self::off).
///
/// ```
/// use std::time::Duration;
/// use wsnova_core::session::{RateClass, RateLimitConfig, RateLimits, SessionConfig};
///
/// const ORDERS: RateClass = RateClass::new("orders");
/// let tier = RateLimitConfig {
///     capacity: 50,                             // burst
///     refill_amount: 20,                        // sustained, per interval
///     refill_interval: Duration::from_secs(1),
///     queue_capacity: 100,
/// };
/// let mut config = SessionConfig::new("wss://example.com/ws")?;
/// config.rate_limits = RateLimits::default().with(ORDERS, tier);
/// assert_eq!(config.rate_limits.get(ORDERS), Some(Some(tier)));
/// assert_eq!(config.rate_limits.get(RateClass::DEFAULT), None); // the adapter's
/// config.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Whether classes without an override take the adapter's declared limit.
    adapter_defaults: bool,
    /// Per class: `Some(limit)`, or `None` for no limit. One entry per class.
    overrides: Vec<(RateClass, Option<RateLimitConfig>)>,
}

impl Default for RateLimits {
    /// The adapter's declared limits, no overrides.
    fn default() -> Self {
        RateLimits {
            adapter_defaults: true,
            overrides: Vec::new(),
        }
    }
}

impl RateLimits {
    /// No limit on any class, the adapter's declared ones included, except
    /// those then set with [`with`](Self::with).
    ///
    /// ```
    /// use wsnova_core::session::{RateClass, RateLimits};
    /// let off = RateLimits::off();
    /// assert!(off.resolve(&[]).is_empty());
    /// ```
    pub fn off() -> Self {
        RateLimits {
            adapter_defaults: false,
            overrides: Vec::new(),
        }
    }

    /// Limits `class` by `limit`, replacing the adapter's limit and an
    /// earlier override.
    pub fn with(mut self, class: RateClass, limit: RateLimitConfig) -> Self {
        self.set(class, Some(limit));
        self
    }

    /// Lifts any limit on `class` (the adapter's included).
    pub fn without(mut self, class: RateClass) -> Self {
        self.set(class, None);
        self
    }

    /// Sets `class`'s override: `Some(limit)`, or `None` for no limit.
    pub fn set(&mut self, class: RateClass, limit: Option<RateLimitConfig>) -> &mut Self {
        match self.overrides.iter_mut().find(|(c, _)| *c == class) {
            Some(entry) => entry.1 = limit,
            None => self.overrides.push((class, limit)),
        }
        self
    }

    /// The override of `class`: `None` when it has none (the adapter's limit
    /// applies, if [`uses_adapter_defaults`](Self::uses_adapter_defaults)),
    /// `Some(None)` when it is explicitly unlimited.
    pub fn get(&self, class: RateClass) -> Option<Option<RateLimitConfig>> {
        self.overrides
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, limit)| *limit)
    }

    /// Whether classes without an override take the adapter's declared limit.
    pub fn uses_adapter_defaults(&self) -> bool {
        self.adapter_defaults
    }

    /// The overrides, in the order they were first set.
    pub fn overrides(&self) -> impl Iterator<Item = (RateClass, Option<RateLimitConfig>)> + '_ {
        self.overrides.iter().copied()
    }

    /// The limit of every limited class, given the adapter's `declared`
    /// ones: declared classes first (in their order), then the other
    /// overridden ones. Unlimited classes are left out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_core::session::{RateClass, RateLimitConfig, RateLimits};
    /// let limit = |capacity| RateLimitConfig {
    ///     capacity, refill_amount: 1, refill_interval: Duration::from_secs(1), queue_capacity: 8,
    /// };
    /// let orders = RateClass::new("orders");
    /// let declared = [(RateClass::DEFAULT, limit(100)), (orders, limit(20))];
    /// let resolved = RateLimits::default().with(orders, limit(50)).resolve(&declared);
    /// assert_eq!(resolved, vec![(RateClass::DEFAULT, limit(100)), (orders, limit(50))]);
    /// assert_eq!(RateLimits::default().without(orders).resolve(&declared).len(), 1);
    /// ```
    pub fn resolve(
        &self,
        declared: &[(RateClass, RateLimitConfig)],
    ) -> Vec<(RateClass, RateLimitConfig)> {
        let mut out: Vec<(RateClass, RateLimitConfig)> = Vec::new();
        for &(class, limit) in declared {
            if out.iter().any(|(c, _)| *c == class) {
                continue; // declared twice: the first counts
            }
            match self.get(class) {
                Some(Some(limit)) => out.push((class, limit)),
                Some(None) => {}
                None if self.adapter_defaults => out.push((class, limit)),
                None => {}
            }
        }
        for (class, limit) in self.overrides() {
            if let Some(limit) = limit
                && !out.iter().any(|(c, _)| *c == class)
            {
                out.push((class, limit));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const ORDERS: RateClass = RateClass::new("orders");
    const QUOTES: RateClass = RateClass::new("quotes");

    fn limit(capacity: u64) -> RateLimitConfig {
        RateLimitConfig {
            capacity,
            refill_amount: 1,
            refill_interval: Duration::from_secs(1),
            queue_capacity: 8,
        }
    }

    #[test]
    fn a_class_displays_as_its_name() {
        assert_eq!(ORDERS.to_string(), "orders");
        assert_eq!(QUOTES.to_string(), QUOTES.name());
    }

    #[test]
    fn off_leaves_out_every_declared_limit_but_the_ones_set() {
        let declared = [(RateClass::DEFAULT, limit(100)), (ORDERS, limit(20))];
        assert!(RateLimits::default().uses_adapter_defaults());
        assert_eq!(RateLimits::default().resolve(&declared), declared);
        let off = RateLimits::off();
        assert!(!off.uses_adapter_defaults());
        assert_eq!(off.resolve(&declared), []);
        let orders_only = RateLimits::off().with(ORDERS, limit(5));
        assert_eq!(orders_only.resolve(&declared), [(ORDERS, limit(5))]);
    }

    #[test]
    fn an_override_of_a_class_the_adapter_does_not_declare_is_added_once() {
        let declared = [(ORDERS, limit(20))];
        let limits = RateLimits::default().with(QUOTES, limit(3));
        assert_eq!(
            limits.resolve(&declared),
            [(ORDERS, limit(20)), (QUOTES, limit(3))]
        );
        let limits = RateLimits::default().with(ORDERS, limit(7));
        assert_eq!(limits.resolve(&declared), [(ORDERS, limit(7))]);
    }
}
