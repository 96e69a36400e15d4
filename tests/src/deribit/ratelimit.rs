//! Credit buckets: Deribit's rate limiting model.

use std::collections::HashMap;
use std::time::Instant;

use super::config::RateLimits;

/// A bucket of credits, refilled continuously.
#[derive(Debug, Clone)]
struct Bucket {
    credits: f64,
    last: Instant,
}

/// One bucket per key (an account, or a connection before it authenticates).
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    buckets: HashMap<String, Bucket>,
}

/// Whether `method` is charged the subscribe cost.
fn is_subscribe(method: &str) -> bool {
    matches!(method, "public/subscribe" | "private/subscribe")
}

impl RateLimiter {
    /// Charges `method` to `key`'s bucket; `false` when it lacks the credits
    /// (nothing is taken then).
    pub(crate) fn charge(
        &mut self,
        limits: &RateLimits,
        key: &str,
        method: &str,
        now: Instant,
    ) -> bool {
        let cost = if is_subscribe(method) {
            limits.subscribe_cost
        } else {
            limits.cost
        } as f64;
        let bucket = self.buckets.entry(key.to_owned()).or_insert(Bucket {
            credits: limits.bucket as f64,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.credits =
            (bucket.credits + elapsed * limits.refill_per_sec as f64).min(limits.bucket as f64);
        bucket.last = now;
        if bucket.credits >= cost {
            bucket.credits -= cost;
            true
        } else {
            false
        }
    }

    /// Forgets `key`'s bucket (a connection's, when it ends).
    pub(crate) fn forget(&mut self, key: &str) {
        self.buckets.remove(key);
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
}
