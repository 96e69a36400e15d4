//! Unit tests of the assignment's single operations, each against its
//! documentation (the property test in `tests.rs` checks the invariants
//! over sequences of them).

use std::collections::BTreeSet;

use super::{Assignment, output::ConnId};

fn pending(a: &Assignment) -> Vec<&str> {
    a.pending().iter().map(String::as_str).collect()
}

fn placed(conn: u64, channels: &[&str]) -> (ConnId, Vec<String>) {
    let channels = channels.iter().map(|c| (*c).to_owned()).collect();
    (ConnId(conn), channels)
}

#[test]
fn a_connection_takes_channels_only_while_it_accepts_them() {
    let mut a = Assignment::default();
    assert!(
        !a.is_accepting(ConnId(1)),
        "an unknown connection takes nothing"
    );
    a.add_conn(ConnId(1));
    assert!(a.is_accepting(ConnId(1)), "a new connection accepts");
    a.set_accepting(ConnId(1), false);
    assert!(!a.is_accepting(ConnId(1)));
    a.want(&["a"]);
    assert_eq!(a.place(4, |_| 0), [], "a retiring connection gets nothing");
    assert_eq!(pending(&a), ["a"]);
    a.set_accepting(ConnId(1), true);
    assert!(a.is_accepting(ConnId(1)));
    assert_eq!(a.place(4, |_| 0), [placed(1, &["a"])]);
}

#[test]
fn place_names_only_the_connections_that_got_channels() {
    let mut a = Assignment::default();
    a.add_conn(ConnId(1));
    a.add_conn(ConnId(2));
    assert_eq!(a.place(2, |_| 0), [], "nothing pending, nothing placed");
    a.want(&["a", "b", "c"]);
    // One unsubscribe still leaving connection 1 takes one of its two places.
    let leaving = |conn: ConnId| usize::from(conn == ConnId(1));
    assert_eq!(
        a.place(2, leaving),
        [placed(1, &["a"]), placed(2, &["b", "c"])]
    );
    a.want(&["d"]);
    assert_eq!(a.place(2, leaving), [], "both are full: no empty entries");
    assert_eq!(pending(&a), ["d"]);
    assert_eq!(a.conns_needed(2), 1);
}

#[test]
fn a_channel_taken_off_is_pending_only_when_no_other_connection_carries_it() {
    let mut a = Assignment::default();
    a.add_conn(ConnId(1));
    a.add_conn(ConnId(2));
    a.want(&["a", "b"]);
    assert_eq!(a.place(1, |_| 0), [placed(1, &["a"]), placed(2, &["b"])]);
    // A rotation's overlap: "a" is on both; taken off 1 it stays on 2.
    assert_eq!(a.copy(ConnId(1), ConnId(2)), ["a"]);
    a.take_off(ConnId(1), &["a".to_owned()]);
    assert_eq!(pending(&a), Vec::<&str>::new());
    assert_eq!(a.owner("a"), Some(ConnId(2)));
    // Taken off its only connection, "b" waits for a place again.
    a.take_off(ConnId(2), &["b".to_owned()]);
    assert_eq!(pending(&a), ["b"]);
    // A channel nobody wants never becomes pending.
    a.take_off(ConnId(2), &["zz".to_owned()]);
    assert_eq!(pending(&a), ["b"]);
    let on_2: BTreeSet<&str> = a.channels(ConnId(2)).collect();
    assert_eq!(on_2, BTreeSet::from(["a"]));
}

#[test]
fn only_accepting_connections_without_channels_are_empty() {
    let mut a = Assignment::default();
    for id in 1..=3 {
        a.add_conn(ConnId(id));
    }
    a.want(&["a"]);
    a.place(4, |_| 0);
    a.set_accepting(ConnId(3), false);
    assert_eq!(a.empty_conns(), [ConnId(2)]);
}
