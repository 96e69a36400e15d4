//! Deribit's rate limits as rate-limit classes: the matching engine
//! (orders, edits, cancels), limited per volume tier, and everything else,
//! limited in credits. Each class has its own bucket and queue in the
//! session, so orders never wait behind market-data calls.
//!
//! Source: Deribit's "Rate Limits" article (docs.deribit.com/articles/rate-limits):
//! non-matching-engine requests cost 500 credits from a pool of 50,000
//! refilled at 10,000 per second (20 per second sustained, bursts of 100);
//! matching-engine requests have a separate, tiered limit by 7-day trading
//! volume; "if a request arrives when no credits remain, we immediately send
//! a too_many_requests (code 10028) … and terminate the session".

use std::time::Duration;

use wsnova_core::session::{Charge, RateClass, RateLimitConfig};

/// Requests to Deribit's matching engine: their own tiered limit.
pub const MATCHING_ENGINE: RateClass = RateClass::new("matching_engine");

/// Every other request (market data, account, subscriptions, auth): the
/// credit pool. It is the session's default class, so a plain
/// `SessionConfig` `[rate_limit]` or `Builder::rate_limit` overrides it.
pub const NON_MATCHING_ENGINE: RateClass = RateClass::DEFAULT;

/// Methods served by the matching engine, which Deribit limits separately
/// (the "Rate Limits" article's list, with the later edit/cancel variants).
const MATCHING_ENGINE_METHODS: &[&str] = &[
    "private/buy",
    "private/sell",
    "private/edit",
    "private/edit_by_label",
    "private/cancel",
    "private/cancel_all",
    "private/cancel_all_by_currency",
    "private/cancel_all_by_currency_pair",
    "private/cancel_all_by_instrument",
    "private/cancel_all_by_kind_or_type",
    "private/cancel_by_label",
    "private/cancel_quotes",
    "private/close_position",
    "private/mass_quote",
    "private/verify_block_trade",
    "private/execute_block_trade",
];

/// Whether `method` is a matching-engine request.
///
/// ```
/// use wsnova_adapters::deribit::is_matching_engine;
/// assert!(is_matching_engine("private/buy"));
/// assert!(!is_matching_engine("public/get_order_book"));
/// ```
pub fn is_matching_engine(method: &str) -> bool {
    MATCHING_ENGINE_METHODS.contains(&method)
}

/// A Deribit account's matching-engine tier, set hourly from its 7-day
/// trading volume (`private/get_account_summary` reports the current
/// limits). Each tier is a sustained rate with a burst.
///
/// ```
/// use wsnova_adapters::deribit::Tier;
/// let limit = Tier::Tier1.limit(256);
/// assert_eq!((limit.capacity, limit.refill_amount), (100, 30)); // burst 100, 30 per second
/// assert_eq!(Tier::default(), Tier::Tier4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tier {
    /// Over USD 25 million: 30 requests per second, bursts of 100.
    Tier1,
    /// Over USD 5 million: 20 per second, bursts of 50.
    Tier2,
    /// Over USD 1 million: 10 per second, bursts of 30.
    Tier3,
    /// Up to USD 1 million, every account's starting tier (the default):
    /// 5 per second, bursts of 20.
    #[default]
    Tier4,
    /// Limits of your own (e.g. granted to a market maker).
    Custom {
        /// Requests per second, sustained.
        per_second: u64,
        /// Requests in a burst.
        burst: u64,
    },
}

impl Tier {
    /// `(per_second, burst)`.
    pub fn rates(self) -> (u64, u64) {
        match self {
            Tier::Tier1 => (30, 100),
            Tier::Tier2 => (20, 50),
            Tier::Tier3 => (10, 30),
            Tier::Tier4 => (5, 20),
            Tier::Custom { per_second, burst } => (per_second, burst),
        }
    }

    /// The session's bucket for this tier, one token per request, with
    /// room for `queue_capacity` requests waiting.
    pub fn limit(self, queue_capacity: usize) -> RateLimitConfig {
        let (per_second, burst) = self.rates();
        RateLimitConfig {
            capacity: burst,
            refill_amount: per_second,
            refill_interval: Duration::from_secs(1),
            queue_capacity,
        }
    }
}

