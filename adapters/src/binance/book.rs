//! A local order book from a `depth` snapshot plus diff-depth events, with
//! Binance's sequencing rules ("How to manage a local order book
//! correctly", spot `web-socket-streams.md` and USD-M "Websocket Market
//! Streams"). Sans-IO: the book says when it needs a snapshot
//! ([`BookEvent::NeedSnapshot`]) and is given one ([`OrderBook::on_snapshot`]).
//!
//! - Events are buffered until a snapshot arrives. A snapshot older than
//!   the first buffered event cannot be bridged: another is asked for.
//! - Spot: events with `u` ≤ the book's update id are dropped; an event
//!   with `U` > update id + 1 means updates were missed (the first one after
//!   the snapshot therefore straddles `lastUpdateId`, and each later one
//!   starts at the previous `u` + 1).
//! - USD-M futures: events with `u` < `lastUpdateId` are dropped; the first
//!   applied one has `U` ≤ `lastUpdateId` ≤ `u`; each later one has `pu` =
//!   the previous event's `u`.
//! - A break discards the book, emits [`BookEvent::Gap`] and asks for a
//!   fresh snapshot; the event that revealed it stays buffered.
//! - Quantities are absolute; 0 removes the level (removing an absent
//!   level is normal).
//!
//! ```
//! use wsnova_adapters::binance::{BookEvent, DepthUpdate, Market, OrderBook, Snapshot};
//!
//! let mut book = OrderBook::new(Market::Spot);
//! let first = DepthUpdate::from_json(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":101,"u":102,"b":[["10.0","2"]],"a":[]}"#)?;
//! assert_eq!(book.on_update(first), [BookEvent::NeedSnapshot]);
//! let snapshot = Snapshot::from_json(r#"{"lastUpdateId":101,"bids":[["10.0","1"],["9.5","3"]],"asks":[["11","1"]]}"#)?;
//! assert_eq!(book.on_snapshot(snapshot), [BookEvent::Synced { last_update_id: 102 }]);
//! assert_eq!(book.best_bid().map(|(p, q)| (p.to_string(), q.to_string())), Some(("10".into(), "2".into())));
//! let gap = DepthUpdate::from_json(r#"{"e":"depthUpdate","E":2,"s":"BTCUSDT","U":110,"u":111,"b":[],"a":[]}"#)?;
//! assert_eq!(book.on_update(gap), [BookEvent::Gap { expected: 103, got: 110 }, BookEvent::NeedSnapshot]);
//! assert!(book.needs_snapshot());
//! # Ok::<(), wsnova_adapters::binance::BookError>(())
//! ```

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;

use super::Market;
use super::price::Decimal;
use super::types::{DepthDiff, Level};

/// Events buffered at most while waiting for a snapshot (the oldest go first).
const MAX_BUFFER: usize = 10_000;

/// A message that could not be read as a snapshot or a depth event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookError(pub String);

impl std::fmt::Display for BookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad depth message: {}", self.0)
    }
}

impl std::error::Error for BookError {}

fn levels(raw: &[Level<'_>]) -> Result<Vec<(Decimal, Decimal)>, BookError> {
    raw.iter()
        .map(|[p, q]| match (p.parse(), q.parse()) {
            (Ok(p), Ok(q)) => Ok((p, q)),
            _ => Err(BookError(format!("level [{p}, {q}]"))),
        })
        .collect()
}

/// An order book snapshot: the `depth` result of the WebSocket API (or REST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The update id the snapshot is at.
    pub last_update_id: u64,
    /// Bids `(price, quantity)`.
    pub bids: Vec<(Decimal, Decimal)>,
    /// Asks `(price, quantity)`.
    pub asks: Vec<(Decimal, Decimal)>,
}

impl Snapshot {
    /// Reads `{"lastUpdateId":…,"bids":[[p,q],…],"asks":[…]}` (extra fields ignored).
    pub fn from_json(result: &str) -> Result<Snapshot, BookError> {
        #[derive(Deserialize)]
        struct Raw<'a> {
            #[serde(rename = "lastUpdateId")]
            last_update_id: u64,
            #[serde(borrow)]
            bids: Vec<Level<'a>>,
            #[serde(borrow)]
            asks: Vec<Level<'a>>,
        }
        let raw: Raw<'_> = serde_json::from_str(result).map_err(|e| BookError(e.to_string()))?;
        Ok(Snapshot {
            last_update_id: raw.last_update_id,
            bids: levels(&raw.bids)?,
            asks: levels(&raw.asks)?,
        })
    }
}

