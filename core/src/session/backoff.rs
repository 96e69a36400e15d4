//! Reconnect backoff: how long to wait after each failed connection attempt.
//!
//! Pure arithmetic: no clocks, and randomness only from a caller-supplied RNG,
//! so the same seed and the same failures give the same delays. All arithmetic
//! saturates, and every delay is at most [`BackoffConfig::max_delay`].

use std::time::Duration;

use rand::{Rng, RngExt};

/// How reconnect delays grow with the number of failed attempts (counted from 1).
///
/// For example, with a base of 100 ms, `Linear` waits 100, 200, 300 ms…,
/// `Exponential` waits 100, 200, 400 ms…, and `Jittered` draws random delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffStrategy {
    /// `delay(attempt) = base * attempt`, capped at `max_delay`.
    Linear,
    /// `delay(attempt) = base * 2^(attempt - 1)`, capped at `max_delay`.
    Exponential,
    /// Randomised delays drawn from the session's seeded RNG.
    Jittered(Jitter),
}

/// The kind of randomisation used by [`BackoffStrategy::Jittered`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// "Full jitter": uniform in `[0, min(max_delay, base * 2^(attempt - 1))]`.
    Full,
    /// "Decorrelated jitter": uniform in `[base, min(max_delay, previous * 3)]`,
    /// where `previous` is the last delay of the streak (initially `base`). If
    /// `base > max_delay` the delay is `max_delay`.
    Decorrelated,
}

/// Reconnect policy.
///
/// The default is exponential growth with full jitter: base 250 ms, at most
/// 30 s between attempts, retrying forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// How delays grow.
    pub strategy: BackoffStrategy,
    /// The unit delay the strategy scales.
    pub base: Duration,
    /// Upper bound on any single delay.
    pub max_delay: Duration,
    /// Failed attempts allowed in a row before giving up; `None` = forever.
    ///
    /// With `Some(n)`, the first `n` failures of a streak each get a delay and
    /// the `n + 1`th gives up.
    pub max_attempts: Option<u32>,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            strategy: BackoffStrategy::Jittered(Jitter::Full),
            base: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            max_attempts: None,
        }
    }
}

impl BackoffConfig {
    /// The inclusive range `(min, max)` any delay after failure number
    /// `attempt` (1-based; 0 is treated as 1) may take under this policy.
    ///
    /// For `Linear` and `Exponential` both ends are the exact delay. For
    /// decorrelated jitter the upper end is `min(max_delay, base * 3^attempt)`,
    /// since `previous` can at most triple each time.
    pub fn bounds(&self, attempt: u32) -> (Duration, Duration) {
        let k = attempt.max(1);
        match self.strategy {
            BackoffStrategy::Linear => {
                let d = self.scaled(Some(u128::from(k)));
                (d, d)
            }
            BackoffStrategy::Exponential => {
                let d = self.scaled(1u128.checked_shl(k - 1));
                (d, d)
            }
            BackoffStrategy::Jittered(Jitter::Full) => {
                (Duration::ZERO, self.scaled(1u128.checked_shl(k - 1)))
            }
            BackoffStrategy::Jittered(Jitter::Decorrelated) => {
                let hi = self.scaled(3u128.checked_pow(k));
                (self.base.min(hi), hi)
            }
        }
    }

    /// `min(max_delay, base * factor)`; a `None` factor means "overflowed".
    fn scaled(&self, factor: Option<u128>) -> Duration {
        let max = self.max_delay.as_nanos();
        factor
            .and_then(|f| self.base.as_nanos().checked_mul(f))
            .map_or(self.max_delay, |n| from_nanos(n.min(max)))
    }
}

/// Converts nanoseconds to a `Duration`, saturating at `Duration::MAX`.
fn from_nanos(n: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    match u64::try_from(n / NANOS_PER_SEC) {
        Ok(secs) => Duration::new(secs, (n % NANOS_PER_SEC) as u32),
        Err(_) => Duration::MAX,
    }
}

/// A uniform random duration in `[lo, hi]` (`lo <= hi`).
pub(crate) fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: Duration, hi: Duration) -> Duration {
    from_nanos(rng.random_range(lo.as_nanos()..=hi.as_nanos()))
}

/// The current failure streak of a session: counts failed attempts and
/// produces the delay before each retry.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    config: BackoffConfig,
    attempt: u32,
    /// The last delay returned (decorrelated jitter); `base` at streak start.
    previous: Duration,
}

