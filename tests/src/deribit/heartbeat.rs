//! `public/set_heartbeat`: every interval the server sends a `heartbeat` if
//! it heard from the client since the last one, else a `test_request`, which
//! must be answered by `public/test` before the next interval ends.

use std::time::{Duration, Instant};

/// What a heartbeat tick does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Send a `heartbeat` message of this `type`.
    Send(&'static str),
    /// A `test_request` went unanswered: close the connection.
    Fail,
}

/// A connection's heartbeat.
#[derive(Debug, Clone)]
pub(crate) struct Heartbeat {
    interval: Duration,
    /// When the next tick is due.
    pub next: Instant,
    outstanding: bool,
    heard: bool,
}

impl Heartbeat {
    pub(crate) fn new(interval: Duration, now: Instant) -> Self {
        Heartbeat {
            interval,
            next: now + interval,
            outstanding: false,
            heard: false,
        }
    }

    /// The client sent something.
    pub(crate) fn heard(&mut self) {
        self.heard = true;
    }

    /// The client sent `public/test`.
    pub(crate) fn answered(&mut self) {
        self.heard = true;
        self.outstanding = false;
    }

    /// The tick due at `now`. Without enforcement an unanswered
    /// `test_request` is just repeated.
    pub(crate) fn tick(&mut self, now: Instant, enforced: bool) -> Beat {
        self.next = (self.next + self.interval).max(now + self.interval / 2);
        if self.outstanding && enforced {
            return Beat::Fail;
        }
        if std::mem::take(&mut self.heard) && !self.outstanding {
            return Beat::Send("heartbeat");
        }
        self.outstanding = true;
        Beat::Send("test_request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_client_fails_second_tick() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut hb = Heartbeat::new(s, t0);
        assert_eq!(hb.tick(t0 + s, true), Beat::Send("test_request"));
        assert_eq!(hb.tick(t0 + 2 * s, true), Beat::Fail);
        let mut hb = Heartbeat::new(s, t0);
        assert_eq!(hb.tick(t0 + s, true), Beat::Send("test_request"));
        hb.answered();
        assert_eq!(hb.tick(t0 + 2 * s, true), Beat::Send("heartbeat"));
        assert_eq!(hb.tick(t0 + 3 * s, true), Beat::Send("test_request"));
    }
}