/// A diff-depth event, owned and parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthUpdate {
    /// `U`: the first update id in the event.
    pub first_update_id: u64,
    /// `u`: the final update id in the event.
    pub final_update_id: u64,
    /// `pu`: the previous event's final update id (futures).
    pub prev_final_update_id: Option<u64>,
    /// Bids to set.
    pub bids: Vec<(Decimal, Decimal)>,
    /// Asks to set.
    pub asks: Vec<(Decimal, Decimal)>,
}

impl DepthUpdate {
    /// From a typed event.
    pub fn from_diff(diff: &DepthDiff<'_>) -> Result<DepthUpdate, BookError> {
        Ok(DepthUpdate {
            first_update_id: diff.first_update_id,
            final_update_id: diff.final_update_id,
            prev_final_update_id: diff.prev_final_update_id,
            bids: levels(&diff.bids)?,
            asks: levels(&diff.asks)?,
        })
    }

    /// From the event's JSON (the `data` of a notification).
    pub fn from_json(event: &str) -> Result<DepthUpdate, BookError> {
        let diff: DepthDiff<'_> =
            serde_json::from_str(event).map_err(|e| BookError(e.to_string()))?;
        Self::from_diff(&diff)
    }
}

/// What the book tells its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookEvent {
    /// Send a `depth` request and pass the result to [`OrderBook::on_snapshot`].
    NeedSnapshot,
    /// The snapshot was older than the events buffered since: it cannot be
    /// bridged (a [`NeedSnapshot`](Self::NeedSnapshot) follows).
    StaleSnapshot {
        /// The snapshot's `lastUpdateId`.
        last_update_id: u64,
        /// `U` of the oldest buffered event.
        first_buffered: u64,
    },
    /// The book is in sync at this update id.
    Synced {
        /// The update id after the buffered events were applied.
        last_update_id: u64,
    },
    /// Updates were missed: the book was discarded and resynchronises from
    /// a fresh snapshot (a [`NeedSnapshot`](Self::NeedSnapshot) follows).
    Gap {
        /// The update id the next event had to continue from (spot: the
        /// book's id + 1, futures: the `pu` expected).
        expected: u64,
        /// What the event had (spot `U`, futures `pu`).
        got: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a snapshot; whether one was asked for.
    Buffering { asked: bool },
    /// In sync; for futures, whether the first event is still to come.
    Synced { first: bool },
}

/// A local order book for one symbol. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct OrderBook {
    market: Market,
    phase: Phase,
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
    update_id: u64,
    buffer: VecDeque<DepthUpdate>,
    resyncs: u64,
}

impl OrderBook {
    /// An empty book that needs a snapshot.
    pub fn new(market: Market) -> Self {
        OrderBook {
            market,
            phase: Phase::Buffering { asked: false },
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            update_id: 0,
            buffer: VecDeque::new(),
            resyncs: 0,
        }
    }

    /// Whether the book waits for a snapshot.
    pub fn needs_snapshot(&self) -> bool {
        matches!(self.phase, Phase::Buffering { .. })
    }

    /// The update id the book is at, when in sync.
    pub fn last_update_id(&self) -> Option<u64> {
        (!self.needs_snapshot()).then_some(self.update_id)
    }

    /// How many gaps made the book resynchronise.
    pub fn resyncs(&self) -> u64 {
        self.resyncs
    }

