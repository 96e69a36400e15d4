//! Token-bucket rate limiting for outgoing requests.
//!
//! No clocks: every operation takes the current `now`. Refill is exact integer
//! arithmetic — the bucket keeps whole tokens plus a fraction measured in
//! "token-nanoseconds", so no refill is ever lost to rounding.

use std::time::{Duration, Instant};

/// Token-bucket limits of one rate-limit class (see
/// [`RateLimits`](super::RateLimits)).
///
/// For example, `capacity: 10, refill_amount: 5, refill_interval: 1 s` allows
/// a burst of 10 requests, then 5 per second (one every 200 ms) sustained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Most tokens the bucket holds (also the starting amount).
    pub capacity: u64,
    /// Tokens added per `refill_interval`, accrued continuously (fractions are
    /// kept, never lost to rounding). Zero means the bucket never refills.
    pub refill_amount: u64,
    /// The period over which `refill_amount` tokens accrue. Zero means the
    /// bucket is always full; intervals beyond `u64::MAX` nanoseconds
    /// (about 584 years) are treated as `u64::MAX` nanoseconds.
    pub refill_interval: Duration,
    /// Requests of this class that may wait for tokens while the session is
    /// ready; more are refused with `RequestError::RateLimited`.
    pub queue_capacity: usize,
}

/// A token bucket driven by caller-supplied time.
///
/// A `now` earlier than the latest instant already seen counts as no time
/// passing: the level never goes backwards and nothing panics.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    config: RateLimitConfig,
    /// `refill_interval` in nanoseconds, clamped to `u64::MAX`.
    interval_ns: u64,
    /// Whole tokens, `<= capacity`.
    tokens: u64,
    /// Fraction of the next token, in token-nanoseconds: `< interval_ns`, and
    /// zero whenever the bucket is full.
    frac: u128,
    /// The latest instant seen.
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub(crate) fn new(config: RateLimitConfig, now: Instant) -> Self {
        Self {
            config,
            interval_ns: u64::try_from(config.refill_interval.as_nanos()).unwrap_or(u64::MAX),
            tokens: config.capacity,
            frac: 0,
            last: now,
        }
    }

    /// Accrues the tokens earned between the latest instant seen and `now`.
    fn refill(&mut self, now: Instant) {
        let Some(elapsed) = now.checked_duration_since(self.last) else {
            return;
        };
        self.last = now;
        let capacity = self.config.capacity;
        if self.interval_ns == 0 {
            (self.tokens, self.frac) = (capacity, 0);
            return;
        }
        if self.tokens >= capacity || self.config.refill_amount == 0 {
            return;
        }
        let (e, i, r) = (
            elapsed.as_nanos(),
            u128::from(self.interval_ns),
            u128::from(self.config.refill_amount),
        );
        // e * r split as (e / i) * r * i + (e % i) * r, so nothing overflows:
        // frac < i <= u64::MAX and (e % i) * r < u64::MAX * u64::MAX.
        let part = self.frac + (e % i) * r;
        let earned = (e / i).saturating_mul(r).saturating_add(part / i);
        let total = u128::from(self.tokens).saturating_add(earned);
        if total >= u128::from(capacity) {
            (self.tokens, self.frac) = (capacity, 0);
        } else {
            // total < capacity, so it fits in a u64.
            (self.tokens, self.frac) = (total as u64, part % i);
        }
    }

    /// Whole tokens available at `now`.
    pub(crate) fn available(&mut self, now: Instant) -> u64 {
        self.refill(now);
        self.tokens
    }

    /// Takes `cost` tokens if that many are available at `now`; returns
    /// whether it did. A cost of zero always succeeds.
    pub(crate) fn try_take(&mut self, now: Instant, cost: u64) -> bool {
        self.refill(now);
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }

    /// The earliest instant at which `cost` tokens will be available (`now`
    /// itself if they already are), assuming nothing else is taken meanwhile.
    ///
    /// `None` means never: `cost > capacity`, the bucket does not refill, or
    /// the instant is beyond what `Instant` can represent.
    pub(crate) fn ready_at(&mut self, now: Instant, cost: u64) -> Option<Instant> {
        self.refill(now);
        if cost > self.config.capacity {
            return None;
        }
        if self.tokens >= cost {
            return Some(now);
        }
        let r = u128::from(self.config.refill_amount);
        if r == 0 {
            return None;
        }
        // Token-nanoseconds still missing; (cost - tokens) and interval_ns
        // both fit in a u64, so the product fits in a u128.
        let need = u128::from(cost - self.tokens) * u128::from(self.interval_ns) - self.frac;
        let wait_ns = need.div_ceil(r);
        self.last.checked_add(from_nanos(wait_ns)?)
    }

    /// The limits this bucket enforces.
    pub(crate) fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Enforces `config` from `now` on: what was earned until `now` under
    /// the old limits is kept, capped at the new capacity (a lower tier
    /// never grants a fresh burst; a higher one fills up at its own rate).
    pub(crate) fn reconfigure(&mut self, now: Instant, config: RateLimitConfig) {
        self.refill(now);
        let tokens = self.tokens.min(config.capacity);
        // The fraction of a token was measured in the old interval: it is
        // dropped (less than one token, never more than allowed).
        *self = TokenBucket::new(config, self.last);
        self.tokens = tokens;
    }
}

