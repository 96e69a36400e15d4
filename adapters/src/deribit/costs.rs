//! Deribit's credit-based rate limits as request costs for the session's
//! token bucket.

use std::time::Duration;

use wsnova_core::session::RateLimitConfig;

/// Methods served by the matching engine, which Deribit limits separately
/// (tiered by trading volume).
const MATCHING_ENGINE: &[&str] = &[
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
];

/// Deribit's credit model: every request spends credits from a bucket that
/// refills at a fixed rate. The defaults are the documented
/// non-matching-engine limits: 500 credits per request, a bucket of 50,000
/// (a burst of 100 requests), 10,000 credits per second (20 requests per
/// second sustained); subscribes cost 3,000 (about 3.3 per second).
///
/// Matching-engine requests (buy, sell, edit, cancel, …) have their own,
/// volume-tiered limit on Deribit (e.g. 30 per second, burst 100); the
/// session has one bucket, so they are charged `matching_engine` credits
/// from it (default 500: at most 20 per second, within the lowest tiers).
///
/// Deribit counts credits per sub-account: sessions of one account share
/// the server's bucket but each has its own here, so give each a share.
///
/// ```
/// use wsnova_adapters::deribit::Credits;
/// let credits = Credits::default().with_cost("public/get_instruments", 1_000);
/// assert_eq!(credits.cost("public/ticker"), 500);
/// assert_eq!(credits.cost("public/subscribe"), 3_000);
/// assert_eq!(credits.cost("public/get_instruments"), 1_000);
/// let limit = credits.rate_limit(1024);
/// assert_eq!((limit.capacity, limit.refill_amount), (50_000, 10_000));
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
    /// Cost of a matching-engine request (buy, sell, edit, cancel, …).
    pub matching_engine: u64,
    /// Costs of particular methods, overriding the above.
    pub overrides: Vec<(String, u64)>,
}

impl Default for Credits {
    fn default() -> Self {
        Credits {
            capacity: 50_000,
            refill_per_second: 10_000,
            request: 500,
            subscribe: 3_000,
            matching_engine: 500,
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

    /// The credits a request for `method` spends.
    pub fn cost(&self, method: &str) -> u64 {
        if let Some((_, cost)) = self.overrides.iter().find(|(m, _)| m == method) {
            return *cost;
        }
        match method {
            "public/subscribe" | "private/subscribe" => self.subscribe,
            m if MATCHING_ENGINE.contains(&m) => self.matching_engine,
            _ => self.request,
        }
    }

    /// The session's token bucket for this model (`SessionConfig::rate_limit`),
    /// with room for `queue_capacity` requests waiting for credits.
    pub fn rate_limit(&self, queue_capacity: usize) -> RateLimitConfig {
        RateLimitConfig {
            capacity: self.capacity,
            refill_amount: self.refill_per_second,
            refill_interval: Duration::from_secs(1),
            queue_capacity,
        }
    }
}
