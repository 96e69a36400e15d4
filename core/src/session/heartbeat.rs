//! Liveness of the connection: WebSocket pings (RFC 6455 §5.5.2) with a
//! pong deadline, for round-trip times and half-open detection; the idle
//! timeout; and what becomes of such deadlines while the driver does not
//! read.

use std::collections::VecDeque;
use std::time::Instant;

use super::config::HeartbeatConfig;
use super::env::Env;
use super::event::Event;
use super::requests::Requests;
use super::timers::Timer;
use crate::wire::Wire;

/// Deadlines only reading can meet: the upgrade's answer, a pong, any data.
const READ_DEADLINES: [Timer; 3] = [Timer::Connect, Timer::PongDeadline, Timer::Idle];

/// The heartbeat state of a session.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    /// Unanswered pings: (payload counter, sent at), oldest first.
    outstanding: VecDeque<(u64, Instant)>,
    /// The payload of the last ping sent.
    counter: u64,
    /// The driver does not read the socket (backpressure): deadlines only
    /// reading can meet are suspended.
    reading_paused: bool,
    /// When reading was last paused.
    paused_at: Instant,
}

impl Heartbeat {
    /// No pings yet, reading on.
    pub(crate) fn new(now: Instant) -> Self {
        Heartbeat {
            outstanding: VecDeque::new(),
            counter: 0,
            reading_paused: false,
            paused_at: now,
        }
    }

    /// Whether the driver said it stopped reading.
    pub(crate) fn reading_paused(&self) -> bool {
        self.reading_paused
    }

    /// The upgrade succeeded: the ping and idle timers start.
    pub(crate) fn on_upgraded(&mut self, env: &mut Env) {
        if let Some(interval) = env.config.heartbeat.ping_interval {
            env.timers.set(Timer::Ping, env.now + interval);
        }
        if let Some(idle) = env.config.heartbeat.idle_timeout {
            env.timers.set(Timer::Idle, env.now + idle);
        }
    }

    /// New settings (`Session::set_heartbeat`); on an `open` connection
    /// the timers follow at once, else the next upgrade arms them.
    pub(crate) fn reconfigure(&mut self, env: &mut Env, heartbeat: HeartbeatConfig, open: bool) {
        env.config.heartbeat = heartbeat;
        if !open {
            return;
        }
        let now = env.now;
        let heartbeat = &env.config.heartbeat;
        match heartbeat.ping_interval {
            Some(interval) => {
                let next = now + interval;
                let at = env.timers.get(Timer::Ping).map_or(next, |at| at.min(next));
                env.timers.set(Timer::Ping, at);
            }
            None => env.timers.clear(Timer::Ping),
        }
        if let Some(&(_, oldest)) = self.outstanding.front() {
            env.timers
                .set(Timer::PongDeadline, oldest + heartbeat.pong_timeout);
        }
        match heartbeat.idle_timeout {
            Some(idle) => env.timers.set(Timer::Idle, now + idle),
            None => env.timers.clear(Timer::Idle),
        }
    }

    /// Bytes arrived; on an open WebSocket they prove it alive.
    pub(crate) fn on_bytes(&mut self, env: &mut Env, open: bool) {
        if let Some(idle) = env.config.heartbeat.idle_timeout
            && open
        {
            env.timers.set(Timer::Idle, env.now + idle);
        }
    }

    /// The driver stopped or resumed reading (backpressure from a full
    /// consumer). While paused, the read deadlines are suspended and the
    /// core's own requests (auth, refresh, subscriptions) cannot expire, so
    /// a slow consumer never makes a healthy connection look dead. On
    /// resume, time has stood still for them: each moves on by the time
    /// spent paused (never further than a full period from now).
    pub(crate) fn set_reading_paused(
        &mut self,
        env: &mut Env,
        requests: &mut Requests,
        paused: bool,
    ) {
        if paused == self.reading_paused {
            return;
        }
        self.reading_paused = paused;
        tracing::trace!(paused, "reading paused by the driver");
        if paused {
            self.paused_at = env.now;
            for timer in READ_DEADLINES {
                env.timers.suspend(timer);
            }
            return;
        }
        let now = env.now;
        let paused_for = now.saturating_duration_since(self.paused_at);
        for timer in READ_DEADLINES {
            env.timers.resume(timer);
            let heartbeat = &env.config.heartbeat;
            let full = match timer {
                Timer::Connect => Some(env.config.connect_timeout),
                Timer::PongDeadline => Some(heartbeat.pong_timeout),
                _ => heartbeat.idle_timeout,
            };
            if let (Some(full), Some(at)) = (full, env.timers.get(timer)) {
                let moved = (at + paused_for).min(now + full).max(now);
                env.timers.set(timer, moved);
            }
        }
        // The core's requests all wait `request_timeout` at most.
        requests.postpone_control(paused_for, now + env.config.request_timeout);
    }

    /// The ping timer fired: ping (not while the driver does not read: its
    /// pong would wait unread) and arm the next.
    pub(crate) fn on_ping_timer(&mut self, env: &mut Env, wire: Option<&mut Wire>) {
        if !self.reading_paused {
            self.send_ping(env, wire);
        }
        if let Some(interval) = env.config.heartbeat.ping_interval {
            env.timers.set(Timer::Ping, env.now + interval);
        }
    }

    /// Sends a ping whose payload is a counter; arms the pong deadline.
    pub(crate) fn send_ping(&mut self, env: &mut Env, wire: Option<&mut Wire>) -> bool {
        let Some(wire) = wire else {
            return false;
        };
        let n = self.counter + 1;
        if wire.ping(&n.to_be_bytes()).is_err() {
            return false;
        }
        self.counter = n;
        self.outstanding.push_back((n, env.now));
        if env.timers.get(Timer::PongDeadline).is_none() {
            let deadline = env.now + env.config.heartbeat.pong_timeout;
            env.timers.set(Timer::PongDeadline, deadline);
        }
        true
    }

    /// A pong answers its ping and every older one (pongs may be coalesced,
    /// RFC 6455 §5.5.3); unsolicited pongs are ignored.
    pub(crate) fn on_pong(&mut self, env: &mut Env, payload: &[u8]) {
        let Ok(bytes) = <[u8; 8]>::try_from(payload) else {
            return;
        };
        let n = u64::from_be_bytes(bytes);
        let Some(pos) = self.outstanding.iter().position(|(c, _)| *c == n) else {
            return;
        };
        let (_, sent) = self.outstanding[pos];
        self.outstanding.drain(..=pos);
        let rtt = env.now.saturating_duration_since(sent);
        let out = &mut env.out;
        out.meters.stats.last_rtt = Some(rtt);
        out.meters.record_ping(rtt);
        out.telemetry.ping_rtt(rtt);
        tracing::trace!(rtt_us = rtt.as_micros() as u64, "pong");
        out.emit(Event::Pong { rtt });
        match self.outstanding.front() {
            Some((_, oldest)) => {
                let deadline = *oldest + env.config.heartbeat.pong_timeout;
                env.timers.set(Timer::PongDeadline, deadline);
            }
            None => env.timers.clear(Timer::PongDeadline),
        }
    }

    /// The connection is gone, and its unanswered pings with it.
    pub(crate) fn on_connection_lost(&mut self) {
        self.outstanding.clear();
    }
}
