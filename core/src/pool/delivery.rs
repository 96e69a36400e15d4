//! Which connection's updates of a channel reach the application, and the
//! hand-over between two connections during a rotation, deduplicated by
//! the stream's own sequence numbers where it has them.
//!
//! During a hand-over both connections carry the channel. Updates of the
//! old one are delivered; the new one's are held back until they overlap
//! what was delivered (the first held update follows or repeats the last
//! delivered one); then delivery switches to the new connection and every
//! update whose id was already delivered is dropped. No update is lost or
//! delivered twice, whichever connection is faster.
//!
//! Streams without sequence numbers cannot be matched across connections.
//! Delivery switches the moment the new connection confirms the channel;
//! the old connection's later updates are dropped. Around that instant is
//! a window as wide as the difference between the two connections' one-way
//! latencies: if the old connection is the faster one, an update the server
//! sent on both just after the new subscription took effect is delivered
//! twice; if the new one is faster, an update sent only on the old one just
//! before may be lost. Between two connections to the same server the
//! window is usually empty and otherwise one or two updates wide (the test
//! `pool_rotation` measures it). We chose this over the alternatives
//! because it is the narrowest window: delivering from both until the old
//! closes duplicates a whole overlap, and stopping the old connection
//! before the new one confirms loses a full round trip every time. Such
//! streams are mostly latest-value streams (tickers, mark prices) where the
//! next update supersedes the previous; give streams whose every update
//! counts (trades, book diffs) an id through
//! [`Adapter::update_id`](crate::session::Adapter::update_id), and the switch
//! is exact.

use std::collections::{HashMap, VecDeque};

use crate::session::{Event, Sequence};

use super::output::ConnId;

/// An update held back during a hand-over.
#[derive(Debug)]
struct Held {
    seq: Option<Sequence>,
    event: Event,
}

/// The delivery state of one channel.
#[derive(Debug)]
struct Route {
    /// The connection whose updates are delivered.
    source: ConnId,
    /// The id of the last delivered update, if the stream has ids.
    last: Option<u64>,
    /// A hand-over in progress: the new connection and its held updates.
    handover: Option<(ConnId, VecDeque<Held>)>,
}

/// Delivery routes of every channel.
#[derive(Debug, Default)]
pub struct Delivery {
    routes: HashMap<String, Route>,
    /// Updates dropped as duplicates (seen on both connections).
    pub duplicates_dropped: u64,
}

impl Delivery {
    /// `channel` is delivered from `conn` (a first placement or a move
    /// after a loss): any hand-over is abandoned, the last id is kept.
    pub fn set_source(&mut self, channel: &str, conn: ConnId) {
        let route = self.routes.entry(channel.to_owned()).or_insert(Route {
            source: conn,
            last: None,
            handover: None,
        });
        route.source = conn;
        route.handover = None;
    }

    /// The connection `channel` is delivered from.
    pub fn source(&self, channel: &str) -> Option<ConnId> {
        self.routes.get(channel).map(|r| r.source)
    }

    /// Forgets `channel` (unsubscribed).
    pub fn remove(&mut self, channel: &str) {
        self.routes.remove(channel);
    }

    /// `to` confirmed `channel` during a rotation. A stream that never
    /// showed an id switches at once (see the module docs); else `to`'s
    /// updates are held until they overlap.
    pub fn start_handover(&mut self, channel: &str, to: ConnId) {
        let Some(route) = self.routes.get_mut(channel) else {
            return;
        };
        if route.source == to || route.handover.as_ref().is_some_and(|(c, _)| *c == to) {
            return;
        }
        if route.last.is_none() {
            route.source = to;
            route.handover = None;
        } else {
            route.handover = Some((to, VecDeque::new()));
        }
    }

    /// Whether `channel` is in a hand-over.
    pub fn in_handover(&self, channel: &str) -> bool {
        self.routes
            .get(channel)
            .is_some_and(|r| r.handover.is_some())
    }

    /// The source of `channel` is lost during a hand-over: switch to the
    /// new connection now and release what it held (ids already delivered
    /// are dropped; a gap is possible only if the old one died before
    /// delivering up to the new one's first update).
    pub fn force_switch(&mut self, channel: &str, out: &mut Vec<Event>) {
        let Some(route) = self.routes.get_mut(channel) else {
            return;
        };
        if let Some((to, held)) = route.handover.take() {
            route.source = to;
            for h in held {
                deliver_new(route, &mut self.duplicates_dropped, h, out);
            }
        }
    }

    /// A notification of `channel` from `conn`, with its sequence if it has
    /// one: pushes onto `out` what to deliver (possibly nothing, possibly
    /// held updates too).
    pub fn on_update(
        &mut self,
        conn: ConnId,
        channel: &str,
        seq: Option<Sequence>,
        event: Event,
        out: &mut Vec<Event>,
    ) {
        let Some(route) = self.routes.get_mut(channel) else {
            return; // not a channel of the pool (any more)
        };
        let from_new = route.handover.as_ref().is_some_and(|(c, _)| *c == conn);
        if conn == route.source {
            deliver_new(
                route,
                &mut self.duplicates_dropped,
                Held { seq, event },
                out,
            );
            if seq.is_some() {
                try_switch(route, &mut self.duplicates_dropped, out);
            }
        } else if from_new {
            let Some(seq) = seq else {
                // The stream lost its ids: nothing to match, switch now.
                route.source = conn;
                route.handover = None;
                out.push(event);
                return;
            };
            if let Some((_, held)) = route.handover.as_mut() {
                held.push_back(Held {
                    seq: Some(seq),
                    event,
                });
            }
            try_switch(route, &mut self.duplicates_dropped, out);
        }
        // Any other connection: a retired source or a stale overlap; dropped.
    }
}

/// Delivers `held` unless its id was already delivered.
fn deliver_new(route: &mut Route, dropped: &mut u64, held: Held, out: &mut Vec<Event>) {
    let Some(seq) = held.seq else {
        out.push(held.event);
        return;
    };
    if route.last.is_some_and(|last| seq.id <= last) {
        *dropped += 1;
        return;
    }
    route.last = Some(seq.id);
    out.push(held.event);
}

/// Switches to the new connection once its first held update follows or
/// repeats what was delivered.
fn try_switch(route: &mut Route, dropped: &mut u64, out: &mut Vec<Event>) {
    let Some((to, held)) = route.handover.as_mut() else {
        return;
    };
    let last = route.last;
    let Some(first) = held.front().and_then(|h| h.seq) else {
        return;
    };
    let overlaps = match (last, first.previous) {
        (None, _) => true,
        // Binance depth: `pu`/`U-1`; Deribit books: `prev_change_id`.
        (Some(last), Some(previous)) => previous <= last,
        // A snapshot: it restates everything up to its id.
        (Some(last), None) => first.id <= last.saturating_add(1),
    };
    if !overlaps {
        return;
    }
    let to = *to;
    let held = std::mem::take(held);
    route.source = to;
    route.handover = None;
    for h in held {
        deliver_new(route, dropped, h, out);
    }
}