/// Converts nanoseconds to a `Duration`, or `None` if it does not fit.
fn from_nanos(n: u128) -> Option<Duration> {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(n / NANOS_PER_SEC).ok()?;
    Some(Duration::new(secs, (n % NANOS_PER_SEC) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config(capacity: u64, refill_amount: u64, interval: Duration) -> RateLimitConfig {
        RateLimitConfig {
            capacity,
            refill_amount,
            refill_interval: interval,
            queue_capacity: 8,
        }
    }

    fn ns(n: u64) -> Duration {
        Duration::from_nanos(n)
    }

    /// `ready_at(now, cost)` is exact: taking succeeds there and not 1 ns before.
    fn assert_ready_exact(bucket: &TokenBucket, now: Instant, cost: u64) {
        let Some(at) = bucket.clone().ready_at(now, cost) else {
            return;
        };
        assert!(at >= now);
        assert!(bucket.clone().try_take(at, cost), "take at ready_at");
        if at > now {
            let before = at - ns(1);
            assert!(!bucket.clone().try_take(before, cost), "take 1ns early");
        }
    }

    #[test]
    fn starts_full_and_refills_fractionally() {
        let t0 = Instant::now();
        // 3 tokens per 10 ns: one token every 3.33 ns.
        let mut b = TokenBucket::new(config(5, 3, ns(10)), t0);
        assert_eq!(b.available(t0), 5);
        assert!(b.try_take(t0, 5));
        assert!(!b.try_take(t0, 1));
        assert_eq!(b.ready_at(t0, 1), Some(t0 + ns(4)));
        assert_eq!(b.ready_at(t0, 2), Some(t0 + ns(7)));
        assert_eq!(b.ready_at(t0, 3), Some(t0 + ns(10)));
        // Fractions accumulate across many small steps.
        let mut t = t0;
        for _ in 0..10 {
            t += ns(1);
            b.available(t);
        }
        assert_eq!(b.available(t), 3);
        assert_eq!(b.available(t0 + ns(1_000)), 5, "capped at capacity");
        assert_eq!(b.config().capacity, 5);
    }

    #[test]
    fn ready_at_is_exact() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(config(4, 7, Duration::from_millis(3)), t0);
        assert!(b.try_take(t0, 4));
        for cost in 0..=4 {
            assert_ready_exact(&b, t0 + ns(123), cost);
        }
        assert_eq!(b.ready_at(t0, 5), None, "cost above capacity");
        assert_eq!(b.ready_at(t0, 0), Some(t0));
    }

    #[test]
    fn reconfigure_keeps_the_level_capped_at_the_new_capacity() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(config(10, 1, Duration::from_secs(1)), t0);
        assert!(b.try_take(t0, 4));
        b.reconfigure(t0, config(3, 2, Duration::from_secs(1)));
        assert_eq!(b.available(t0), 3, "capped, no fresh burst");
        assert!(b.try_take(t0, 3));
        assert_eq!(
            b.ready_at(t0, 2),
            Some(t0 + Duration::from_secs(1)),
            "new rate"
        );
        b.reconfigure(t0, config(100, 2, Duration::from_secs(1)));
        assert_eq!(b.available(t0), 0, "a bigger bucket is not filled at once");
        assert_eq!(b.config().capacity, 100);
    }

    #[test]
    fn time_going_backwards_is_ignored() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(1);
        let mut b = TokenBucket::new(config(2, 1, Duration::from_secs(1)), t1);
        assert!(b.try_take(t1, 2));
        assert_eq!(b.available(t0), 0);
        assert_eq!(b.ready_at(t0, 1), Some(t1 + Duration::from_secs(1)));
        assert_eq!(b.available(t1 + Duration::from_secs(1)), 1);
    }

    #[test]
    fn zero_refill_and_zero_interval() {
        let t0 = Instant::now();
        let mut never = TokenBucket::new(config(3, 0, Duration::from_secs(1)), t0);
        assert!(never.try_take(t0, 2));
        assert_eq!(never.ready_at(t0, 1), Some(t0));
        assert_eq!(never.ready_at(t0, 2), None);
        assert_eq!(never.available(t0 + Duration::from_secs(1_000)), 1);

        let mut always = TokenBucket::new(config(3, 0, Duration::ZERO), t0);
        assert!(always.try_take(t0, 3));
        assert!(always.try_take(t0, 3));
        assert_eq!(always.ready_at(t0, 3), Some(t0));
        assert_eq!(always.ready_at(t0, 4), None);
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(config(u64::MAX, u64::MAX, Duration::MAX), t0);
        assert!(b.try_take(t0, u64::MAX));
        let far = Duration::from_nanos(u64::MAX);
        assert_eq!(b.ready_at(t0, u64::MAX), Some(t0 + far), "clamped interval");
        assert_eq!(b.available(t0 + Duration::from_secs(1 << 40)), u64::MAX);
        let mut c = TokenBucket::new(config(u64::MAX, u64::MAX, ns(1)), t0);
        assert!(c.try_take(t0, u64::MAX));
        assert_eq!(c.ready_at(t0, u64::MAX), Some(t0 + ns(1)));
        assert_eq!(c.available(t0 + Duration::from_secs(1 << 40)), u64::MAX);
    }

    proptest! {
        #[test]
        fn bucket_bounds_and_exact_ready_at(
            capacity in prop_oneof![0u64..20, any::<u64>()],
            refill_amount in prop_oneof![0u64..10, any::<u64>()],
            interval_ns in prop_oneof![Just(0u64), 1u64..1_000, any::<u64>()],
            ops in proptest::collection::vec((0u64..2_000, 0u64..25, any::<bool>()), 1..60),
        ) {
            let t0 = Instant::now();
            let c = config(capacity, refill_amount, ns(interval_ns));
            let mut b = TokenBucket::new(c, t0);
            let (mut now, mut elapsed, mut taken) = (t0, 0u128, 0u128);
            for (advance, cost, backwards) in ops {
                if backwards {
                    // Also exercise time going backwards.
                    prop_assert!(b.available(now.checked_sub(ns(advance)).unwrap_or(now)) <= capacity);
                }
                now += ns(advance);
                elapsed += u128::from(advance);
                assert_ready_exact(&b, now, cost);
                if b.try_take(now, cost) {
                    taken += u128::from(cost);
                }
                prop_assert!(b.tokens <= capacity);
                prop_assert!(b.frac < u128::from(interval_ns.max(1)));
                if interval_ns > 0 {
                    let limit = u128::from(capacity)
                        + u128::from(refill_amount) * elapsed / u128::from(interval_ns);
                    prop_assert!(taken <= limit, "taken {taken} > limit {limit}");
                }
            }
        }
    }
}
