//! Sequenced channels (order books): a missed update means the local copy is
//! wrong, so the channel is resubscribed for a fresh snapshot and its
//! updates are held back until the snapshot arrives.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::value::RawValue;

use super::event::Event;
use super::outbound::Link;
use super::subscriptions::Subscriptions;
use super::timers::{Timer, Timers};

/// The sequenced channels' state, made at the first sequenced notification
/// (a session without any holds a null pointer, not two empty tables).
#[derive(Debug, Default)]
pub(crate) struct Sequences(Option<Box<Tracked>>);

/// The last sequence number per channel, and the channels being resynced
/// with the instant by which their fresh snapshot must have arrived.
#[derive(Debug, Default)]
struct Tracked {
    last: HashMap<String, u64>,
    resyncing: HashMap<String, Instant>,
}

impl Sequences {
    /// Checks a notification's sequence; `false` when it must be held back.
    /// A gap asks `subs` for a fresh snapshot.
    pub(crate) fn check(
        &mut self,
        link: &mut Link<'_>,
        subs: &mut Subscriptions,
        channel: &str,
        data: &RawValue,
    ) -> bool {
        let Some(seq) = link.adapter.sequence(channel, data) else {
            return true;
        };
        let tracked = self.0.get_or_insert_with(Box::default);
        let Some(previous) = seq.previous else {
            // A snapshot starts the sequence afresh.
            tracked.resyncing.remove(channel);
            tracked.last.insert(channel.to_owned(), seq.id);
            self.arm(&mut link.env.timers);
            return true;
        };
        if tracked.resyncing.contains_key(channel) {
            return false;
        }
        match tracked.last.get_mut(channel) {
            Some(last) if *last == previous => {
                *last = seq.id;
                true
            }
            Some(last) => {
                let expected = *last;
                tracked.last.remove(channel);
                link.env.out.telemetry.sequence_gap();
                link.env.out.emit(Event::Gap {
                    channel: channel.to_owned(),
                    expected,
                    got: previous,
                });
                self.restart_resync(link, subs, channel);
                false
            }
            None => {
                // An update before any snapshot: start tracking from it.
                tracked.last.insert(channel.to_owned(), seq.id);
                true
            }
        }
    }

    /// Asks for a fresh snapshot. If none arrives within the request
    /// timeout (an answer lost, a refusal, a gap found before the
    /// confirmation), it asks again: a resync never hangs.
    fn restart_resync(&mut self, link: &mut Link<'_>, subs: &mut Subscriptions, channel: &str) {
        let deadline = link.env.now + link.env.config.request_timeout;
        let tracked = self.0.get_or_insert_with(Box::default);
        tracked.resyncing.insert(channel.to_owned(), deadline);
        subs.resubscribe(link, channel);
        self.arm(&mut link.env.timers);
    }

    /// The resync timer fired: channels still without a snapshot ask again.
    pub(crate) fn on_resync_timer(&mut self, link: &mut Link<'_>, subs: &mut Subscriptions) {
        let now = link.env.now;
        let overdue: Vec<String> = self
            .0
            .iter()
            .flat_map(|t| &t.resyncing)
            .filter(|(_, at)| **at <= now)
            .map(|(c, _)| c.clone())
            .collect();
        for channel in overdue {
            if subs.channels().desired().contains(&channel) {
                self.restart_resync(link, subs, &channel);
            } else if let Some(tracked) = self.0.as_mut() {
                tracked.resyncing.remove(&channel);
            }
        }
        self.arm(&mut link.env.timers);
    }

    fn arm(&self, timers: &mut Timers) {
        match self.0.iter().flat_map(|t| t.resyncing.values()).min() {
            Some(at) => timers.set(Timer::Resync, *at),
            None => timers.clear(Timer::Resync),
        }
    }

    /// The connection is gone: sequences restart with the next snapshots.
    pub(crate) fn on_connection_lost(&mut self) {
        *self = Sequences::default();
    }
}
