//! The book's sequencing rules, case by case and as a property: fed a
//! sequenced stream with drops, duplicates and swaps, and snapshots when it
//! asks, the book equals the true book at its update id whenever it says it
//! is in sync.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn update(first: u64, last: u64, pu: Option<u64>, bids: &[(&str, &str)]) -> DepthUpdate {
    DepthUpdate {
        first_update_id: first,
        final_update_id: last,
        prev_final_update_id: pu,
        bids: bids.iter().map(|(p, q)| (d(p), d(q))).collect(),
        asks: Vec::new(),
    }
}

fn snapshot(id: u64, bids: &[(&str, &str)]) -> Snapshot {
    Snapshot {
        last_update_id: id,
        bids: bids.iter().map(|(p, q)| (d(p), d(q))).collect(),
        asks: Vec::new(),
    }
}

#[test]
fn spot_drops_old_events_and_requires_continuity() {
    let mut book = OrderBook::new(Market::Spot);
    assert!(book.needs_snapshot());
    assert_eq!(
        book.on_update(update(90, 95, None, &[("1", "1")])),
        [BookEvent::NeedSnapshot]
    );
    assert!(
        book.on_update(update(96, 100, None, &[("2", "1")]))
            .is_empty()
    );
    assert!(
        book.on_update(update(101, 104, None, &[("3", "1"), ("1", "0")]))
            .is_empty()
    );
    // Snapshot at 100: 90..95 and 96..100 are in it; 101..104 continues.
    let events = book.on_snapshot(snapshot(100, &[("1", "5"), ("2", "1")]));
    assert_eq!(
        events,
        [BookEvent::Synced {
            last_update_id: 104
        }]
    );
    assert_eq!(
        book.bids().collect::<Vec<_>>(),
        [(d("3"), d("1")), (d("2"), d("1"))]
    );
    // A duplicate is ignored; an overlap from the past too.
    assert!(
        book.on_update(update(101, 104, None, &[("9", "9")]))
            .is_empty()
    );
    assert_eq!(book.last_update_id(), Some(104));
    assert!(
        book.on_update(update(105, 105, None, &[("2", "0")]))
            .is_empty()
    );
    assert_eq!(book.best_bid(), Some((d("3"), d("1"))));
    // 106 is missing.
    assert_eq!(
        book.on_update(update(107, 108, None, &[])),
        [
            BookEvent::Gap {
                expected: 106,
                got: 107
            },
            BookEvent::NeedSnapshot
        ]
    );
    assert_eq!((book.resyncs(), book.last_update_id()), (1, None));
    // A snapshot older than the buffered event cannot be bridged.
    assert_eq!(
        book.on_snapshot(snapshot(105, &[])),
        [
            BookEvent::StaleSnapshot {
                last_update_id: 105,
                first_buffered: 107
            },
            BookEvent::NeedSnapshot
        ]
    );
    assert_eq!(
        book.on_snapshot(snapshot(106, &[("4", "1")])),
        [BookEvent::Synced {
            last_update_id: 108
        }]
    );
    assert_eq!(book.best_bid(), Some((d("4"), d("1"))));
}

#[test]
fn futures_first_event_straddles_then_pu_chains() {
    let mut book = OrderBook::new(Market::UsdM);
    assert_eq!(
        book.on_update(update(90, 99, Some(89), &[])),
        [BookEvent::NeedSnapshot]
    );
    book.on_update(update(100, 110, Some(99), &[("1", "2")]));
    book.on_update(update(111, 120, Some(110), &[("1", "3")]));
    // u < lastUpdateId dropped; the first applied has U <= 105 <= u.
    assert_eq!(
        book.on_snapshot(snapshot(105, &[])),
        [BookEvent::Synced {
            last_update_id: 120
        }]
    );
    assert_eq!(book.best_bid(), Some((d("1"), d("3"))));
    // `pu` must equal the previous `u`, even when `U` would look continuous.
    assert_eq!(
        book.on_update(update(121, 125, Some(119), &[])),
        [
            BookEvent::Gap {
                expected: 120,
                got: 119
            },
            BookEvent::NeedSnapshot
        ]
    );
    // Futures cannot start from a snapshot at `U - 1`.
    let stale = book.on_snapshot(snapshot(120, &[]));
    assert_eq!(
        stale[0],
        BookEvent::StaleSnapshot {
            last_update_id: 120,
            first_buffered: 121
        }
    );
    assert_eq!(
        book.on_snapshot(snapshot(122, &[])),
        [BookEvent::Synced {
            last_update_id: 125
        }]
    );
}

