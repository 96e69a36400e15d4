//! Make-before-break rotation: a connection nearing the lifetime the
//! service allows gets a replacement that subscribes the same channels;
//! delivery hands over channel by channel (see [`delivery`](super::delivery));
//! then the old connection is closed.

use std::time::Instant;

use crate::session::Adapter;
use crate::wire::CloseCode;

use super::conn::Role;
use super::handle::Pool;
use super::output::ConnId;

impl<A: Adapter + Clone> Pool<A> {
    /// Opens replacements for active connections whose time has come (as
    /// far as the connection window allows).
    pub(super) fn start_rotations(&mut self, now: Instant) {
        let Some(after) = self.limits.rotate_after() else {
            return;
        };
        let due: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.role == Role::Active && c.born.is_some_and(|b| b + after <= now))
            .map(|(id, _)| *id)
            .collect();
        for old in due {
            if !self.opens.allows(now) {
                return;
            }
            let Ok(new) = self.open_conn(now, Role::Replacing(old)) else {
                return;
            };
            tracing::debug!(old = old.0, new = new.0, "rotating a connection");
            self.assign.set_accepting(old, false);
            let channels = self.assign.copy(old, new);
            if let Some(c) = self.conns.get_mut(&old) {
                c.role = Role::Retiring(new);
            }
            if let Some(c) = self.conns.get_mut(&new) {
                c.queue_subscribe(&channels);
            }
        }
    }

    /// Finishes rotations whose replacement is ready and delivers every
    /// channel (and whose old connection has no request in flight).
    pub(super) fn progress_rotations(&mut self, now: Instant) {
        let retiring: Vec<(ConnId, ConnId)> = self
            .conns
            .iter()
            .filter_map(|(id, c)| match c.role {
                Role::Retiring(new) => Some((*id, new)),
                _ => None,
            })
            .collect();
        for (old, new) in retiring {
            let Some(replacement) = self.conns.get(&new) else {
                // The replacement ended: the old connection serves on.
                if let Some(c) = self.conns.get_mut(&old) {
                    c.role = Role::Active;
                }
                self.assign.set_accepting(old, true);
                continue;
            };
            let handed_over = replacement.is_ready()
                && self.assign.channels(old).all(|ch| {
                    self.delivery.source(ch).is_none_or(|src| src == new)
                        && !self.delivery.in_handover(ch)
                });
            let idle = self
                .conns
                .get(&old)
                .is_some_and(|c| c.session.pending_requests() == 0);
            if handed_over && idle {
                self.finish_rotation(now, old, false);
            }
        }
    }

    /// Ends the rotation of `old`: delivery moves to its replacement (at
    /// once when `forced`: `old` was lost), and `old` is closed.
    pub(super) fn finish_rotation(&mut self, now: Instant, old: ConnId, forced: bool) {
        let Some(Role::Retiring(new)) = self.conns.get(&old).map(|c| c.role) else {
            return;
        };
        let channels: Vec<String> = self.assign.channels(old).map(str::to_owned).collect();
        let mut released = Vec::new();
        for channel in &channels {
            if forced {
                self.delivery.force_switch(channel, &mut released);
            }
            if self.delivery.source(channel) == Some(old) {
                // Not confirmed on `new` yet: it takes over on confirmation.
                self.delivery.set_source(channel, new);
            }
        }
        for event in released {
            self.emit(new, event);
        }
        self.assign.remove_conn(old);
        if let Some(c) = self.conns.get_mut(&old) {
            c.role = Role::Dismissed;
            let _ = c.session.close(now, CloseCode::NORMAL, "rotated");
        }
        if let Some(c) = self.conns.get_mut(&new) {
            c.role = Role::Active;
            let ready = c.is_ready();
            self.assign.set_accepting(new, ready);
        }
        tracing::debug!(old = old.0, new = new.0, forced, "rotation done");
    }
}
