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
use super::rate_classes::RateClass;
use super::shared_budget::{PermitDemand, SharedBudget};

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
