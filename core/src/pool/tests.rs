//! Unit tests of the pool's pure parts: the assignment (a property test of
//! its invariants) and the hand-over of delivery between two connections.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::delivery::Delivery;
use super::{Assignment, output::ConnId};
use crate::session::{Event, JsonText, Sequence};

#[derive(Debug, Clone)]
enum Op {
    Want(Vec<u8>),
    Unwant(Vec<u8>),
    AddConn,
    RemoveConn(u8),
    Place,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::collection::vec(0u8..30, 1..10).prop_map(Op::Want),
        proptest::collection::vec(0u8..30, 1..6).prop_map(Op::Unwant),
        Just(Op::AddConn),
        any::<u8>().prop_map(Op::RemoveConn),
        Just(Op::Place),
    ]
}

const MAX: usize = 4;

/// Placed channels are desired, within the limit, on one connection each;
/// every desired channel is placed or pending, never both.
fn check(a: &Assignment) -> Result<(), TestCaseError> {
    let mut seen = BTreeSet::new();
    for conn in a.conns() {
        prop_assert!(a.load(conn) <= MAX);
        for channel in a.channels(conn) {
            prop_assert!(a.desired().contains(channel));
            prop_assert!(seen.insert(channel.to_owned()), "{channel} placed twice");
            prop_assert!(!a.pending().contains(channel));
        }
    }
    for channel in a.desired() {
        prop_assert!(seen.contains(channel) || a.pending().contains(channel));
    }
    Ok(())
}

proptest! {
    #[test]
    fn the_assignment_keeps_its_invariants_and_settles(ops in proptest::collection::vec(op(), 1..40)) {
        let mut a = Assignment::default();
        let mut next = 1;
        let name = |i: u8| format!("c{i}");
        for op in ops {
            match op {
                Op::Want(ids) => {
                    let names: Vec<String> = ids.into_iter().map(name).collect();
                    a.want(&names.iter().map(String::as_str).collect::<Vec<_>>());
                }
                Op::Unwant(ids) => {
                    let names: Vec<String> = ids.into_iter().map(name).collect();
                    a.unwant(&names.iter().map(String::as_str).collect::<Vec<_>>());
                }
                Op::AddConn => {
                    a.add_conn(ConnId(next));
                    next += 1;
                }
                Op::RemoveConn(i) => {
                    let conns: Vec<ConnId> = a.conns().collect();
                    if !conns.is_empty() {
                        a.remove_conn(conns[usize::from(i) % conns.len()]);
                    }
                }
                Op::Place => {
                    a.place(MAX, |_| 0);
                }
            }
            check(&a)?;
        }
        // Settle as the pool does: open what the pending channels need, place.
        for _ in 0..a.conns_needed(MAX) {
            a.add_conn(ConnId(next));
            next += 1;
        }
        a.place(MAX, |_| 0);
        check(&a)?;
        prop_assert!(a.pending().is_empty());
        let placed: usize = a.conns().map(|c| a.load(c)).sum();
        prop_assert_eq!(placed, a.desired().len());
    }
}

fn update(id: u64) -> (Option<Sequence>, Event) {
    let seq = Sequence {
        id,
        previous: Some(id - 1),
    };
    let event = Event::Notification {
        channel: "t".into(),
        data: JsonText::from_string(format!("{id}")),
    };
    (Some(seq), event)
}

