//! Shared rate limits, driver side: the [`Client`] methods through which
//! something outside the session (e.g. `wsnova-cluster`'s permit feeder,
//! which asks Redis) reads what a shared class needs and grants permits.
//! The session decides what leaves with them (see
//! `Session::grant_rate_permits`).

use wsnova_core::session::{PermitDemand, RateClass, SessionError, SessionState};

use crate::client::Client;
use crate::driver::now;

impl Client {
    /// Makes `class` shared: its requests leave only with permits granted by
    /// [`grant_rate_permits`](Self::grant_rate_permits), on top of its local
    /// limit (see `Session::share_rate_class`).
    pub fn share_rate_class(&self, class: RateClass) -> Result<(), SessionError> {
        self.shared.lock().session.share_rate_class(now(), class)
    }

    /// Makes `class` local again (see `Session::unshare_rate_class`).
    pub fn unshare_rate_class(&self, class: RateClass) -> Result<(), SessionError> {
        let result = self.shared.lock().session.unshare_rate_class(now(), class);
        self.shared.wake.notify_one();
        result
    }

    /// Grants `permits` to shared `class` and wakes the driver to write
    /// what they let leave.
    pub fn grant_rate_permits(&self, class: RateClass, permits: u64) -> Result<(), SessionError> {
        let result = self
            .shared
            .lock()
            .session
            .grant_rate_permits(now(), class, permits);
        self.shared.wake.notify_one();
        result
    }

    /// What shared `class` needs granted to send what waits in it; fails
    /// with [`SessionError::Closed`] once the session is closed.
    pub fn rate_permits_wanted(&self, class: RateClass) -> Result<PermitDemand, SessionError> {
        let inner = self.shared.lock();
        if inner.session.state() == SessionState::Closed {
            return Err(SessionError::Closed);
        }
        Ok(inner.session.rate_permits_wanted(class))
    }

    /// Permits shared `class` holds; `None` when it is not shared.
    pub fn rate_permits_of(&self, class: RateClass) -> Option<u64> {
        self.shared.lock().session.rate_permits_of(class)
    }
}
