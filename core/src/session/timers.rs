//! The session's timers in one small table; the next deadline is their minimum.

use std::time::Instant;

/// Every timer the session can arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Dial + TLS + upgrade deadline.
    Connect,
    /// Time to send the next heartbeat ping.
    Ping,
    /// A ping is unanswered past this.
    PongDeadline,
    /// Nothing received for too long.
    Idle,
    /// Time to reconnect.
    Backoff,
    /// The close handshake took too long.
    Close,
    /// Time to refresh the auth token.
    Refresh,
    /// The rate limiter has tokens for the next queued request.
    Refill,
    /// The connection stayed ready long enough to end the failure streak.
    Stable,
    /// A request refused by the server's rate limit may go again.
    Retry,
    /// A resynced channel's fresh snapshot is overdue: ask again.
    Resync,
}

const COUNT: usize = 11;

impl Timer {
    const ALL: [Timer; COUNT] = [
        Timer::Connect,
        Timer::Ping,
        Timer::PongDeadline,
        Timer::Idle,
        Timer::Backoff,
        Timer::Close,
        Timer::Refresh,
        Timer::Refill,
        Timer::Stable,
        Timer::Retry,
        Timer::Resync,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Deadlines by timer.
#[derive(Debug, Default, Clone)]
pub(crate) struct Timers([Option<Instant>; COUNT]);

impl Timers {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer.index()] = Some(at);
    }

    pub(crate) fn clear(&mut self, timer: Timer) {
        self.0[timer.index()] = None;
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.0[timer.index()]
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Disarms and returns the earliest timer due at `now`, if any.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let due = Timer::ALL
            .into_iter()
            .filter(|t| self.get(*t).is_some_and(|at| at <= now))
            .min_by_key(|t| self.get(*t))?;
        self.clear(due);
        Some(due)
    }

    /// Disarms every timer that belongs to a live connection.
    pub(crate) fn clear_connection(&mut self) {
        for t in [
            Timer::Connect,
            Timer::Ping,
            Timer::PongDeadline,
            Timer::Idle,
            Timer::Close,
            Timer::Refresh,
            Timer::Refill,
            Timer::Stable,
            Timer::Retry,
            Timer::Resync,
        ] {
            self.clear(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expired_timers_come_out_earliest_first_and_only_once() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.set(Timer::Ping, t0 + Duration::from_secs(2));
        timers.set(Timer::Connect, t0 + Duration::from_secs(1));
        timers.set(Timer::Backoff, t0 + Duration::from_secs(9));
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(1)));
        let now = t0 + Duration::from_secs(5);
        assert_eq!(timers.pop_expired(now), Some(Timer::Connect));
        assert_eq!(timers.pop_expired(now), Some(Timer::Ping));
        assert_eq!(timers.pop_expired(now), None);
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(9)));
    }
}
