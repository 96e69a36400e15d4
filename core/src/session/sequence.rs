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

/// The last sequence number per channel, and the channels being resynced
/// with the instant by which their fresh snapshot must have arrived.
#[derive(Debug, Default)]
pub(crate) struct Sequences {
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
        let Some(previous) = seq.previous else {
            // A snapshot starts the sequence afresh.
            self.resyncing.remove(channel);
            self.arm(&mut link.env.timers);
            self.last.insert(channel.to_owned(), seq.id);
            return true;
        };
        if self.resyncing.contains_key(channel) {
            return false;
        }
        match self.last.get_mut(channel) {
            Some(last) if *last == previous => {
                *last = seq.id;
                true
            }
            Some(last) => {
                let expected = *last;
                self.last.remove(channel);
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
                self.last.insert(channel.to_owned(), seq.id);
                true
            }
        }
    }

    /// Asks for a fresh snapshot. If none arrives within the request
    /// timeout (an answer lost, a refusal, a gap found before the
    /// confirmation), it asks again: a resync never hangs.
    fn restart_resync(&mut self, link: &mut Link<'_>, subs: &mut Subscriptions, channel: &str) {
        let deadline = link.env.now + link.env.config.request_timeout;
        self.resyncing.insert(channel.to_owned(), deadline);
        subs.resubscribe(link, channel);
        self.arm(&mut link.env.timers);
    }

    /// The resync timer fired: channels still without a snapshot ask again.
    pub(crate) fn on_resync_timer(&mut self, link: &mut Link<'_>, subs: &mut Subscriptions) {
        let now = link.env.now;
        let overdue: Vec<String> = self
            .resyncing
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(c, _)| c.clone())
            .collect();
        for channel in overdue {
            if subs.channels().desired().contains(&channel) {
                self.restart_resync(link, subs, &channel);
            } else {
                self.resyncing.remove(&channel);
            }
        }
        self.arm(&mut link.env.timers);
    }

    fn arm(&self, timers: &mut Timers) {
        match self.resyncing.values().min() {
            Some(at) => timers.set(Timer::Resync, *at),
            None => timers.clear(Timer::Resync),
        }
    }

    /// The connection is gone: sequences restart with the next snapshots.
    pub(crate) fn on_connection_lost(&mut self) {
        *self = Sequences::default();
    }
}
