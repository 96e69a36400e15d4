//! One connection of a pool: its session and what the pool knows about it
//! (when its transport came up, its part in a rotation, the (un)subscribe
//! messages waiting for its per-second budget).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::session::{Adapter, Event, Session, SessionState};

use super::limits::Window;
use super::output::ConnId;

/// A connection's part in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Serves its channels and takes new ones.
    Active,
    /// Opened to replace `old` (make-before-break); subscribes its channels.
    Replacing(ConnId),
    /// Being replaced by `new`; still delivers until the hand-over is done.
    Retiring(ConnId),
    /// Closed by the pool (empty, rotated out, or the pool closes); its
    /// `Closed` event is not the application's business.
    Dismissed,
}

/// A session with the pool's bookkeeping.
#[derive(Debug)]
pub(crate) struct Conn<A: Adapter> {
    pub(crate) session: Session<A>,
    pub(crate) role: Role,
    /// When the current transport came up (`Event::Connected`).
    pub(crate) born: Option<Instant>,
    /// The next dial is already counted in the connection window (counted
    /// when the connection is opened, or when its backoff timer was let run).
    pub(crate) dial_counted: bool,
    to_subscribe: BTreeSet<String>,
    to_unsubscribe: BTreeSet<String>,
    /// Sent, not answered yet: the opposite request for these waits, or
    /// the session would follow the answer with one of its own, unmetered.
    inflight_subscribe: BTreeSet<String>,
    inflight_unsubscribe: BTreeSet<String>,
    messages: Window,
}

impl<A: Adapter> Conn<A> {
    pub(crate) fn new(session: Session<A>, role: Role, per_second: Option<u32>) -> Self {
        Conn {
            session,
            role,
            born: None,
            dial_counted: false,
            to_subscribe: BTreeSet::new(),
            to_unsubscribe: BTreeSet::new(),
            inflight_subscribe: BTreeSet::new(),
            inflight_unsubscribe: BTreeSet::new(),
            messages: Window::new(per_second, Duration::from_secs(1)),
        }
    }

    /// Queues channels to subscribe here (cancelling queued unsubscribes).
    pub(crate) fn queue_subscribe(&mut self, channels: &[String]) {
        for channel in channels {
            if !self.to_unsubscribe.remove(channel) {
                self.to_subscribe.insert(channel.clone());
            }
        }
    }

    /// Queues channels to unsubscribe here (cancelling queued subscribes).
    pub(crate) fn queue_unsubscribe(&mut self, channels: &[String]) {
        for channel in channels {
            if !self.to_subscribe.remove(channel) {
                self.to_unsubscribe.insert(channel.clone());
            }
        }
    }

    /// Channels that may still be subscribed on the server though no longer
    /// placed here: their unsubscribe is queued or unanswered.
    pub(crate) fn leaving(&self) -> usize {
        self.to_unsubscribe.len() + self.inflight_unsubscribe.len()
    }

    /// Whether (un)subscribes wait for the message budget.
    pub(crate) fn has_queued(&self) -> bool {
        !self.to_subscribe.is_empty() || !self.to_unsubscribe.is_empty()
    }

    /// Hands queued (un)subscribes to the session: one message each, within
    /// the per-second budget, none for a channel whose opposite request is
    /// still unanswered. Before the connection is past authentication the
    /// session only records them (its restore sends them, counted by
    /// [`count_restore`](Self::count_restore)).
    pub(crate) fn flush(&mut self, now: Instant) {
        let sends = matches!(
            self.session.state(),
            SessionState::Restoring | SessionState::Ready
        );
        let ready = |queue: &BTreeSet<String>, blocked: &BTreeSet<String>| -> Vec<String> {
            queue
                .iter()
                .filter(|c| !blocked.contains(*c))
                .cloned()
                .collect()
        };
        let unsubscribe = ready(&self.to_unsubscribe, &self.inflight_subscribe);
        if !unsubscribe.is_empty() && (!sends || self.messages.try_take(now)) {
            for channel in &unsubscribe {
                self.to_unsubscribe.remove(channel);
            }
            let list: Vec<&str> = unsubscribe.iter().map(String::as_str).collect();
            let _ = self.session.unsubscribe(now, &list);
            if sends {
                self.inflight_unsubscribe.extend(unsubscribe);
            }
        }
        let subscribe = ready(&self.to_subscribe, &self.inflight_unsubscribe);
        if !subscribe.is_empty() && (!sends || self.messages.try_take(now)) {
            for channel in &subscribe {
                self.to_subscribe.remove(channel);
            }
            let list: Vec<&str> = subscribe.iter().map(String::as_str).collect();
            let _ = self.session.subscribe(now, &list);
            if sends {
                self.inflight_subscribe.extend(subscribe);
            }
        }
    }

    /// Follows the answers to (un)subscribe requests in the session's events.
    pub(crate) fn observe(&mut self, event: &Event) {
        match event {
            Event::Subscribed { channels } | Event::SubscriptionFailed { channels, .. } => {
                for channel in channels {
                    self.inflight_subscribe.remove(channel);
                }
            }
            Event::Unsubscribed { channels } => {
                for channel in channels {
                    self.inflight_unsubscribe.remove(channel);
                }
            }
            Event::Disconnected { .. } => {
                self.inflight_subscribe.clear();
                self.inflight_unsubscribe.clear();
            }
            _ => {}
        }
    }

    /// A new transport is up: the session's restore sends one subscribe
    /// message per kind (private, public) of its desired channels, which
    /// spends the same budget.
    pub(crate) fn count_restore(&mut self, now: Instant, adapter: &A) {
        let (mut private, mut public) = (false, false);
        for channel in self.session.desired_subscriptions() {
            if adapter.is_private(channel) {
                private = true;
            } else {
                public = true;
            }
        }
        for _ in 0..(usize::from(private) + usize::from(public)) {
            self.messages.record(now);
        }
        let desired: Vec<String> = self
            .session
            .desired_subscriptions()
            .map(str::to_owned)
            .collect();
        self.inflight_subscribe.extend(desired);
    }

    /// When queued (un)subscribes may go next, if they wait for the budget.
    pub(crate) fn next_flush(&self) -> Option<Instant> {
        if !self.has_queued() {
            return None;
        }
        self.messages.free_at()
    }

    /// Whether it is `Ready`.
    pub(crate) fn is_ready(&self) -> bool {
        self.session.state() == SessionState::Ready
    }
}
