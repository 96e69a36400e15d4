//! Sequenced channels (order books): a missed update means the local copy is
//! wrong, so the channel is resubscribed for a fresh snapshot and its
//! updates are held back until the snapshot arrives.

use std::collections::{HashMap, HashSet};

use serde_json::value::RawValue;

use super::core::Core;
use super::{Adapter, Event};

/// The last sequence number per channel, and the channels being resynced.
#[derive(Debug, Default)]
pub(crate) struct Sequences {
    last: HashMap<String, u64>,
    resyncing: HashSet<String>,
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
            self.sequences.last.insert(channel.to_owned(), seq.id);
            return true;
        };
        if self.sequences.resyncing.contains(channel) {
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
        self.sequences.resyncing.insert(channel.to_owned());
        self.emit(Event::Gap {
            channel: channel.to_owned(),
            expected,
            got,
        });
        // Still desired: once the unsubscribe is answered, it is subscribed
        // again, and the server sends a new snapshot.
        if self.subs.confirmed().contains(channel) {
            self.request_unsubscribe(adapter, vec![channel.to_owned()]);
        }
    }

    /// The connection is gone: sequences restart with the next snapshots.
    pub(crate) fn forget_sequences(&mut self) {
        self.sequences = Sequences::default();
    }
}
