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

/// The counters of [`Stats`] without its latency summaries (those are
/// computed by [`Meters::snapshot`]): 80 bytes less in every session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// See [`Stats::reconnects`].
    pub(crate) reconnects: u64,
    /// See [`Stats::messages_in`].
    pub(crate) messages_in: u64,
    /// See [`Stats::messages_out`].
    pub(crate) messages_out: u64,
    /// See [`Stats::bytes_in`].
    pub(crate) bytes_in: u64,
    /// See [`Stats::bytes_out`].
    pub(crate) bytes_out: u64,
    /// See [`Stats::last_rtt`].
    pub(crate) last_rtt: Option<Duration>,
}

/// What the session measures: the counters and the round-trip windows.
#[derive(Debug, Default)]
pub(crate) struct Meters {
    /// Counters; [`snapshot`](Self::snapshot) adds the latency summaries.
    pub(crate) stats: Counters,
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
        let c = self.stats;
        Stats {
            reconnects: c.reconnects,
            messages_in: c.messages_in,
            messages_out: c.messages_out,
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            last_rtt: c.last_rtt,
            request_latency: summary(&self.request_window),
            ping_rtt: summary(&self.ping_window),
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
