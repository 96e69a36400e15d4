//! The rate-limit commands and getters of a [`Session`]: the limits of
//! each class, changed live without a reconnect, and each class's tokens
//! and queue.

use std::time::Instant;

use super::Adapter;
use super::core::link_of;
use super::error::SessionError;
use super::handle::Session;
use super::rate_classes::{RateClass, RateLimits};
use super::tap::Call;
use super::validate::check_class_limit;

impl<A: Adapter + ?Sized> Session<A> {
    /// Replaces the rate limits from `now` on, without a reconnect: e.g.
    /// the account moved to another matching-engine tier. Each class keeps
    /// its queue; a class still limited keeps the tokens it has (capped at
    /// its new capacity: a change never grants a fresh burst), a class no
    /// longer limited sends what waits at once. The new limits also hold
    /// after later reconnects.
    ///
    /// Fails with [`SessionError::Config`] (and changes nothing) when a
    /// limit cannot work (see [`RateLimits::validate`]), or with
    /// [`SessionError::Closed`].
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use wsnova_core::session::{Plain, RateClass, RateLimitConfig, RateLimits, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, now);
    /// assert_eq!(session.rate_limit_tokens_of(RateClass::DEFAULT, now), None);
    /// let limit = RateLimitConfig {
    ///     capacity: 20, refill_amount: 5, refill_interval: Duration::from_secs(1), queue_capacity: 64,
    /// };
    /// session.set_rate_limits(now, RateLimits::default().with(RateClass::DEFAULT, limit))?;
    /// assert_eq!(session.rate_limit_tokens_of(RateClass::DEFAULT, now), Some(20));
    /// let broken = RateLimitConfig { capacity: 0, ..limit };
    /// assert!(session.set_rate_limits(now, RateLimits::default().with(RateClass::DEFAULT, broken)).is_err());
    /// assert_eq!(session.rate_limits().get(RateClass::DEFAULT), Some(Some(limit)), "unchanged");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_rate_limits(
        &mut self,
        now: Instant,
        limits: RateLimits,
    ) -> Result<(), SessionError> {
        let call = limits.clone();
        self.recorded(now, Call::RateLimits(&call), |s| {
            s.command(now)?;
            limits.validate()?;
            let adapter = s.adapter.as_dyn();
            let resolved = limits.resolve(&adapter.default_rate_limits());
            for (class, limit) in &resolved {
                check_class_limit(*class, Some(limit))?;
            }
            tracing::debug!(classes = resolved.len(), "rate limits changed");
            s.core.outbound.queues.set_limits(&resolved, now);
            s.core.env.config.rate_limits = limits;
            let phase = s.state();
            link_of!(s.core, adapter, phase).pump();
            s.pump();
            Ok(())
        })
    }

    /// The rate limits in force (the configuration's, or the last
    /// [`set_rate_limits`](Self::set_rate_limits)), before the adapter's
    /// defaults are applied; see [`effective_rate_limits`](Self::effective_rate_limits).
    pub fn rate_limits(&self) -> &RateLimits {
        &self.core.env.config.rate_limits
    }

    /// Every limited class with the limit it is held to: the adapter's
    /// declared limits with the overrides applied.
    pub fn effective_rate_limits(&self) -> Vec<(RateClass, super::RateLimitConfig)> {
        let declared = self.adapter.as_dyn().default_rate_limits();
        self.core.env.config.rate_limits.resolve(&declared)
    }

    /// Whole tokens of `class` at `now`; `None` when the class is not limited.
    pub fn rate_limit_tokens_of(&mut self, class: RateClass, now: Instant) -> Option<u64> {
        self.core.outbound.tokens(class, now)
    }

    /// The application's requests and messages of `class` waiting to be
    /// sent (for tokens, or for the connection to be ready).
    pub fn queued_in(&self, class: RateClass) -> usize {
        self.core
            .outbound
            .queues
            .lane(class)
            .map_or(0, |lane| lane.items.len())
    }
}
