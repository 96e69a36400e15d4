//! One connection of a pool: its session and what the pool knows about it
//! (when its transport came up, its part in a rotation, the (un)subscribe
//! messages waiting for its per-second budget).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::session::{Adapter, Session, SessionState};

use super::ConnId;
use super::limits::Window;

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
    /// The first dial is counted when the connection is opened; later ones
    /// (reconnects) when they are seen.
    pub(crate) dialled: bool,
    to_subscribe: BTreeSet<String>,
    to_unsubscribe: BTreeSet<String>,
    messages: Window,
}

impl<A: Adapter> Conn<A> {
    pub(crate) fn new(session: Session<A>, role: Role, per_second: Option<u32>) -> Self {
        Conn {
            session,
            role,
            born: None,
            dialled: false,
            to_subscribe: BTreeSet::new(),
            to_unsubscribe: BTreeSet::new(),
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

    /// Whether (un)subscribes wait for the message budget.
    pub(crate) fn has_queued(&self) -> bool {
        !self.to_subscribe.is_empty() || !self.to_unsubscribe.is_empty()
    }

    /// Hands queued (un)subscribes to the session: one message each, within
    /// the per-second budget. Before the connection is past authentication
    /// the session only records them (its restore sends them), which costs
    /// no message here.
    pub(crate) fn flush(&mut self, now: Instant) {
        let sends = matches!(
            self.session.state(),
            SessionState::Restoring | SessionState::Ready
        );
        if !self.to_unsubscribe.is_empty() && (!sends || self.messages.try_take(now)) {
            let channels = std::mem::take(&mut self.to_unsubscribe);
            let list: Vec<&str> = channels.iter().map(String::as_str).collect();
            let _ = self.session.unsubscribe(now, &list);
        }
        if !self.to_subscribe.is_empty() && (!sends || self.messages.try_take(now)) {
            let channels = std::mem::take(&mut self.to_subscribe);
            let list: Vec<&str> = channels.iter().map(String::as_str).collect();
            let _ = self.session.subscribe(now, &list);
        }
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
