//! The permits a shared rate class holds (see
//! [`shared_permits`](super::shared_permits)): what a queue lane checks and
//! spends. Kept apart from the session's API so the queue does not depend
//! on the session handle.

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