fn ids(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .map(|e| match e {
            Event::Notification { data, .. } => data.as_str().parse().unwrap(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Feeds `from` the update `id` and returns what was delivered.
fn feed(d: &mut Delivery, from: u64, id: u64) -> Vec<u64> {
    let (seq, event) = update(id);
    let mut out = Vec::new();
    d.on_update(ConnId(from), "t", seq, event, &mut out);
    ids(&out)
}

#[test]
fn a_new_connection_behind_the_old_one_takes_over_without_duplicates() {
    let mut d = Delivery::default();
    d.set_source("t", ConnId(1));
    assert_eq!(feed(&mut d, 1, 1), [1]);
    assert_eq!(feed(&mut d, 1, 2), [2]);
    assert_eq!(feed(&mut d, 1, 3), [3]);
    d.start_handover("t", ConnId(2));
    // The new one starts at 2: it overlaps, delivery switches, 2 and 3 drop.
    assert_eq!(feed(&mut d, 2, 2), Vec::<u64>::new());
    assert_eq!(d.source("t"), Some(ConnId(2)));
    assert_eq!(
        feed(&mut d, 1, 4),
        Vec::<u64>::new(),
        "the old one is ignored"
    );
    assert_eq!(feed(&mut d, 2, 3), Vec::<u64>::new());
    assert_eq!(feed(&mut d, 2, 4), [4]);
    assert_eq!(d.duplicates_dropped, 2);
}

#[test]
fn a_new_connection_ahead_of_the_old_one_is_held_until_the_old_one_catches_up() {
    let mut d = Delivery::default();
    d.set_source("t", ConnId(1));
    assert_eq!(feed(&mut d, 1, 1), [1]);
    d.start_handover("t", ConnId(2));
    // The new one is at 3 already: 2 is missing, so it waits.
    assert_eq!(feed(&mut d, 2, 3), Vec::<u64>::new());
    assert_eq!(feed(&mut d, 2, 4), Vec::<u64>::new());
    assert!(d.in_handover("t"));
    // The old one delivers 2: now 3 and 4 follow from the new one.
    assert_eq!(feed(&mut d, 1, 2), [2, 3, 4]);
    assert_eq!(d.source("t"), Some(ConnId(2)));
    assert_eq!(feed(&mut d, 1, 3), Vec::<u64>::new());
    assert_eq!(feed(&mut d, 2, 5), [5]);
}

#[test]
fn losing_the_old_connection_mid_hand_over_releases_what_the_new_one_held() {
    let mut d = Delivery::default();
    d.set_source("t", ConnId(1));
    assert_eq!(feed(&mut d, 1, 1), [1]);
    d.start_handover("t", ConnId(2));
    assert_eq!(feed(&mut d, 2, 3), Vec::<u64>::new());
    let mut out = Vec::new();
    d.force_switch("t", &mut out);
    assert_eq!(
        ids(&out),
        [3],
        "2 is lost with the old connection: a gap, not a hang"
    );
    assert_eq!(d.source("t"), Some(ConnId(2)));
}

#[test]
fn a_stream_without_ids_switches_at_confirmation() {
    let mut d = Delivery::default();
    d.set_source("t", ConnId(1));
    let mut out = Vec::new();
    let (_, event) = update(1);
    d.on_update(ConnId(1), "t", None, event, &mut out);
    assert_eq!(out.len(), 1);
    d.start_handover("t", ConnId(2));
    assert_eq!(d.source("t"), Some(ConnId(2)));
    assert!(!d.in_handover("t"));
}

#[test]
fn a_removed_channel_is_forgotten_and_starts_afresh_when_placed_again() {
    let mut d = Delivery::default();
    d.set_source("t", ConnId(1));
    assert_eq!(feed(&mut d, 1, 7), [7]);
    d.remove("t");
    assert_eq!(d.source("t"), None);
    // Subscribed again later: its ids start over, nothing is a duplicate.
    d.set_source("t", ConnId(2));
    assert_eq!(feed(&mut d, 2, 3), [3]);
    assert_eq!(d.duplicates_dropped, 0);
}

#[test]
fn a_hand_over_to_the_source_itself_or_asked_twice_changes_nothing() {
    let mut d = Delivery::default();
    d.set_source("t", ConnId(1));
    assert_eq!(feed(&mut d, 1, 1), [1]);
    d.start_handover("t", ConnId(1));
    assert!(!d.in_handover("t"), "no hand-over to the source itself");
    assert_eq!(feed(&mut d, 1, 2), [2]);
    d.start_handover("t", ConnId(2));
    assert_eq!(feed(&mut d, 2, 4), Vec::<u64>::new(), "held: 3 is missing");
    // Confirmed again (e.g. a second subscribe answer): what is held stays.
    d.start_handover("t", ConnId(2));
    assert!(d.in_handover("t"));
    assert_eq!(feed(&mut d, 1, 3), [3, 4]);
    assert_eq!(d.source("t"), Some(ConnId(2)));
}

/// Feeds `from` a snapshot (an id without a previous one) and returns what
/// was delivered.
fn feed_snapshot(d: &mut Delivery, from: u64, id: u64) -> Vec<u64> {
    let (_, event) = update(id);
    let mut out = Vec::new();
    let seq = Sequence { id, previous: None };
    d.on_update(ConnId(from), "t", Some(seq), event, &mut out);
    ids(&out)
}

#[test]
fn a_snapshot_takes_over_only_once_it_follows_what_was_delivered() {
    let mut d = Delivery::default();
    d.set_source("t", ConnId(1));
    assert_eq!(feed(&mut d, 1, 1), [1]);
    d.start_handover("t", ConnId(2));
    // A snapshot at 4 would skip 2 and 3: held.
    assert_eq!(feed_snapshot(&mut d, 2, 4), Vec::<u64>::new());
    assert!(d.in_handover("t"));
    assert_eq!(feed(&mut d, 1, 2), [2]);
    // Once 3 is delivered the snapshot follows it: the new one takes over.
    assert_eq!(feed(&mut d, 1, 3), [3, 4]);
    assert_eq!(d.source("t"), Some(ConnId(2)));
}
