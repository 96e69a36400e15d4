//! Which connection carries which channel: the desired set, the channels
//! placed on each connection, and placing the rest within the stream limit.
//! Pure bookkeeping (no sessions), so that it can be tested on its own.

use std::collections::{BTreeMap, BTreeSet};

use super::output::ConnId;

/// One connection's share.
#[derive(Debug, Default, Clone)]
struct Slot {
    channels: BTreeSet<String>,
    /// New channels may be placed here (not retiring, not lost).
    accepting: bool,
}

/// The desired channels and where each one is placed.
///
/// Invariants: a placed channel is desired; a channel is placed on at most
/// one connection except while a rotation copies it (see
/// [`copy`](Self::copy)); a desired channel is either placed or pending.
#[derive(Debug, Default, Clone)]
pub struct Assignment {
    desired: BTreeSet<String>,
    pending: BTreeSet<String>,
    slots: BTreeMap<ConnId, Slot>,
}

impl Assignment {
    /// Channels the application wants.
    pub fn desired(&self) -> &BTreeSet<String> {
        &self.desired
    }

    /// Desired channels not placed on any connection yet.
    pub fn pending(&self) -> &BTreeSet<String> {
        &self.pending
    }

    /// The channels placed on `conn`.
    pub fn channels(&self, conn: ConnId) -> impl Iterator<Item = &str> {
        self.slots
            .get(&conn)
            .into_iter()
            .flat_map(|s| s.channels.iter().map(String::as_str))
    }

    /// How many channels are placed on `conn`.
    pub fn load(&self, conn: ConnId) -> usize {
        self.slots.get(&conn).map_or(0, |s| s.channels.len())
    }

    /// The connections known, in id order.
    pub fn conns(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.slots.keys().copied()
    }

    /// The connection carrying `channel` (the lowest id during a copy).
    pub fn owner(&self, channel: &str) -> Option<ConnId> {
        self.slots
            .iter()
            .find(|(_, s)| s.channels.contains(channel))
            .map(|(id, _)| *id)
    }

    /// Adds channels to the desired set; new ones become pending.
    pub fn want(&mut self, channels: &[&str]) {
        for channel in channels {
            if self.desired.insert((*channel).to_owned()) {
                self.pending.insert((*channel).to_owned());
            }
        }
    }

    /// Removes channels from the desired set; returns, per connection, the
    /// placed ones that must be unsubscribed there.
    pub fn unwant(&mut self, channels: &[&str]) -> Vec<(ConnId, Vec<String>)> {
        let mut removed: BTreeMap<ConnId, Vec<String>> = BTreeMap::new();
        for channel in channels {
            self.desired.remove(*channel);
            self.pending.remove(*channel);
            for (id, slot) in &mut self.slots {
                if slot.channels.remove(*channel) {
                    removed.entry(*id).or_default().push((*channel).to_owned());
                }
            }
        }
        removed.into_iter().collect()
    }

    /// A new connection, accepting channels.
    pub fn add_conn(&mut self, conn: ConnId) {
        self.slots.insert(
            conn,
            Slot {
                channels: BTreeSet::new(),
                accepting: true,
            },
        );
    }

    /// Whether `conn` takes new channels.
    pub fn set_accepting(&mut self, conn: ConnId, accepting: bool) {
        if let Some(slot) = self.slots.get_mut(&conn) {
            slot.accepting = accepting;
        }
    }

    /// Whether `conn` takes new channels.
    pub fn is_accepting(&self, conn: ConnId) -> bool {
        self.slots.get(&conn).is_some_and(|s| s.accepting)
    }

    /// `conn` is gone: its channels not also placed elsewhere become
    /// pending again; returns them.
    pub fn remove_conn(&mut self, conn: ConnId) -> Vec<String> {
        let Some(slot) = self.slots.remove(&conn) else {
            return Vec::new();
        };
        let orphans: Vec<String> = slot
            .channels
            .into_iter()
            .filter(|c| self.desired.contains(c) && self.owner(c).is_none())
            .collect();
        self.pending.extend(orphans.iter().cloned());
        orphans
    }

    /// Takes `channels` off `conn` (to move them elsewhere): those not also
    /// placed on another connection become pending.
    pub fn take_off(&mut self, conn: ConnId, channels: &[String]) {
        if let Some(slot) = self.slots.get_mut(&conn) {
            for channel in channels {
                slot.channels.remove(channel);
            }
        }
        for channel in channels {
            if self.desired.contains(channel) && self.owner(channel).is_none() {
                self.pending.insert(channel.clone());
            }
        }
    }

    /// Places `from`'s channels on `to` as well (a rotation's overlap);
    /// returns them.
    pub fn copy(&mut self, from: ConnId, to: ConnId) -> Vec<String> {
        let channels: Vec<String> = self.channels(from).map(str::to_owned).collect();
        if let Some(slot) = self.slots.get_mut(&to) {
            slot.channels.extend(channels.iter().cloned());
        }
        channels
    }

    /// Places pending channels on accepting connections with room (lowest
    /// id first, filling one before the next: fewest connections), at most
    /// `max_per_conn` each, counting `leaving(conn)` channels still on the
    /// server there (unsubscribes not yet answered). Returns what went
    /// where; the rest stays pending.
    pub fn place(
        &mut self,
        max_per_conn: usize,
        leaving: impl Fn(ConnId) -> usize,
    ) -> Vec<(ConnId, Vec<String>)> {
        let mut placed = Vec::new();
        for (id, slot) in self.slots.iter_mut().filter(|(_, s)| s.accepting) {
            let room = max_per_conn.saturating_sub(slot.channels.len() + leaving(*id));
            if room == 0 || self.pending.is_empty() {
                continue;
            }
            let take: Vec<String> = self.pending.iter().take(room).cloned().collect();
            for channel in &take {
                self.pending.remove(channel);
                slot.channels.insert(channel.clone());
            }
            placed.push((*id, take));
        }
        placed
    }

    /// How many more connections the pending channels need.
    pub fn conns_needed(&self, max_per_conn: usize) -> usize {
        self.pending.len().div_ceil(max_per_conn.max(1))
    }

    /// Accepting connections with nothing placed on them.
    pub fn empty_conns(&self) -> Vec<ConnId> {
        self.slots
            .iter()
            .filter(|(_, s)| s.accepting && s.channels.is_empty())
            .map(|(id, _)| *id)
            .collect()
    }
}
