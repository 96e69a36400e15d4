//! What a service allows per connection, declared as data, and the sliding
//! window that counts events against a per-window limit.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Per-connection limits a [`Pool`](super::Pool) respects. The default is
/// unlimited with no rotation: one connection carries everything.
///
/// Binance's market streams, as its documentation states them ("WebSocket
/// Limits"): 1024 streams per connection, 5 incoming messages per second,
/// 300 connections per 5 minutes per IP, and every connection is cut after
/// 24 hours:
///
/// ```
/// use std::time::Duration;
/// use wsnova_core::pool::PoolLimits;
/// let binance = PoolLimits {
///     max_streams_per_connection: Some(1024),
///     max_subscribe_messages_per_second: Some(5),
///     max_new_connections: Some(300),
///     per_window: Duration::from_secs(300),
///     connection_lifetime: Some(Duration::from_secs(24 * 3600)),
///     rotation_margin: Duration::from_secs(600),
/// };
/// assert_eq!(binance.rotate_after(), Some(Duration::from_secs(23 * 3600 + 3000)));
/// assert_eq!(PoolLimits::default().rotate_after(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    /// Channels one connection may carry; `None`: no limit.
    pub max_streams_per_connection: Option<usize>,
    /// (Un)subscribe messages one connection may send per second; `None`: no limit.
    pub max_subscribe_messages_per_second: Option<u32>,
    /// Connections the pool may open per [`per_window`](Self::per_window)
    /// (reconnects of existing connections included); `None`: no limit.
    pub max_new_connections: Option<u32>,
    /// The window of [`max_new_connections`](Self::max_new_connections).
    pub per_window: Duration,
    /// How long the service keeps a connection before it cuts it; `None`: forever.
    pub connection_lifetime: Option<Duration>,
    /// How long before the cut the replacement is opened.
    pub rotation_margin: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_streams_per_connection: None,
            max_subscribe_messages_per_second: None,
            max_new_connections: None,
            per_window: Duration::from_secs(60),
            connection_lifetime: None,
            rotation_margin: Duration::ZERO,
        }
    }
}

impl PoolLimits {
    /// How long after a connection came up its replacement is opened:
    /// `connection_lifetime - rotation_margin`; `None` without a lifetime.
    pub fn rotate_after(&self) -> Option<Duration> {
        self.connection_lifetime
            .map(|life| life.saturating_sub(self.rotation_margin))
    }

    /// The stream limit as a number (`usize::MAX` when unlimited).
    pub(crate) fn streams(&self) -> usize {
        self.max_streams_per_connection.unwrap_or(usize::MAX).max(1)
    }
}

/// Counts events in a sliding window: at most `max` within any `window`.
///
/// ```
/// use std::time::{Duration, Instant};
/// use wsnova_core::pool::Window;
/// let t0 = Instant::now();
/// let mut w = Window::new(Some(2), Duration::from_secs(1));
/// assert!(w.try_take(t0) && w.try_take(t0));
/// assert!(!w.try_take(t0));
/// assert_eq!(w.next_free(t0), Some(t0 + Duration::from_secs(1)));
/// assert!(w.try_take(t0 + Duration::from_secs(1)));
/// ```
#[derive(Debug, Clone)]
pub struct Window {
    max: Option<u32>,
    window: Duration,
    taken: VecDeque<Instant>,
}

impl Window {
    /// A window allowing `max` events per `window` (`None`: unlimited).
    pub fn new(max: Option<u32>, window: Duration) -> Self {
        Window {
            max,
            window,
            taken: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        while self
            .taken
            .front()
            .is_some_and(|at| *at + self.window <= now)
        {
            self.taken.pop_front();
        }
    }

    /// Whether an event may happen at `now`.
    pub fn allows(&mut self, now: Instant) -> bool {
        self.expire(now);
        self.max.is_none_or(|max| self.taken.len() < max as usize)
    }

    /// Records an event at `now` if allowed; `false` (nothing recorded) otherwise.
    pub fn try_take(&mut self, now: Instant) -> bool {
        if !self.allows(now) {
            return false;
        }
        self.record(now);
        true
    }

    /// Records an event that happened whether allowed or not (e.g. a reconnect).
    pub fn record(&mut self, now: Instant) {
        if self.max.is_some() {
            self.taken.push_back(now);
        }
    }

    /// Takes back one event recorded at `at` (a reservation not used).
    pub fn cancel(&mut self, at: Instant) {
        if let Some(i) = self.taken.iter().rposition(|t| *t == at) {
            self.taken.remove(i);
        }
    }

    /// When the next event will be allowed, if it is not at `now`.
    pub fn next_free(&mut self, now: Instant) -> Option<Instant> {
        if self.allows(now) {
            return None;
        }
        let max = self.max? as usize;
        // The event that must leave the window for one more to fit.
        let blocking = self.taken.len() - max;
        self.taken.get(blocking).map(|at| *at + self.window)
    }

    /// When the oldest event that keeps the window full leaves it; `None`
    /// when it is not full (as of the last call that took `now`).
    pub fn free_at(&self) -> Option<Instant> {
        let max = self.max? as usize;
        let len = self.taken.len();
        (len >= max).then(|| self.taken[len - max] + self.window)
    }

    /// Events in the window at `now`.
    pub fn count(&mut self, now: Instant) -> usize {
        self.expire(now);
        self.taken.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_takes_back_only_the_event_recorded_at_that_instant() {
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let mut w = Window::new(Some(2), Duration::from_secs(10));
        w.record(t0);
        w.record(t0 + second);
        assert!(!w.allows(t0 + second));
        w.cancel(t0 + 2 * second); // nothing was recorded then
        assert_eq!(w.count(t0 + second), 2);
        w.cancel(t0 + second);
        assert_eq!(w.count(t0 + second), 1);
        assert_eq!(w.next_free(t0 + second), None, "room again");
        w.record(t0 + 3 * second);
        // Full: the first event leaves the window ten seconds after it.
        assert_eq!(
            w.next_free(t0 + 3 * second),
            Some(t0 + Duration::from_secs(10))
        );
        assert_eq!(w.free_at(), Some(t0 + Duration::from_secs(10)));
        w.cancel(t0);
        assert_eq!(w.free_at(), None, "not full");
    }
}
