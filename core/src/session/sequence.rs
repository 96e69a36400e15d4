//! Sequenced channels (order books): a missed update means the local copy is
//! wrong, so the channel is resubscribed for a fresh snapshot and its
//! updates are held back until the snapshot arrives.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::value::RawValue;

use super::core::Core;
use super::timers::Timer;
use super::{Adapter, Event};

/// The last sequence number per channel, and the channels being resynced
/// with the instant by which their fresh snapshot must have arrived.
#[derive(Debug, Default)]
pub(crate) struct Sequences {
    last: HashMap<String, u64>,
    resyncing: HashMap<String, Instant>,
}

impl Core {
    /// Checks a notification's sequence; `false` when it must be held back.
    pub(crate) fn check_sequence(
        &mut self,
        adapter: &dyn Adapter,
        channel: &str,
        data: &RawValue,
    ) -> bool {
        let Some(seq) = adapter.sequence(channel, data) else {
            return true;
        };
        let Some(previous) = seq.previous else {
            // A snapshot starts the sequence afresh.
            self.sequences.resyncing.remove(channel);
            self.arm_resync();
            self.sequences.last.insert(channel.to_owned(), seq.id);
            return true;
        };
        if self.sequences.resyncing.contains_key(channel) {
            return false;
        }
        match self.sequences.last.get_mut(channel) {
            Some(last) if *last == previous => {
                *last = seq.id;
                true
            }
            Some(last) => {
                let expected = *last;
                self.resync(adapter, channel, expected, previous);
                false
            }
            None => {
                // An update before any snapshot: start tracking from it.
                self.sequences.last.insert(channel.to_owned(), seq.id);
                true
            }
        }
    }

    fn resync(&mut self, adapter: &dyn Adapter, channel: &str, expected: u64, got: u64) {
        self.sequences.last.remove(channel);
        self.emit(Event::Gap {
            channel: channel.to_owned(),
            expected,
            got,
        });
        self.restart_resync(adapter, channel);
    }

    /// Asks for a fresh snapshot: unsubscribe then (still desired) subscribe
    /// again, or just subscribe when not confirmed. If no snapshot arrives
    /// within the request timeout (an answer lost, a refusal, a gap found
    /// before the confirmation), it asks again: a resync never hangs.
    fn restart_resync(&mut self, adapter: &dyn Adapter, channel: &str) {
        let deadline = self.now + self.config.request_timeout;
        self.sequences
            .resyncing
            .insert(channel.to_owned(), deadline);
        if self.subs.confirmed().contains(channel) {
            self.request_unsubscribe(adapter, vec![channel.to_owned()]);
        } else if self.past_auth {
            self.subs.on_subscribe_unanswered(&[channel.to_owned()]);
            self.request_subscriptions(adapter);
        }
        self.arm_resync();
    }

    /// The resync timer fired: channels still without a snapshot ask again.
    pub(crate) fn on_resync_timer(&mut self, adapter: &dyn Adapter) {
        let now = self.now;
        let overdue: Vec<String> = self
            .sequences
            .resyncing
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(c, _)| c.clone())
            .collect();
        for channel in overdue {
            if self.subs.desired().contains(&channel) {
                self.restart_resync(adapter, &channel);
            } else {
                self.sequences.resyncing.remove(&channel);
            }
        }
        self.arm_resync();
    }

    fn arm_resync(&mut self) {
        match self.sequences.resyncing.values().min() {
            Some(at) => self.timers.set(Timer::Resync, *at),
            None => self.timers.clear(Timer::Resync),
        }
    }

    /// The connection is gone: sequences restart with the next snapshots.
    pub(crate) fn forget_sequences(&mut self) {
        self.sequences = Sequences::default();
    }
}
