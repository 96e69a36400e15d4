//! The session's counters ([`Stats`]) and the round-trip windows behind
//! their percentiles.

use std::time::Duration;

use super::latency::{Latency, Window};

/// Counters of one session, across reconnects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Reconnect attempts started.
    pub reconnects: u64,
    /// Data messages received.
    pub messages_in: u64,
    /// Data messages sent.
    pub messages_out: u64,
    /// Bytes received from sockets.
    pub bytes_in: u64,
    /// Bytes written to sockets.
    pub bytes_out: u64,
    /// The last ping round trip.
    pub last_rtt: Option<Duration>,
    /// Request round trips (sent to answered) over the last
    /// [`Latency::WINDOW`] answers; filled in by [`Session::stats`](super::Session::stats).
    pub request_latency: Latency,
    /// Ping round trips over the last [`Latency::WINDOW`] pongs; filled in
    /// by [`Session::stats`](super::Session::stats).
    pub ping_rtt: Latency,
}

/// What the session measures: the counters and the round-trip windows.
#[derive(Debug, Default)]
pub(crate) struct Meters {
    /// Counters; the latency fields are filled in by [`snapshot`](Self::snapshot).
    pub(crate) stats: Stats,
    /// Request round trips, for percentiles (made at the first answer).
    request_window: Option<Box<Window>>,
    /// Ping round trips, for percentiles (made at the first pong).
    ping_window: Option<Box<Window>>,
}

impl Meters {
    /// The counters with the percentiles of both windows.
    pub(crate) fn snapshot(&self) -> Stats {
        let summary =
            |w: &Option<Box<Window>>| w.as_deref().map(Window::summary).unwrap_or_default();
        Stats {
            request_latency: summary(&self.request_window),
            ping_rtt: summary(&self.ping_window),
            ..self.stats
        }
    }

    /// A request answered after `rtt`.
    pub(crate) fn record_request(&mut self, rtt: Duration) {
        self.request_window
            .get_or_insert_with(Box::default)
            .record(rtt);
    }

    /// How many round-trip windows it holds (made at the first sample).
    #[cfg(test)]
    pub(crate) fn held_windows(&self) -> usize {
        usize::from(self.request_window.is_some()) + usize::from(self.ping_window.is_some())
    }

    /// A ping answered after `rtt`.
    pub(crate) fn record_ping(&mut self, rtt: Duration) {
        self.ping_window
            .get_or_insert_with(Box::default)
            .record(rtt);
    }
}