impl Backoff {
    /// A fresh streak with no failures yet.
    pub(crate) fn new(config: BackoffConfig) -> Self {
        Self {
            config,
            attempt: 0,
            previous: config.base,
        }
    }

    /// Counts one more failed attempt and returns the delay before the next.
    ///
    /// Afterwards [`attempts`](Self::attempts) equals the number of failures
    /// so far; the result is `None` (give up) when that exceeds
    /// `max_attempts`. Otherwise the delay lies within
    /// `config.bounds(attempts())` and is at most `max_delay`.
    pub(crate) fn next_delay<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Duration> {
        self.attempt = self.attempt.saturating_add(1);
        if self.config.max_attempts.is_some_and(|n| self.attempt > n) {
            return None;
        }
        let delay = match self.config.strategy {
            BackoffStrategy::Linear | BackoffStrategy::Exponential => {
                self.config.bounds(self.attempt).0
            }
            BackoffStrategy::Jittered(Jitter::Full) => {
                let (lo, hi) = self.config.bounds(self.attempt);
                uniform(rng, lo, hi)
            }
            BackoffStrategy::Jittered(Jitter::Decorrelated) => {
                let hi = self.config.max_delay.min(self.previous.saturating_mul(3));
                uniform(rng, self.config.base.min(hi), hi)
            }
        };
        self.previous = delay;
        Some(delay)
    }

