//! Deribit's rate limiting model: a credit bucket for non-matching-engine
//! requests and a request bucket, tiered, for the matching engine, per key
//! (an account, or a connection before it authenticates). Source: Deribit's
//! "Rate Limits" article (docs.deribit.com/articles/rate-limits).

use std::collections::HashMap;
use std::time::Instant;

use super::config::RateLimits;

/// Methods served by the matching engine (the article's list, with the
/// later edit/cancel variants), limited by the account's tier.
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
    "private/verify_block_trade",
    "private/execute_block_trade",
];

/// Refill the buckets grant ahead of time, in seconds: a client pacing
/// exactly at the rate by its own clock must not be refused because loopback
/// scheduling delivered two requests a few milliseconds closer together than
/// they were sent. Far less than one request at any documented rate.
const JITTER_ALLOWANCE: f64 = 0.02;

/// Which bucket a request is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    /// Orders, edits, cancels: the tiered matching-engine bucket.
    MatchingEngine,
    /// Everything else: the credit bucket.
    Credits,
}

impl Class {
    /// The class of `method`.
    pub(crate) fn of(method: &str) -> Class {
        if MATCHING_ENGINE.contains(&method) {
            Class::MatchingEngine
        } else {
            Class::Credits
        }
    }
}

/// A bucket, refilled continuously.
#[derive(Debug, Clone)]
struct Bucket {
    level: f64,
    last: Instant,
}

/// Buckets per key and class.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    buckets: HashMap<(String, Class), Bucket>,
}

/// Whether `method` is charged the subscribe cost.
fn is_subscribe(method: &str) -> bool {
    matches!(method, "public/subscribe" | "private/subscribe")
}

impl RateLimiter {
    /// Charges `method` to `key`'s bucket of its class; `false` when the
    /// bucket lacks what it costs (nothing is taken then).
    pub(crate) fn charge(
        &mut self,
        limits: &RateLimits,
        key: &str,
        method: &str,
        now: Instant,
    ) -> bool {
        let class = Class::of(method);
        // (capacity, refill per second, cost)
        let (capacity, refill, cost) = match class {
            Class::MatchingEngine => (limits.matching_engine_burst, limits.matching_engine_rate, 1),
            Class::Credits if is_subscribe(method) => {
                (limits.bucket, limits.refill_per_sec, limits.subscribe_cost)
            }
            Class::Credits => (limits.bucket, limits.refill_per_sec, limits.cost),
        };
        let (capacity, refill, cost) = (capacity as f64, refill as f64, cost as f64);
        let bucket = self
            .buckets
            .entry((key.to_owned(), class))
            .or_insert(Bucket {
                level: capacity,
                last: now,
            });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.level = (bucket.level + elapsed * refill).min(capacity);
        bucket.last = now;
        if bucket.level + refill * JITTER_ALLOWANCE >= cost {
            bucket.level = (bucket.level - cost).max(0.0);
            true
        } else {
            false
        }
    }

    /// Forgets `key`'s buckets (a connection's, when it ends).
    pub(crate) fn forget(&mut self, key: &str) {
        self.buckets.retain(|(k, _), _| k != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let limits = RateLimits::default();
        let mut rl = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(rl.charge(&limits, "a", "public/test", t0));
        }
        assert!(!rl.charge(&limits, "a", "public/test", t0));
        assert!(
            rl.charge(&limits, "b", "public/test", t0),
            "buckets are per key"
        );
        // 50 ms refill 500 credits: one more request.
        let t1 = t0 + Duration::from_millis(50);
        assert!(rl.charge(&limits, "a", "public/test", t1));
        assert!(!rl.charge(&limits, "a", "public/test", t1));
    }

    #[test]
    fn the_matching_engine_has_its_own_tiered_bucket() {
        let limits = RateLimits::default(); // Tier 4: burst 20, 5 per second
        let mut rl = RateLimiter::default();
        let t0 = Instant::now();
        // Credits exhausted: orders still go, from their own bucket.
        while rl.charge(&limits, "a", "public/ticker", t0) {}
        for _ in 0..20 {
            assert!(rl.charge(&limits, "a", "private/buy", t0));
        }
        assert!(
            !rl.charge(&limits, "a", "private/cancel", t0),
            "burst spent"
        );
        assert!(
            !rl.charge(&limits, "a", "public/ticker", t0),
            "credits spent"
        );
        // 200 ms: one more order at 5 per second.
        let t1 = t0 + Duration::from_millis(200);
        assert!(rl.charge(&limits, "a", "private/sell", t1));
        assert!(!rl.charge(&limits, "a", "private/sell", t1));
        let tier1 = limits.with_matching_engine(30, 100);
        let mut rl = RateLimiter::default();
        assert_eq!(
            (0..101)
                .filter(|_| rl.charge(&tier1, "a", "private/buy", t0))
                .count(),
            100
        );
        rl.forget("a");
        assert!(rl.charge(&tier1, "a", "private/buy", t0), "forgotten: full");
    }
}