/// Deribit's rate-limit model. The defaults are the documented ones:
/// non-matching-engine requests spend 500 credits from a bucket of 50,000
/// refilled at 10,000 per second (20 per second, bursts of 100);
/// subscribes cost 3,000 (about 3.3 per second). Matching-engine requests
/// (buy, sell, edit, cancel, …) take one request from their own bucket,
/// limited by the account's [`Tier`] (default [`Tier::Tier4`], where every
/// account starts; set yours with [`with_tier`](Self::with_tier)).
///
/// Deribit counts per sub-account: sessions of one account share the
/// server's buckets but each has its own here, so give each a share.
///
/// ```
/// use wsnova_adapters::deribit::{Credits, MATCHING_ENGINE, NON_MATCHING_ENGINE, Tier};
/// let credits = Credits::default().with_cost("public/get_instruments", 1_000);
/// assert_eq!(credits.cost("public/ticker"), 500);
/// assert_eq!(credits.cost("public/subscribe"), 3_000);
/// assert_eq!(credits.cost("public/get_instruments"), 1_000);
/// assert_eq!(credits.charge("private/buy").class, MATCHING_ENGINE);
/// assert_eq!(credits.charge("public/ticker").class, NON_MATCHING_ENGINE);
/// let limit = credits.rate_limit(1024);
/// assert_eq!((limit.capacity, limit.refill_amount), (50_000, 10_000));
/// let orders = credits.with_tier(Tier::Tier2).matching_engine_limit();
/// assert_eq!((orders.capacity, orders.refill_amount), (50, 20));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credits {
    /// Bucket size in credits (the burst).
    pub capacity: u64,
    /// Credits added back per second.
    pub refill_per_second: u64,
    /// Cost of an ordinary request.
    pub request: u64,
    /// Cost of `public/subscribe` and `private/subscribe`.
    pub subscribe: u64,
    /// The account's matching-engine tier.
    pub tier: Tier,
    /// Requests of each class that may wait for tokens; more are refused
    /// with `RequestError::RateLimited` (default 1024).
    pub queue_capacity: usize,
    /// Costs of particular non-matching-engine methods, overriding the above.
    pub overrides: Vec<(String, u64)>,
}

impl Default for Credits {
    fn default() -> Self {
        Credits {
            capacity: 50_000,
            refill_per_second: 10_000,
            request: 500,
            subscribe: 3_000,
            tier: Tier::default(),
            queue_capacity: 1024,
            overrides: Vec::new(),
        }
    }
}

impl Credits {
    /// Sets the cost of `method` (replacing an earlier override for it).
    pub fn with_cost(mut self, method: impl Into<String>, cost: u64) -> Self {
        let method = method.into();
        self.overrides.retain(|(m, _)| *m != method);
        self.overrides.push((method, cost));
        self
    }

    /// Sets the account's matching-engine tier.
    pub fn with_tier(mut self, tier: Tier) -> Self {
        self.tier = tier;
        self
    }

    /// What a request for `method` spends from its class: one request of
    /// the matching engine, or its credits.
    pub fn cost(&self, method: &str) -> u64 {
        self.charge(method).cost
    }

    /// The class a request for `method` is charged to, and its cost there.
    pub fn charge(&self, method: &str) -> Charge {
        if is_matching_engine(method) {
            return Charge::new(MATCHING_ENGINE, 1);
        }
        if let Some((_, cost)) = self.overrides.iter().find(|(m, _)| m == method) {
            return Charge::new(NON_MATCHING_ENGINE, *cost);
        }
        let cost = match method {
            "public/subscribe" | "private/subscribe" => self.subscribe,
            _ => self.request,
        };
        Charge::new(NON_MATCHING_ENGINE, cost)
    }

    /// The non-matching-engine bucket, with room for `queue_capacity`
    /// requests waiting for credits.
    pub fn rate_limit(&self, queue_capacity: usize) -> RateLimitConfig {
        RateLimitConfig {
            capacity: self.capacity,
            refill_amount: self.refill_per_second,
            refill_interval: Duration::from_secs(1),
            queue_capacity,
        }
    }

    /// The matching-engine bucket of the account's tier.
    pub fn matching_engine_limit(&self) -> RateLimitConfig {
        self.tier.limit(self.queue_capacity)
    }

    /// Both classes' limits, as the adapter declares them to the session.
    pub fn limits(&self) -> Vec<(RateClass, RateLimitConfig)> {
        vec![
            (MATCHING_ENGINE, self.matching_engine_limit()),
            (NON_MATCHING_ENGINE, self.rate_limit(self.queue_capacity)),
        ]
    }
}
