//! Rate limits in a recording: classes by name, durations in microseconds,
//! so a live change (`Session::set_rate_limits`) replays like any command.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::session::{Adapter, RateClass, RateLimitConfig, RateLimits, SessionError};

/// One class's override as recorded: a limit, or `None` for no limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedLimit {
    /// The class's name ([`RateClass::name`]).
    pub class: String,
    /// The limit; `None`: the class is not limited.
    pub limit: Option<RecordedRate>,
}

/// A [`RateLimitConfig`] as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRate {
    /// `capacity`.
    pub capacity: u64,
    /// `refill_amount`.
    pub refill_amount: u64,
    /// `refill_interval`, in microseconds.
    pub refill_interval_us: u64,
    /// `queue_capacity`.
    pub queue_capacity: usize,
}

/// The overrides of `limits`, by class name.
pub(super) fn record(limits: &RateLimits) -> Vec<RecordedLimit> {
    limits
        .overrides()
        .map(|(class, limit)| RecordedLimit {
            class: class.name().to_owned(),
            limit: limit.map(|l| RecordedRate {
                capacity: l.capacity,
                refill_amount: l.refill_amount,
                refill_interval_us: l.refill_interval.as_micros() as u64,
                queue_capacity: l.queue_capacity,
            }),
        })
        .collect()
}

/// The [`RateLimits`] a recording names, its classes found among those
/// the adapter declares (and the default class); an unknown name is
/// refused, as the recorded session could not have had it either.
pub(super) fn restore<A: Adapter + ?Sized>(
    adapter: &A,
    adapter_defaults: bool,
    overrides: &[RecordedLimit],
) -> Result<RateLimits, SessionError> {
    let known: Vec<RateClass> = std::iter::once(RateClass::DEFAULT)
        .chain(adapter.default_rate_limits().into_iter().map(|(c, _)| c))
        .collect();
    let mut limits = if adapter_defaults {
        RateLimits::default()
    } else {
        RateLimits::off()
    };
    for recorded in overrides {
        let class = known
            .iter()
            .copied()
            .find(|c| c.name() == recorded.class)
            .ok_or_else(|| {
                SessionError::InvalidParams(format!("unknown rate class {:?}", recorded.class))
            })?;
        let limit = recorded.limit.map(|r| RateLimitConfig {
            capacity: r.capacity,
            refill_amount: r.refill_amount,
            refill_interval: Duration::from_micros(r.refill_interval_us),
            queue_capacity: r.queue_capacity,
        });
        limits.set(class, limit);
    }
    Ok(limits)
}
