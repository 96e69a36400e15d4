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
    /// Request round trips, for percentiles.
    pub(crate) request_window: Box<Window>,
    /// Ping round trips, for percentiles.
    pub(crate) ping_window: Box<Window>,
}

impl Meters {
    /// The counters with the percentiles of both windows.
    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            request_latency: self.request_window.summary(),
            ping_rtt: self.ping_window.summary(),
            ..self.stats
        }
    }
}
