//! A quota, and its local share: the same GCRA as the Lua script, on this
//! process's clock, for when Redis cannot be reached.

use std::time::{Duration, Instant};

use wsnova_core::session::RateLimitConfig;

/// A quota that cannot be shared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// It never refills (or always is full): nothing to pace.
    #[error("a shared quota needs a refill amount and interval above zero")]
    NoRefill,
    /// Its burst is zero.
    #[error("a shared quota needs a capacity above zero")]
    NoCapacity,
}

/// A quota: a burst of `capacity` permits, refilled by `refill_amount`
/// every `refill_interval`, accrued continuously (a token bucket, which
/// GCRA evaluates with one timestamp).
///
/// ```
/// use std::time::Duration;
/// use wsnova_cluster::limits::Quota;
/// let quota = Quota::new(50_000, 10_000, Duration::from_secs(1))?; // Deribit's credits
/// assert_eq!(quota.emission_us(), 100.0); // µs per credit
/// let share = quota.share(3);
/// assert_eq!(share.capacity(), 16_666);
/// assert!((share.per_second() - 10_000.0 / 3.0).abs() < 1e-6);
/// # Ok::<(), wsnova_cluster::limits::QuotaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    capacity: u64,
    /// Microseconds per permit.
    emission_us: f64,
}

impl Quota {
    /// `capacity` permits of burst, `refill_amount` more per `refill_interval`.
    pub fn new(
        capacity: u64,
        refill_amount: u64,
        refill_interval: Duration,
    ) -> Result<Self, QuotaError> {
        if refill_amount == 0 || refill_interval.is_zero() {
            return Err(QuotaError::NoRefill);
        }
        if capacity == 0 {
            return Err(QuotaError::NoCapacity);
        }
        let emission_us = refill_interval.as_secs_f64() * 1e6 / refill_amount as f64;
        Ok(Quota {
            capacity,
            emission_us,
        })
    }

    /// The quota of a class's limit, as the adapter declares it (or the
    /// user's override).
    pub fn of(limit: &RateLimitConfig) -> Result<Self, QuotaError> {
        Quota::new(limit.capacity, limit.refill_amount, limit.refill_interval)
    }

    /// The burst, in permits.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Microseconds between two permits at the sustained rate.
    pub fn emission_us(&self) -> f64 {
        self.emission_us
    }

    /// Permits per second, sustained.
    pub fn per_second(&self) -> f64 {
        1e6 / self.emission_us
    }

    /// The burst tolerance, in microseconds: `capacity * emission`.
    pub fn tolerance_us(&self) -> f64 {
        self.capacity as f64 * self.emission_us
    }

    /// One node's share when `nodes` share the quota: the burst divided
    /// (rounded down, at least 1) and the rate divided.
    pub fn share(&self, nodes: u32) -> Quota {
        let nodes = nodes.max(1);
        Quota {
            capacity: (self.capacity / u64::from(nodes)).max(1),
            emission_us: self.emission_us * f64::from(nodes),
        }
    }
}

/// A GCRA on this process's clock.
///
/// ```
/// use std::time::{Duration, Instant};
/// use wsnova_cluster::limits::{LocalShare, Quota};
/// let t0 = Instant::now();
/// let quota = Quota::new(10, 10, Duration::from_secs(1))?;
/// let mut full = LocalShare::full(quota, t0);
/// assert_eq!(full.take(t0, 1, 100), Ok(10));
/// assert_eq!(full.take(t0, 1, 1), Err(Duration::from_millis(100)));
/// let mut empty = LocalShare::empty(quota, t0);
/// assert!(empty.take(t0, 1, 1).is_err(), "no burst at the start");
/// assert_eq!(empty.take(t0 + Duration::from_millis(250), 1, 5), Ok(2));
/// # Ok::<(), wsnova_cluster::limits::QuotaError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LocalShare {
    quota: Quota,
    origin: Instant,
    /// Theoretical arrival time, microseconds after `origin`.
    tat: f64,
}

impl LocalShare {
    /// A share with its whole burst available at `now`.
    pub fn full(quota: Quota, now: Instant) -> Self {
        LocalShare {
            quota,
            origin: now,
            tat: 0.0,
        }
    }

    /// A share with nothing available at `now` (it refills from there).
    pub fn empty(quota: Quota, now: Instant) -> Self {
        LocalShare {
            quota,
            origin: now,
            tat: quota.tolerance_us(),
        }
    }

    /// The quota it enforces.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    fn micros(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.origin).as_secs_f64() * 1e6
    }

    /// Permits available at `now`.
    pub fn room(&self, now: Instant) -> u64 {
        let now = self.micros(now);
        let tat = self.tat.max(now);
        ((now + self.quota.tolerance_us() - tat) / self.quota.emission_us).floor() as u64
    }

    /// Takes between `at_least` (at least 1) and `wanted` permits at `now`:
    /// `Ok(granted)`, or `Err(wait)` until `at_least` fit (`Duration::MAX`:
    /// never, `at_least` exceeds the burst).
    pub fn take(&mut self, now: Instant, at_least: u64, wanted: u64) -> Result<u64, Duration> {
        let at_least = at_least.max(1);
        let wanted = wanted.max(at_least);
        if at_least > self.quota.capacity {
            return Err(Duration::MAX);
        }
        let granted = self.room(now).min(wanted);
        let now = self.micros(now);
        let tat = self.tat.max(now);
        if granted < at_least {
            let wait =
                tat + at_least as f64 * self.quota.emission_us - self.quota.tolerance_us() - now;
            return Err(Duration::from_secs_f64(wait.max(0.0) / 1e6));
        }
        self.tat = tat + granted as f64 * self.quota.emission_us;
        Ok(granted)
    }
}