    /// Failures in the current streak.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Ends the streak (called after reaching `Ready`).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
        self.previous = self.config.base;
    }

    /// The policy this streak follows.
    #[cfg(test)]
    pub(crate) fn config(&self) -> &BackoffConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn config(strategy: BackoffStrategy, max_attempts: Option<u32>) -> BackoffConfig {
        BackoffConfig {
            strategy,
            base: ms(100),
            max_delay: ms(1000),
            max_attempts,
        }
    }

    /// `n` delays from a streak that already had `start` failures.
    fn run(config: BackoffConfig, seed: u64, start: u32, n: u32) -> Vec<Option<Duration>> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut b = Backoff::new(config);
        b.attempt = start;
        (0..n).map(|_| b.next_delay(&mut rng)).collect()
    }

    const STRATEGIES: [BackoffStrategy; 4] = [
        BackoffStrategy::Linear,
        BackoffStrategy::Exponential,
        BackoffStrategy::Jittered(Jitter::Full),
        BackoffStrategy::Jittered(Jitter::Decorrelated),
    ];

    #[test]
    fn exact_sequences_are_capped() {
        use BackoffStrategy::{Exponential, Linear};
        let linear = [100, 200, 300, 400, 500, 600, 1000];
        let exponential = [100, 200, 400, 800, 1000, 1000, 1000];
        for (strategy, want) in [(Linear, linear), (Exponential, exponential)] {
            let c = config(strategy, None);
            let got = run(c, 0, 0, 6).into_iter().chain(run(c, 0, 20, 1));
            assert!(got.eq(want.map(|n| Some(ms(n)))), "{strategy:?}");
        }
    }

    #[test]
    fn max_attempts_and_reset() {
        let mut b = Backoff::new(config(BackoffStrategy::Exponential, Some(2)));
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(b.next_delay(&mut rng), Some(ms(100)));
        assert_eq!(b.next_delay(&mut rng), Some(ms(200)));
        assert_eq!(b.next_delay(&mut rng), None);
        assert_eq!(b.next_delay(&mut rng), None);
        assert_eq!(b.attempts(), 4);
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert_eq!(b.next_delay(&mut rng), Some(ms(100)));
        assert_eq!(b.attempts(), 1);
        assert_eq!(b.config().max_attempts, Some(2));
        let zero = config(BackoffStrategy::Linear, Some(0));
        assert_eq!(run(zero, 0, 0, 1), [None]);
    }

    /// Full jitter, base 100 ms, cap 1 s: each delay is uniform in
    /// `[0, min(1 s, 100 ms × 2^(n−1))]`. The ceilings are written out from
    /// that definition, not taken from `bounds()`, and the draws must come
    /// near both ends, so a doubled or halved range fails.
    #[test]
    fn full_jitter_spans_its_literal_range() {
        let ceilings_ms = [100, 200, 400, 800, 1000, 1000, 1000];
        let c = config(BackoffStrategy::Jittered(Jitter::Full), None);
        for (start, ceiling) in (0..).zip(ceilings_ms.map(ms)) {
            let draws: Vec<Duration> = (0..400)
                .map(|seed| run(c, seed, start, 1)[0].expect("no attempt limit"))
                .collect();
            let (lo, hi) = (draws.iter().min().unwrap(), draws.iter().max().unwrap());
            assert!(
                *hi <= ceiling,
                "attempt {}: {hi:?} > {ceiling:?}",
                start + 1
            );
            assert!(*hi >= ceiling * 9 / 10, "attempt {}: max {hi:?}", start + 1);
            assert!(*lo <= ceiling / 10, "attempt {}: min {lo:?}", start + 1);
        }
    }

    /// Decorrelated jitter, base 100 ms, cap 1 s: each delay is uniform in
    /// `[100 ms, min(1 s, 3 × previous)]`, the first `previous` being the base.
    #[test]
    fn decorrelated_jitter_follows_its_literal_rule() {
        let c = config(BackoffStrategy::Jittered(Jitter::Decorrelated), None);
        let mut reached_cap = false;
        for seed in 0..200 {
            let mut previous = ms(100);
            for delay in run(c, seed, 0, 12).into_iter().map(Option::unwrap) {
                let ceiling = (previous * 3).min(ms(1000));
                assert!(
                    ms(100) <= delay && delay <= ceiling,
                    "{delay:?} vs {ceiling:?}"
                );
                reached_cap |= delay >= ms(900);
                previous = delay;
            }
        }
        assert!(reached_cap, "the delays grow towards the cap");
    }

    #[test]
    fn bounds_are_the_documented_ranges() {
        let full = config(BackoffStrategy::Jittered(Jitter::Full), None);
        assert_eq!(full.bounds(1), (ms(0), ms(100)));
        assert_eq!(full.bounds(4), (ms(0), ms(800)));
        assert_eq!(full.bounds(9), (ms(0), ms(1000)));
        let exp = config(BackoffStrategy::Exponential, None);
        assert_eq!(exp.bounds(3), (ms(400), ms(400)));
        let dec = config(BackoffStrategy::Jittered(Jitter::Decorrelated), None);
        assert_eq!(dec.bounds(2), (ms(100), ms(900)));
        assert_eq!(dec.bounds(3), (ms(100), ms(1000)));
    }

    #[test]
    fn default_is_full_jitter() {
        let c = BackoffConfig::default();
        assert_eq!(c.strategy, BackoffStrategy::Jittered(Jitter::Full));
        assert_eq!((c.base, c.max_delay), (ms(250), ms(30_000)));
        assert_eq!(c.max_attempts, None);
    }

    #[test]
    fn huge_values_saturate() {
        for strategy in STRATEGIES {
            let max = Duration::MAX;
            let c = BackoffConfig {
                base: max,
                max_delay: max,
                ..config(strategy, None)
            };
            for attempt in [0, 1, 2, 64, 129, u32::MAX] {
                let (lo, hi) = c.bounds(attempt);
                assert!(lo <= hi);
            }
            let got = run(c, 3, u32::MAX - 1, 3);
            assert!(got.iter().all(Option::is_some), "{strategy:?}");
        }
    }

    fn duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (0u64..5_000_000_000).prop_map(Duration::from_nanos),
            (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        ]
    }

    proptest! {
        #[test]
        fn delays_within_bounds_and_deterministic(
            strategy in proptest::sample::select(STRATEGIES.to_vec()),
            base in duration(),
            max_delay in duration(),
            max_attempts in proptest::option::of(0u32..40),
            seed in any::<u64>(),
            n in 1u32..60,
            start in prop_oneof![Just(0u32), any::<u32>()],
        ) {
            let c = BackoffConfig { strategy, base, max_delay, max_attempts };
            let delays = run(c, seed, start, n);
            for (attempt, d) in (1..=n).map(|i| start.saturating_add(i)).zip(&delays) {
                prop_assert_eq!(d.is_none(), max_attempts.is_some_and(|m| attempt > m));
                if let Some(d) = *d {
                    let (lo, hi) = c.bounds(attempt);
                    prop_assert!(lo <= d && d <= hi, "{lo:?} <= {d:?} <= {hi:?}");
                    prop_assert!(d <= max_delay);
                }
            }
            prop_assert_eq!(delays, run(c, seed, start, n), "same seed, same delays");
        }
    }
}
