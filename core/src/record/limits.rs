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

#[cfg(test)]
mod tests {
    use super::*;

    /// Declares one class besides the default.
    struct Engine;

    const ENGINE: RateClass = RateClass::new("matching_engine");

    impl Adapter for Engine {
        fn default_rate_limits(&self) -> Vec<(RateClass, RateLimitConfig)> {
            vec![(ENGINE, limit(1))]
        }
    }

    fn limit(capacity: u64) -> RateLimitConfig {
        RateLimitConfig {
            capacity,
            refill_amount: 2,
            refill_interval: Duration::from_micros(1_500),
            queue_capacity: 7,
        }
    }

    #[test]
    fn overrides_are_recorded_by_class_name_and_restored() {
        let limits = RateLimits::off()
            .with(ENGINE, limit(9))
            .with(RateClass::DEFAULT, limit(4));
        let recorded = record(&limits);
        let engine = recorded
            .iter()
            .find(|r| r.class == "matching_engine")
            .unwrap();
        assert_eq!(
            engine.limit,
            Some(RecordedRate {
                capacity: 9,
                refill_amount: 2,
                refill_interval_us: 1_500,
                queue_capacity: 7,
            })
        );
        assert_eq!(recorded.len(), 2);
        let restored = restore(&Engine, false, &recorded).unwrap();
        assert_eq!(restored, limits);
        // With the adapter's defaults kept, only the recorded classes change.
        let kept = restore(&Engine, true, &recorded[..0]).unwrap();
        assert_eq!(kept, RateLimits::default());
        assert_ne!(kept, RateLimits::off());
    }

    #[test]
    fn a_class_the_adapter_does_not_declare_is_refused() {
        let recorded = [RecordedLimit {
            class: "orders".into(),
            limit: None,
        }];
        let err = restore(&Engine, true, &recorded).unwrap_err();
        assert!(err.to_string().contains("orders"), "{err}");
        let lifted = [RecordedLimit {
            class: "matching_engine".into(),
            limit: None,
        }];
        let restored = restore(&Engine, true, &lifted).unwrap();
        assert_eq!(restored.get(ENGINE), Some(None), "lifted");
    }
}