    /// Bids, best (highest) first.
    pub fn bids(&self) -> impl Iterator<Item = (Decimal, Decimal)> + '_ {
        self.bids.iter().rev().map(|(p, q)| (*p, *q))
    }

    /// Asks, best (lowest) first.
    pub fn asks(&self) -> impl Iterator<Item = (Decimal, Decimal)> + '_ {
        self.asks.iter().map(|(p, q)| (*p, *q))
    }

    /// The best bid.
    pub fn best_bid(&self) -> Option<(Decimal, Decimal)> {
        self.bids().next()
    }

    /// The best ask.
    pub fn best_ask(&self) -> Option<(Decimal, Decimal)> {
        self.asks().next()
    }

    /// Takes a diff-depth event.
    pub fn on_update(&mut self, update: DepthUpdate) -> Vec<BookEvent> {
        match self.phase {
            Phase::Buffering { asked } => {
                self.buffer.push_back(update);
                if self.buffer.len() > MAX_BUFFER {
                    self.buffer.pop_front();
                }
                if asked {
                    Vec::new()
                } else {
                    self.phase = Phase::Buffering { asked: true };
                    vec![BookEvent::NeedSnapshot]
                }
            }
            Phase::Synced { .. } => {
                let mut events = Vec::new();
                self.apply(update, &mut events);
                events
            }
        }
    }

    /// Takes a snapshot (asked for by [`BookEvent::NeedSnapshot`]) and
    /// applies the buffered events on top of it.
    pub fn on_snapshot(&mut self, snapshot: Snapshot) -> Vec<BookEvent> {
        let id = snapshot.last_update_id;
        if let Some(oldest) = self.buffer.front() {
            // Spot may continue at `lastUpdateId + 1`; futures needs
            // `U <= lastUpdateId`.
            let bridged = match self.market {
                Market::Spot => oldest.first_update_id <= id.saturating_add(1),
                Market::UsdM => oldest.first_update_id <= id,
            };
            if !bridged {
                self.phase = Phase::Buffering { asked: true };
                return vec![
                    BookEvent::StaleSnapshot {
                        last_update_id: id,
                        first_buffered: oldest.first_update_id,
                    },
                    BookEvent::NeedSnapshot,
                ];
            }
        }
        self.bids = snapshot
            .bids
            .into_iter()
            .filter(|(_, q)| !q.is_zero())
            .collect();
        self.asks = snapshot
            .asks
            .into_iter()
            .filter(|(_, q)| !q.is_zero())
            .collect();
        self.update_id = id;
        self.phase = Phase::Synced { first: true };
        let mut events = Vec::new();
        while let Some(update) = self.buffer.pop_front() {
            self.apply(update, &mut events);
            if self.needs_snapshot() {
                // A break inside the buffer: what follows it stays buffered.
                return events;
            }
        }
        let mut out = vec![BookEvent::Synced {
            last_update_id: self.update_id,
        }];
        out.extend(events);
        out
    }

    /// The update procedure for one event while in sync.
    fn apply(&mut self, update: DepthUpdate, events: &mut Vec<BookEvent>) {
        let Phase::Synced { first } = self.phase else {
            return;
        };
        let (u_first, u_final) = (update.first_update_id, update.final_update_id);
        let broken = match self.market {
            Market::Spot => {
                if u_final <= self.update_id {
                    return; // Already in the book.
                }
                (u_first > self.update_id + 1).then_some((self.update_id + 1, u_first))
            }
            Market::UsdM if first => {
                if u_final < self.update_id {
                    return; // Older than the snapshot.
                }
                (u_first > self.update_id).then_some((self.update_id, u_first))
            }
            Market::UsdM => {
                let pu = update
                    .prev_final_update_id
                    .unwrap_or(u_first.saturating_sub(1));
                (pu != self.update_id).then_some((self.update_id, pu))
            }
        };
        if let Some((expected, got)) = broken {
            self.resyncs += 1;
            self.bids.clear();
            self.asks.clear();
            self.buffer.push_back(update);
            self.phase = Phase::Buffering { asked: true };
            events.push(BookEvent::Gap { expected, got });
            events.push(BookEvent::NeedSnapshot);
            return;
        }
        for (price, qty) in update.bids {
            set(&mut self.bids, price, qty);
        }
        for (price, qty) in update.asks {
            set(&mut self.asks, price, qty);
        }
        self.update_id = u_final;
        self.phase = Phase::Synced { first: false };
    }
}

fn set(side: &mut BTreeMap<Decimal, Decimal>, price: Decimal, qty: Decimal) {
    if qty.is_zero() {
        side.remove(&price);
    } else {
        side.insert(price, qty);
    }
}

#[cfg(test)]
mod tests;
