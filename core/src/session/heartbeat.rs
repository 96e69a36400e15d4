//! WebSocket pings with a pong deadline: round-trip times and half-open
//! detection; and what becomes of such deadlines while the driver does not
//! read.

use std::time::Instant;

use super::Event;
use super::core::Core;
use super::timers::Timer;

/// Unanswered pings: (payload counter, sent at), oldest first.
#[derive(Debug, Default)]
pub(crate) struct Pings {
    outstanding: std::collections::VecDeque<(u64, Instant)>,
    counter: u64,
}

/// Deadlines only reading can meet: the upgrade's answer, a pong, any data.
const READ_DEADLINES: [Timer; 3] = [Timer::Connect, Timer::PongDeadline, Timer::Idle];

impl Core {
    /// The driver stopped or resumed reading (backpressure from a full
    /// consumer). While paused, the read deadlines are suspended and the
    /// core's own requests (auth, refresh, subscriptions) cannot expire, so
    /// a slow consumer never makes a healthy connection look dead. On
    /// resume, time has stood still for them: each moves on by the time
    /// spent paused (never further than a full period from now).
    pub(crate) fn set_reading_paused(&mut self, paused: bool) {
        if paused == self.reading_paused {
            return;
        }
        self.reading_paused = paused;
        tracing::trace!(paused, "reading paused by the driver");
        if paused {
            self.paused_at = self.now;
            for timer in READ_DEADLINES {
                self.timers.suspend(timer);
            }
            return;
        }
        let now = self.now;
        let paused_for = now.saturating_duration_since(self.paused_at);
        for timer in READ_DEADLINES {
            self.timers.resume(timer);
            let heartbeat = &self.config.heartbeat;
            let full = match timer {
                Timer::Connect => Some(self.config.connect_timeout),
                Timer::PongDeadline => Some(heartbeat.pong_timeout),
                _ => heartbeat.idle_timeout,
            };
            if let (Some(full), Some(at)) = (full, self.timers.get(timer)) {
                let moved = (at + paused_for).min(now + full).max(now);
                self.timers.set(timer, moved);
            }
        }
        // The core's requests all wait `request_timeout` at most.
        self.requests
            .postpone_control(paused_for, now + self.config.request_timeout);
    }

    /// Sends a ping whose payload is a counter; arms the pong deadline.
    pub(crate) fn send_ping(&mut self) -> bool {
        let Some(wire) = self.wire.as_mut() else {
            return false;
        };
        let n = self.pings.counter + 1;
        if wire.ping(&n.to_be_bytes()).is_err() {
            return false;
        }
        self.pings.counter = n;
        self.pings.outstanding.push_back((n, self.now));
        if self.timers.get(Timer::PongDeadline).is_none() {
            let deadline = self.now + self.config.heartbeat.pong_timeout;
            self.timers.set(Timer::PongDeadline, deadline);
        }
        true
    }

    /// A pong answers its ping and every older one (pongs may be coalesced,
    /// RFC 6455 §5.5.3); unsolicited pongs are ignored.
    pub(crate) fn on_pong(&mut self, payload: &[u8]) {
        let Ok(bytes) = <[u8; 8]>::try_from(payload) else {
            return;
        };
        let n = u64::from_be_bytes(bytes);
        let Some(pos) = self.pings.outstanding.iter().position(|(c, _)| *c == n) else {
            return;
        };
        let (_, sent) = self.pings.outstanding[pos];
        self.pings.outstanding.drain(..=pos);
        let rtt = self.now.saturating_duration_since(sent);
        self.stats.last_rtt = Some(rtt);
        self.ping_window.record(rtt);
        self.telemetry.ping_rtt(rtt);
        tracing::trace!(rtt_us = rtt.as_micros() as u64, "pong");
        self.emit(Event::Pong { rtt });
        match self.pings.outstanding.front() {
            Some((_, oldest)) => {
                let deadline = *oldest + self.config.heartbeat.pong_timeout;
                self.timers.set(Timer::PongDeadline, deadline);
            }
            None => self.timers.clear(Timer::PongDeadline),
        }
    }

    pub(crate) fn clear_pings(&mut self) {
        self.pings.outstanding.clear();
    }
}
