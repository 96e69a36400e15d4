//! From the sessions' outputs to the pool's: driver actions tagged with
//! their connection, events merged into one stream (requests' ids
//! translated, subscriptions reported once for the pool, notifications
//! through [`Delivery`](super::delivery::Delivery)).

use std::time::Instant;

use serde_json::value::RawValue;

use crate::session::{Adapter, CloseReason, Event, Output};
use crate::wire::CloseCode;

use super::conn::Role;
use super::handle::Pool;
use super::output::{ConnId, PoolOutput};

impl<A: Adapter + Clone> Pool<A> {
    /// Drains every session and settles the assignment, until quiet.
    pub(super) fn pump(&mut self, now: Instant) {
        loop {
            self.settle(now);
            let mut drained = false;
            let ids: Vec<ConnId> = self.conns.keys().copied().collect();
            for id in ids {
                while let Some(output) = self
                    .conns
                    .get_mut(&id)
                    .and_then(|c| c.session.poll_output())
                {
                    drained = true;
                    self.on_output(now, id, output);
                }
            }
            if !drained {
                break;
            }
        }
        self.finish_close();
    }

    fn on_output(&mut self, now: Instant, conn: ConnId, output: Output) {
        match output {
            Output::Event(event) => self.on_event(now, conn, event),
            Output::Dial { .. } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    if !c.dial_counted {
                        self.opens.record(now); // a reconnect: a new connection too
                    }
                    c.dial_counted = false;
                }
                self.out.push_back(PoolOutput::from_session(conn, output));
            }
            other => self.out.push_back(PoolOutput::from_session(conn, other)),
        }
    }

    pub(super) fn emit(&mut self, conn: ConnId, event: Event) {
        self.out.push_back(PoolOutput::Event {
            conn: Some(conn),
            event,
        });
    }

    fn on_event(&mut self, now: Instant, conn: ConnId, event: Event) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.observe(&event);
        }
        let dismissed = self
            .conns
            .get(&conn)
            .is_none_or(|c| c.role == Role::Dismissed);
        let lifecycle = matches!(
            event,
            Event::Connected
                | Event::Ready
                | Event::Disconnected { .. }
                | Event::Reconnecting { .. }
                | Event::Pong { .. }
        );
        if dismissed && lifecycle && self.closing.is_none() {
            return; // a connection the pool let go: not the application's business
        }
        match event {
            Event::Connected => {
                let adapter = &self.adapter;
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.born = Some(now);
                    c.count_restore(now, adapter);
                }
                self.emit(conn, Event::Connected);
            }
            Event::Ready => {
                if self
                    .conns
                    .get(&conn)
                    .is_some_and(|c| matches!(c.role, Role::Active | Role::Replacing(_)))
                {
                    self.assign.set_accepting(conn, true);
                }
                self.emit(conn, Event::Ready);
            }
            Event::Disconnected { .. } => {
                self.on_lost(now, conn);
                self.emit(conn, event);
            }
            Event::Closed { reason } => self.on_closed(now, conn, reason),
            Event::Subscribed { channels } => self.on_subscribed(now, conn, channels),
            Event::Unsubscribed { channels } => {
                let gone: Vec<String> = channels
                    .into_iter()
                    .filter(|c| !self.assign.desired().contains(c) && self.confirmed.remove(c))
                    .collect();
                if !gone.is_empty() {
                    self.emit(conn, Event::Unsubscribed { channels: gone });
                }
            }
            Event::SubscriptionFailed { channels, error } => {
                let list: Vec<&str> = channels.iter().map(String::as_str).collect();
                for (other, removed) in self.assign.unwant(&list) {
                    if let Some(c) = self.conns.get_mut(&other).filter(|_| other != conn) {
                        c.queue_unsubscribe(&removed);
                    }
                }
                for channel in &channels {
                    self.delivery.remove(channel);
                    self.confirmed.remove(channel);
                }
                self.emit(conn, Event::SubscriptionFailed { channels, error });
            }
            Event::Notification { channel, data } => {
                let seq = serde_json::from_str::<&RawValue>(data.as_str())
                    .ok()
                    .and_then(|raw| self.adapter.update_id(&channel, raw));
                let mut out = Vec::new();
                let event = Event::Notification {
                    channel: channel.clone(),
                    data,
                };
                self.delivery
                    .on_update(conn, &channel, seq, event, &mut out);
                let source = self.delivery.source(&channel).unwrap_or(conn);
                for event in out {
                    self.emit(source, event);
                }
            }
            Event::Gap { ref channel, .. } => {
                if self.delivery.source(channel) == Some(conn) {
                    self.emit(conn, event);
                }
            }
            Event::Response { id, result } => {
                if let Some(id) = self.requests.remove(&(conn, id)) {
                    self.emit(conn, Event::Response { id, result });
                }
            }
            Event::RequestFailed { id, error } => {
                if let Some(id) = self.requests.remove(&(conn, id)) {
                    self.emit(conn, Event::RequestFailed { id, error });
                }
            }
            other => self.emit(conn, other),
        }
    }

    /// Channels confirmed on `conn`: a first placement or a move starts
    /// delivering from it; a rotation's replacement starts a hand-over.
    fn on_subscribed(&mut self, now: Instant, conn: ConnId, channels: Vec<String>) {
        let role = self.conns.get(&conn).map(|c| c.role);
        let mut fresh = Vec::new();
        for channel in channels {
            if !self.assign.desired().contains(&channel) {
                continue; // unwanted meanwhile: its unsubscribe is queued
            }
            match (self.delivery.source(&channel), role) {
                (Some(src), _) if src == conn => {}
                (Some(src), Some(Role::Replacing(old))) if src == old => {
                    self.delivery.start_handover(&channel, conn);
                }
                _ => self.delivery.set_source(&channel, conn),
            }
            if self.confirmed.insert(channel.clone()) {
                fresh.push(channel);
            }
        }
        if !fresh.is_empty() {
            self.emit(conn, Event::Subscribed { channels: fresh });
        }
        self.progress_rotations(now);
    }

    /// `conn` lost its transport. A retiring one hands over at once; an
    /// active one's channels move to connections with room (the rest wait
    /// for its reconnect).
    fn on_lost(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.born = None;
        match c.role {
            Role::Retiring(_) => self.finish_rotation(now, conn, true),
            Role::Active => {
                self.assign.set_accepting(conn, false);
                self.move_away(conn);
            }
            // Its own reconnect brings its channels back; the old one serves meanwhile.
            Role::Replacing(_) => self.assign.set_accepting(conn, false),
            Role::Dismissed => {}
        }
    }

    /// A session ended. Dismissed ones were closed by the pool; any other
    /// stopped for good (its adapter's policy, or retries exhausted), and
    /// then so does the pool: retrying elsewhere would meet the same end.
    fn on_closed(&mut self, now: Instant, conn: ConnId, reason: CloseReason) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        self.assign.remove_conn(conn);
        self.requests.retain(|(owner, _), _| *owner != conn);
        if c.role != Role::Dismissed && self.closing.is_none() {
            self.closing = Some(reason);
            for other in self.conns.values_mut() {
                other.role = Role::Dismissed;
                let _ = other
                    .session
                    .close(now, CloseCode::GOING_AWAY, "pool stopped");
            }
        }
    }

    /// Emits the pool's final `Closed` once every connection is gone.
    fn finish_close(&mut self) {
        if self.closed || !self.conns.is_empty() {
            return;
        }
        if let Some(reason) = self.closing.clone() {
            self.closed = true;
            self.out.push_back(PoolOutput::Event {
                conn: None,
                event: Event::Closed { reason },
            });
        }
    }
}
