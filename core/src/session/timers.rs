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
    /// The peer broke the protocol: replies to what it sent before may
    /// still leave until this, then the connection fails.
    Linger,
    /// The next waiting subscription batch may leave (its pacing window passed).
    SubscribeBatch,
}

const COUNT: usize = 13;

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
        Timer::Linger,
        Timer::SubscribeBatch,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Deadlines by timer. A suspended timer keeps its deadline but never fires
/// and is left out of [`next`](Self::next) until it is resumed.
///
/// Deadlines are kept as signed nanoseconds from the first one set (8
/// bytes each, not an `Option<Instant>`'s 16): exact, for deadlines within
/// ±292 years of it (beyond, they saturate).
#[derive(Debug, Clone)]
pub(crate) struct Timers {
    /// What the offsets count from: the first deadline set.
    base: Option<Instant>,
    /// Offsets from `base` in nanoseconds; [`UNSET`] when not set.
    deadlines: [i64; COUNT],
    /// One bit per timer (by index): suspended.
    suspended: u16,
    /// The smallest live offset ([`UNSET`] when none), kept as the table
    /// changes so that [`next`](Self::next), asked by the driver on every
    /// turn, reads one field instead of scanning; recomputed only when the
    /// timer holding it moves later, is cleared or suspended.
    earliest: i64,
}

/// A timer without a deadline.
const UNSET: i64 = i64::MIN;

impl Default for Timers {
    fn default() -> Self {
        Timers {
            base: None,
            deadlines: [UNSET; COUNT],
            suspended: 0,
            earliest: UNSET,
        }
    }
}

impl Timers {
    /// `at` as an offset from `base` (saturating, never [`UNSET`]).
    fn offset(base: Instant, at: Instant) -> i64 {
        let nanos = |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        match at.checked_duration_since(base) {
            Some(after) => nanos(after),
            None => (-nanos(base - at)).max(UNSET + 1),
        }
    }

    fn instant(&self, offset: i64) -> Option<Instant> {
        let base = self.base?;
        let magnitude = std::time::Duration::from_nanos(offset.unsigned_abs());
        match offset {
            UNSET => None,
            0.. => Some(base + magnitude),
            _ => Some(base - magnitude),
        }
    }

    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        let base = *self.base.get_or_insert(at);
        let old = self.live(timer);
        let new = Self::offset(base, at);
        self.deadlines[timer.index()] = new;
        if self.is_suspended(timer) {
            return;
        }
        if old == Some(self.earliest) && new > self.earliest {
            self.earliest = self.scan(); // the earliest moved later
        } else if self.earliest == UNSET || new < self.earliest {
            self.earliest = new;
        }
    }

    pub(crate) fn clear(&mut self, timer: Timer) {
        let old = self.live(timer);
        self.deadlines[timer.index()] = UNSET;
        if old == Some(self.earliest) {
            self.earliest = self.scan();
        }
    }

    /// The timer's deadline, suspended or not.
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.instant(self.deadlines[timer.index()])
    }

    /// Stops `timer` from firing until [`resume`](Self::resume); it may still be set.
    pub(crate) fn suspend(&mut self, timer: Timer) {
        let old = self.live(timer);
        self.suspended |= 1 << timer.index();
        if old == Some(self.earliest) {
            self.earliest = self.scan();
        }
    }

    /// Lets `timer` fire again.
    pub(crate) fn resume(&mut self, timer: Timer) {
        self.suspended &= !(1 << timer.index());
        if let Some(at) = self.live(timer)
            && (self.earliest == UNSET || at < self.earliest)
        {
            self.earliest = at;
        }
    }

    fn is_suspended(&self, timer: Timer) -> bool {
        self.suspended & (1 << timer.index()) != 0
    }

    /// The offset of `timer`'s deadline if it may fire.
    fn live(&self, timer: Timer) -> Option<i64> {
        let offset = self.deadlines[timer.index()];
        (offset != UNSET && !self.is_suspended(timer)).then_some(offset)
    }

    /// The smallest live offset, by scanning the table.
    fn scan(&self) -> i64 {
        Timer::ALL
            .into_iter()
            .filter_map(|t| self.live(t))
            .min()
            .unwrap_or(UNSET)
    }

    /// The earliest deadline of a timer that may fire.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.instant(self.earliest)
    }

    /// Disarms and returns the earliest timer due at `now`, if any.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let now = Self::offset(self.base?, now);
        let due = Timer::ALL
            .into_iter()
            .filter_map(|t| Some((self.live(t)?, t)))
            .filter(|(at, _)| *at <= now)
            .min_by_key(|(at, _)| *at)?
            .1;
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
            Timer::Linger,
            Timer::SubscribeBatch,
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

    #[test]
    fn deadlines_before_the_first_one_come_back_exactly_and_the_table_stays_small() {
        let t0 = Instant::now() + Duration::from_secs(3600);
        let mut timers = Timers::default();
        timers.set(Timer::Backoff, t0);
        let earlier = t0 - Duration::from_nanos(1_234_567_891);
        timers.set(Timer::Connect, earlier);
        assert_eq!(timers.get(Timer::Connect), Some(earlier));
        assert_eq!(timers.next(), Some(earlier));
        assert_eq!(timers.pop_expired(earlier), Some(Timer::Connect));
        assert_eq!(timers.pop_expired(earlier), None);
        assert_eq!(timers.get(Timer::Backoff), Some(t0));
        assert!(
            size_of::<Timers>() <= 8 * COUNT + 32,
            "{}",
            size_of::<Timers>()
        );
    }

    proptest::proptest! {
        /// The kept minimum is the table's minimum after any sequence of
        /// sets (earlier, later, equal), clears, suspends, resumes and pops.
        #[test]
        fn next_is_always_the_earliest_live_deadline(
            ops in proptest::collection::vec((0u8..5, 0..COUNT, 0u64..8), 0..60),
        ) {
            let t0 = Instant::now();
            let mut timers = Timers::default();
            for (op, index, secs) in ops {
                let timer = Timer::ALL[index];
                let at = t0 + Duration::from_secs(secs);
                match op {
                    0 => timers.set(timer, at),
                    1 => timers.clear(timer),
                    2 => timers.suspend(timer),
                    3 => timers.resume(timer),
                    _ => {
                        let _ = timers.pop_expired(at);
                    }
                }
                // Computed here from the table, not by the code under test.
                let expected = Timer::ALL
                    .into_iter()
                    .filter(|t| timers.suspended & (1 << *t as usize) == 0)
                    .filter_map(|t| timers.get(t))
                    .min();
                proptest::prop_assert_eq!(timers.next(), expected);
            }
        }
    }

    #[test]
    fn a_suspended_timer_keeps_its_deadline_but_never_fires() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.set(Timer::Idle, t0 + Duration::from_secs(1));
        timers.set(Timer::Backoff, t0 + Duration::from_secs(3));
        timers.suspend(Timer::Idle);
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(3)));
        let later = t0 + Duration::from_secs(2);
        assert_eq!(timers.pop_expired(later), None);
        assert_eq!(timers.get(Timer::Idle), Some(t0 + Duration::from_secs(1)));
        timers.resume(Timer::Idle);
        assert_eq!(timers.pop_expired(later), Some(Timer::Idle));
    }
}
