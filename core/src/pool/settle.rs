//! Settling the assignment after every change: pending channels placed
//! within the stream limit (connections opened as the window allows),
//! empty connections closed, (un)subscribes handed out within each
//! connection's message budget; and the pool's own deadline.

use std::time::Instant;

use crate::session::Adapter;
use crate::wire::CloseCode;

use super::conn::Role;
use super::handle::Pool;
use super::output::ConnId;

impl<A: Adapter + Clone> Pool<A> {
    /// Brings the connections in line with the assignment.
    pub(super) fn settle(&mut self, now: Instant) {
        if !self.started || self.closing.is_some() {
            return;
        }
        self.place_pending(now);
        let serving = self
            .conns
            .values()
            .any(|c| matches!(c.role, Role::Active | Role::Replacing(_)));
        if !serving && self.opens.allows(now) {
            let _ = self.open_conn(now, Role::Active);
        }
        self.close_empty(now);
        self.start_rotations(now);
        self.progress_rotations(now);
        for conn in self.conns.values_mut() {
            conn.flush(now);
        }
    }

    /// Places pending channels, opening connections while the window allows.
    fn place_pending(&mut self, now: Instant) {
        let max = self.limits.streams();
        loop {
            let conns = &self.conns;
            let leaving = |id: ConnId| conns.get(&id).map_or(0, |c| c.leaving());
            for (conn, channels) in self.assign.place(max, leaving) {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.queue_subscribe(&channels);
                }
            }
            if self.assign.pending().is_empty() || !self.opens.allows(now) {
                return;
            }
            if self.open_conn(now, Role::Active).is_err() {
                return;
            }
        }
    }

    /// Closes active connections with nothing placed and nothing pending,
    /// keeping one for requests.
    fn close_empty(&mut self, now: Instant) {
        if !self.assign.pending().is_empty() {
            return;
        }
        for id in self.assign.empty_conns() {
            let serving = self
                .conns
                .iter()
                .filter(|(other, c)| {
                    **other != id && matches!(c.role, Role::Active | Role::Replacing(_))
                })
                .count();
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            if serving == 0 || conn.role != Role::Active || conn.session.pending_requests() > 0 {
                continue;
            }
            conn.role = Role::Dismissed;
            self.assign.remove_conn(id);
            let _ = conn
                .session
                .close(now, CloseCode::NORMAL, "no subscriptions left");
        }
    }

    /// A lost connection's channels move to ready connections with room;
    /// the rest stay and come back with its reconnect.
    pub(super) fn move_away(&mut self, lost: ConnId) {
        let max = self.limits.streams();
        let room: usize = self
            .conns
            .iter()
            .filter(|(id, c)| {
                **id != lost
                    && c.role == Role::Active
                    && c.is_ready()
                    && self.assign.is_accepting(**id)
            })
            .map(|(id, c)| max.saturating_sub(self.assign.load(*id) + c.leaving()))
            .fold(0usize, usize::saturating_add);
        let moving: Vec<String> = self
            .assign
            .channels(lost)
            .take(room)
            .map(str::to_owned)
            .collect();
        if moving.is_empty() {
            return;
        }
        self.assign.take_off(lost, &moving);
        if let Some(c) = self.conns.get_mut(&lost) {
            c.queue_unsubscribe(&moving);
        }
    }

    /// The pool's own next deadline: a rotation due, a budget or a
    /// connection window that frees up for work that waits for it.
    pub(super) fn own_deadline(&self) -> Option<Instant> {
        if !self.started || self.closing.is_some() {
            return None;
        }
        let flushes = self.conns.values().filter_map(|c| c.next_flush());
        let mut rotations = None;
        if let Some(after) = self.limits.rotate_after() {
            rotations = self
                .conns
                .values()
                .filter(|c| c.role == Role::Active)
                .filter_map(|c| c.born.map(|b| b + after))
                .min();
        }
        // Work waiting for the connection window waits for it to free up.
        let blocked = !self.assign.pending().is_empty() || rotations.is_some();
        let window = self.opens.free_at().filter(|_| blocked);
        let rotations = match (rotations, window) {
            (Some(due), Some(free)) => Some(due.max(free)),
            (due, _) => due,
        };
        let pending = window.filter(|_| !self.assign.pending().is_empty());
        flushes.chain(rotations).chain(pending).min()
    }
}
