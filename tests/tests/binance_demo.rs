//! The README's Binance demo runs: its logic (`tests/examples/binance.rs`)
//! against the embedded mock, with its claims checked: 1,500 streams over
//! two connections within the limits, rotations with no sequenced update
//! lost or repeated, a book kept in sync through an injected gap.
#![cfg(feature = "net")]

use std::time::Duration;

#[allow(dead_code)]
#[path = "../examples/binance.rs"]
mod demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binance_demo_shows_what_it_claims() {
    let report = tokio::time::timeout(Duration::from_secs(60), demo::run_mock(10, false))
        .await
        .expect("the demo finishes")
        .expect("the demo succeeds");
    println!("{report:?}");
    assert_eq!(report.streams, 1500);
    assert_eq!(report.per_connection, [1024, 476]);
    assert!(report.rotations >= 2, "{report:?}");
    assert_eq!((report.lifetime_cuts, report.limit_disconnects), (0, 0));
    assert!(report.peak_messages_per_second <= 5, "{report:?}");
    assert_eq!(report.lagged, 0);
    assert!(report.before_first_rotation > 0 && report.sequenced > report.before_first_rotation);
    assert_eq!((report.lost, report.duplicates), (0, 0), "{report:?}");
    assert!(report.injected >= 1 && report.book_gaps >= 1, "{report:?}");
    assert!(report.snapshots >= 2, "{report:?}");
    assert!(report.book_synced, "{report:?}");
}
