//! Order book channels: their sequence numbers (for gap detection) and the
//! shapes of their data.

use serde::Deserialize;
use serde_json::value::RawValue;
use wsnova_core::session::Sequence;

/// Whether `channel` is an order book channel (`book.…`).
///
/// ```
/// use wsnova_adapters::deribit::is_book_channel;
/// assert!(is_book_channel("book.BTC-PERPETUAL.100ms"));
/// assert!(!is_book_channel("ticker.BTC-PERPETUAL.100ms"));
/// ```
pub fn is_book_channel(channel: &str) -> bool {
    channel.starts_with("book.")
}

/// Only the sequence fields; `bids` and `asks` are skipped, not parsed.
#[derive(Deserialize)]
struct Seq<'a> {
    change_id: u64,
    #[serde(default)]
    prev_change_id: Option<u64>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<&'a str>,
}

/// A book notification's `change_id` and `prev_change_id`. A snapshot (no
/// `prev_change_id`, or `type: "snapshot"`) starts a new sequence; so does
/// every notification of a grouped book (`book.{instrument}.{group}.{depth}.{interval}`),
/// which is a full snapshot without `prev_change_id`. `None` for other
/// channels and for data without a `change_id`.
pub(super) fn sequence(channel: &str, data: &RawValue) -> Option<Sequence> {
    // serde would read the struct from an array too: only objects count.
    if !is_book_channel(channel) || !data.get().starts_with('{') {
        return None;
    }
    let seq: Seq<'_> = serde_json::from_str(data.get()).ok()?;
    let previous = match seq.kind {
        Some("snapshot") => None,
        _ => seq.prev_change_id,
    };
    Some(Sequence {
        id: seq.change_id,
        previous,
    })
}

/// Whether a book notification is a snapshot or a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookUpdateKind {
    /// The whole book: replace the local copy.
    Snapshot,
    /// Changes to apply to the book after `prev_change_id`.
    Change,
}

/// What a change does to a price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookAction {
    /// A new price level.
    New,
    /// The amount at a level changed.
    Change,
    /// The level is gone.
    Delete,
}

/// One `[action, price, amount]` entry of a book notification.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct BookChange(
    /// What happens to the level.
    pub BookAction,
    /// The price.
    pub f64,
    /// The new amount (0 for `delete`).
    pub f64,
);

/// One `[price, amount]` level (`public/get_order_book`, grouped books).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Level(
    /// The price.
    pub f64,
    /// The amount.
    pub f64,
);

/// The data of a `book.{instrument}.{interval}` notification.
///
/// ```
/// use wsnova_adapters::deribit::{BookAction, BookUpdate, BookUpdateKind};
/// let data = r#"{"type":"change","timestamp":1,"instrument_name":"BTC-PERPETUAL",
///     "change_id":8,"prev_change_id":7,"bids":[["new",100.5,20.0]],"asks":[["delete",101.0,0.0]]}"#;
/// let update: BookUpdate = serde_json::from_str(data).unwrap();
/// assert_eq!(update.kind, BookUpdateKind::Change);
/// assert_eq!(update.bids[0].0, BookAction::New);
/// assert_eq!((update.bids[0].1, update.bids[0].2), (100.5, 20.0));
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BookUpdate {
    /// Snapshot or change.
    #[serde(rename = "type")]
    pub kind: BookUpdateKind,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The instrument.
    pub instrument_name: String,
    /// This update's id.
    pub change_id: u64,
    /// The id of the update this one follows (`None` on a snapshot).
    #[serde(default)]
    pub prev_change_id: Option<u64>,
    /// Bid changes.
    pub bids: Vec<BookChange>,
    /// Ask changes.
    pub asks: Vec<BookChange>,
}

/// The data of a grouped book notification
/// (`book.{instrument}.{group}.{depth}.{interval}`): the top levels, whole.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GroupedBook {
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The instrument.
    pub instrument_name: String,
    /// The book's change id.
    pub change_id: u64,
    /// Bid levels, best first.
    pub bids: Vec<Level>,
    /// Ask levels, best first.
    pub asks: Vec<Level>,
}