#[test]
fn parses_snapshots_and_events() {
    let s = Snapshot::from_json(r#"{"lastUpdateId":2731179239,"bids":[["0.01379900","3.43200000"]],"asks":[["0.01380000","5.91700000"]]}"#).unwrap();
    assert_eq!(
        (s.last_update_id, s.bids[0].0.to_string()),
        (2731179239, "0.013799".to_owned())
    );
    assert!(Snapshot::from_json(r#"{"lastUpdateId":1,"bids":[["x","1"]],"asks":[]}"#).is_err());
    assert!(DepthUpdate::from_json("{}").is_err());
}

/// The true book: the state after each of `n` contiguous events.
struct Truth {
    events: Vec<DepthUpdate>,
    states: Vec<BTreeMap<Decimal, Decimal>>,
}

fn truth(changes: &[(u8, u8, u8)]) -> Truth {
    let mut state = BTreeMap::new();
    let (mut events, mut states) = (Vec::new(), vec![state.clone()]);
    let mut last = 1000u64;
    for (span, price, qty) in changes {
        let first = last + 1;
        let fin = first + u64::from(*span % 3);
        let (p, q) = (
            Decimal::from(u64::from(*price % 16) + 1),
            Decimal::from(u64::from(*qty % 4)),
        );
        set(&mut state, p, q);
        events.push(DepthUpdate {
            first_update_id: first,
            final_update_id: fin,
            prev_final_update_id: Some(last),
            bids: vec![(p, q)],
            asks: Vec::new(),
        });
        states.push(state.clone());
        last = fin;
    }
    Truth { events, states }
}

impl Truth {
    /// The snapshot after `k` events.
    fn snapshot(&self, k: usize) -> Snapshot {
        let id = if k == 0 {
            1000
        } else {
            self.events[k - 1].final_update_id
        };
        Snapshot {
            last_update_id: id,
            bids: self.states[k].iter().map(|(p, q)| (*p, *q)).collect(),
            asks: Vec::new(),
        }
    }

    fn state_at(&self, id: u64) -> Option<&BTreeMap<Decimal, Decimal>> {
        if id == 1000 {
            return Some(&self.states[0]);
        }
        let k = self.events.iter().position(|e| e.final_update_id == id)?;
        Some(&self.states[k + 1])
    }
}

proptest! {
    #[test]
    fn in_sync_means_equal_to_the_truth(
        changes in proptest::collection::vec(any::<(u8, u8, u8)>(), 1..120),
        faults in proptest::collection::vec(0u8..20, 1..120),
        futures in any::<bool>(),
        stale_first in any::<bool>(),
    ) {
        let market = if futures { Market::UsdM } else { Market::Spot };
        let truth = truth(&changes);
        // Delivery order with faults: 0 drop, 1 duplicate, 2 swap with the next.
        let mut order: Vec<usize> = Vec::new();
        let mut i = 0;
        while i < truth.events.len() {
            match faults[i % faults.len()] {
                0 => {}
                1 => { order.push(i); order.push(i); }
                2 if i + 1 < truth.events.len() => { order.push(i + 1); order.push(i); i += 1; }
                _ => order.push(i),
            }
            i += 1;
        }
        let mut book = OrderBook::new(market);
        let mut delivered_max = 0;
        let mut stale_once = stale_first;
        for k in order {
            delivered_max = delivered_max.max(k + 1);
            let mut events = book.on_update(truth.events[k].clone());
            while events.contains(&BookEvent::NeedSnapshot) {
                let at = if std::mem::take(&mut stale_once) { 0 } else { delivered_max };
                events = book.on_snapshot(truth.snapshot(at));
            }
            if let Some(id) = book.last_update_id() {
                let expected = truth.state_at(id).expect("an id of the stream");
                prop_assert_eq!(&book.bids, expected, "at {}", id);
            }
        }
    }
}
