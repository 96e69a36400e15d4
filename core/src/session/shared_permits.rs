//! Rate limits shared with other processes: the seam through which a driver
//! hands a session the permits it obtained elsewhere (e.g. from Redis, see
//! the `wsnova-cluster` crate), so the core stays sans-IO.
//!
//! The driver asks, the core decides with the answer: a *shared* class
//! sends a queued item only when it holds permits for the item's cost (on
//! top of its local token bucket, which still applies). The session says
//! how many it wants ([`Session::rate_permits_wanted`]); the driver obtains
//! them and grants them ([`Session::grant_rate_permits`]); the session
//! spends them in queue order. A shared class short of permits sets no
//! timer: only a grant moves it on.

use std::time::Instant;

use super::Adapter;
use super::core::link_of;
use super::error::SessionError;
use super::handle::Session;
use super::queue::Lane;
use super::rate_classes::RateClass;

/// The permits a shared class holds (granted by the driver, not yet spent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SharedBudget {
    /// Permits granted and not yet spent.
    pub(crate) permits: u64,
}

impl SharedBudget {
    /// Whether `cost` permits are there.
    pub(crate) fn covers(&self, cost: u64) -> bool {
        self.permits >= cost
    }

    /// Spends `cost` permits (after [`covers`](Self::covers) said yes).
    pub(crate) fn spend(&mut self, cost: u64) {
        self.permits = self.permits.saturating_sub(cost);
    }
}

/// What a shared class needs from the driver: permits for the items that
/// wait in it, beyond the permits it already holds.
///
/// `at_least` is what the first waiting item still lacks (nothing moves
/// until it is granted); `wanted` is what every waiting item lacks (grant
/// up to that many to send them all). Both are zero when nothing waits for
/// permits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermitDemand {
    /// Permits the first waiting item still lacks.
    pub at_least: u64,
    /// Permits all waiting items still lack (`>= at_least`).
    pub wanted: u64,
}

impl Lane {
    /// Whether the lane's shared budget (if the class is shared) covers `cost`.
    pub(crate) fn shared_covers(&self, cost: u64) -> bool {
        self.shared.is_none_or(|s| cost == 0 || s.covers(cost))
    }

    /// Spends `cost` permits of the shared budget, if the class is shared.
    pub(crate) fn shared_spend(&mut self, cost: u64) {
        if let Some(shared) = self.shared.as_mut() {
            shared.spend(cost);
        }
    }
}

impl<A: Adapter + ?Sized> Session<A> {
    /// Makes `class` a shared class from now on: its requests leave only
    /// with permits granted by [`grant_rate_permits`](Self::grant_rate_permits)
    /// (its local limit, if any, still applies too). It starts with none.
    ///
    /// ```
    /// use std::time::Instant;
    /// use wsnova_core::session::{Plain, PermitDemand, RateClass, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, now);
    /// session.share_rate_class(now, RateClass::DEFAULT)?;
    /// assert_eq!(session.rate_permits_of(RateClass::DEFAULT), Some(0));
    /// session.grant_rate_permits(now, RateClass::DEFAULT, 3)?;
    /// assert_eq!(session.rate_permits_of(RateClass::DEFAULT), Some(3));
    /// assert_eq!(session.rate_permits_wanted(RateClass::DEFAULT), PermitDemand::default());
    /// session.unshare_rate_class(now, RateClass::DEFAULT)?;
    /// assert_eq!(session.rate_permits_of(RateClass::DEFAULT), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn share_rate_class(&mut self, now: Instant, class: RateClass) -> Result<(), SessionError> {
        self.command(now)?;
        let lane = self.core.outbound.queues.lane_mut(class, now);
        if lane.shared.is_none() {
            lane.shared = Some(SharedBudget::default());
        }
        Ok(())
    }

    /// Makes `class` local again: permits it holds are dropped and what
    /// waits leaves under the local limit alone.
    pub fn unshare_rate_class(
        &mut self,
        now: Instant,
        class: RateClass,
    ) -> Result<(), SessionError> {
        self.command(now)?;
        self.core.outbound.queues.lane_mut(class, now).shared = None;
        self.send_what_may_leave();
        Ok(())
    }

    /// Adds `permits` to shared `class`'s budget and sends what they cover.
    /// Fails with [`SessionError::Closed`]; ignored (permits dropped) when
    /// the class is not shared.
    pub fn grant_rate_permits(
        &mut self,
        now: Instant,
        class: RateClass,
        permits: u64,
    ) -> Result<(), SessionError> {
        self.command(now)?;
        let lane = self.core.outbound.queues.lane_mut(class, now);
        if let Some(shared) = lane.shared.as_mut() {
            shared.permits = shared.permits.saturating_add(permits);
            self.send_what_may_leave();
        }
        Ok(())
    }

    /// Permits shared `class` holds; `None` when the class is not shared.
    pub fn rate_permits_of(&self, class: RateClass) -> Option<u64> {
        self.core
            .outbound
            .queues
            .lane(class)
            .and_then(|l| l.shared)
            .map(|s| s.permits)
    }

    /// What shared `class` needs granted to send what waits in it (the
    /// core's own requests of that class first, then the application's).
    /// All zero when the class is not shared or nothing waits.
    pub fn rate_permits_wanted(&self, class: RateClass) -> PermitDemand {
        let queues = &self.core.outbound.queues;
        let Some(held) = queues.lane(class).and_then(|l| l.shared).map(|s| s.permits) else {
            return PermitDemand::default();
        };
        let control = queues.control.iter().filter(|q| q.class == class);
        let user = queues.lane(class).into_iter().flat_map(|l| l.items.iter());
        let mut costs = control.chain(user).map(|q| q.cost);
        let first = costs.next().unwrap_or(0);
        let total = costs.fold(first, u64::saturating_add);
        PermitDemand {
            at_least: first.saturating_sub(held),
            wanted: total.saturating_sub(held),
        }
    }

    /// Writes what the queues let leave now, as after a limit change.
    fn send_what_may_leave(&mut self) {
        let adapter = self.adapter.as_dyn();
        let phase = self.state();
        link_of!(self.core, adapter, phase).pump();
        self.pump();
    }
}
