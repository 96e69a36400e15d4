//! The simulated market: the listed instruments and their books, stepped
//! lazily to the current time with a global, increasing `change_id`; and the
//! market data views (`ticker`, `get_order_book`).

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

use super::book::Book;
use super::rpc::round2;

/// A tradeable instrument.
#[derive(Debug)]
pub(crate) struct Spec {
    pub name: &'static str,
    pub currency: &'static str,
    pub tick: f64,
    pub contract_size: f64,
    pub start_price: f64,
    pub instrument_id: u64,
    /// The price index (`deribit_price_index.{index}`) it follows.
    pub index: &'static str,
}

/// The instruments the mock lists.
pub(crate) const INSTRUMENTS: [Spec; 2] = [
    Spec {
        name: "BTC-PERPETUAL",
        currency: "BTC",
        tick: 0.5,
        contract_size: 10.0,
        start_price: 60_000.0,
        instrument_id: 124_972,
        index: "btc_usd",
    },
    Spec {
        name: "ETH-PERPETUAL",
        currency: "ETH",
        tick: 0.05,
        contract_size: 1.0,
        start_price: 3_000.0,
        instrument_id: 124_973,
        index: "eth_usd",
    },
];

/// The instrument called `name`.
pub(crate) fn spec(name: &str) -> Option<&'static Spec> {
    INSTRUMENTS.iter().find(|s| s.name == name)
}

impl Book {
    /// The 24 h statistics and prices (`public/ticker`, `ticker.*`).
    pub(crate) fn ticker(&self) -> Value {
        let (bb, ba) = self.best_bid().unwrap_or((0.0, 0.0));
        let (ab, aa) = self.best_ask().unwrap_or((0.0, 0.0));
        let mark = self.mark_price();
        let index = self.index_price;
        json!({
            "timestamp": self.timestamp,
            "instrument_name": self.spec.name,
            "state": "open",
            "best_bid_price": bb, "best_bid_amount": ba,
            "best_ask_price": ab, "best_ask_amount": aa,
            "last_price": self.last_price,
            "mark_price": mark,
            "index_price": index,
            "estimated_delivery_price": index,
            "settlement_price": self.open_price,
            "min_price": round2(mark * 0.975),
            "max_price": round2(mark * 1.025),
            "open_interest": 500_000_000.0,
            "current_funding": 0.0,
            "funding_8h": 0.000_022,
            "interest_value": 0.0,
            "stats": {
                "high": self.high,
                "low": self.low,
                "price_change": round2((self.last_price / self.open_price - 1.0) * 100.0),
                "volume": self.volume_usd / self.last_price,
                "volume_usd": self.volume_usd,
            },
        })
    }

    /// The top `depth` levels per side as `[price, amount]`.
    pub(crate) fn top(&self, depth: usize) -> (Vec<Value>, Vec<Value>) {
        let level = |(&t, &a): (&i64, &f64)| json!([self.price(t), a]);
        let bids = self
            .shown(true)
            .iter()
            .rev()
            .take(depth)
            .map(level)
            .collect();
        let asks = self.shown(false).iter().take(depth).map(level).collect();
        (bids, asks)
    }

    /// `public/get_order_book`.
    pub(crate) fn order_book(&self, depth: usize) -> Value {
        let mut v = self.ticker();
        let (bids, asks) = self.top(depth);
        v["bids"] = bids.into();
        v["asks"] = asks.into();
        v["change_id"] = self.change_id.into();
        v
    }
}

/// Steps run at most per advance (a long idle period is not replayed).
const MAX_STEPS: u32 = 8;

/// A price index: it follows its book's mark price on every step, unless a
/// test pinned it with [`Market::set_index`].
struct Index {
    name: &'static str,
    price: f64,
    pinned: bool,
}

/// Every instrument's book and every price index.
pub(crate) struct Market {
    rng: StdRng,
    step: Duration,
    last_step: Instant,
    change_id: u64,
    trade_id: u64,
    books: Vec<Book>,
    indices: Vec<Index>,
    /// While frozen, time passes without steps (books and indices hold).
    pub(crate) frozen: bool,
}

impl Market {
    pub(crate) fn new(seed: u64, step: Duration, now: Instant) -> Market {
        let mut rng = StdRng::seed_from_u64(seed);
        let change_id = 10_000_000 + rng.random_range(0..1_000_000u64);
        let books = INSTRUMENTS
            .iter()
            .map(|s| Book::new(s, &mut rng, change_id))
            .collect();
        let indices = INSTRUMENTS
            .iter()
            .map(|s| Index {
                name: s.index,
                price: round2(s.start_price * 0.9999),
                pinned: false,
            })
            .collect();
        let mut market = Market {
            rng,
            step: step.max(Duration::from_millis(1)),
            last_step: now,
            change_id,
            trade_id: 100_000_000,
            books,
            indices,
            frozen: false,
        };
        market.follow_books();
        market
    }

    /// Runs the steps due by `now`; whether the market moved.
    pub(crate) fn advance(&mut self, now: Instant) -> bool {
        let due = now.saturating_duration_since(self.last_step).as_nanos() / self.step.as_nanos();
        let due = u32::try_from(due).unwrap_or(u32::MAX);
        if due == 0 {
            return false;
        }
        if self.frozen {
            self.last_step = now;
            return false;
        }
        for _ in 0..due.min(MAX_STEPS) {
            for book in &mut self.books {
                self.change_id += self.rng.random_range(1..=3);
                book.step(&mut self.rng, self.change_id, &mut self.trade_id);
            }
        }
        self.follow_books();
        self.last_step = if due > MAX_STEPS {
            now
        } else {
            self.last_step + self.step * due
        };
        true
    }

    /// Unpinned indices follow their book's mark price; books learn their
    /// index.
    fn follow_books(&mut self) {
        for index in &mut self.indices {
            let book = self.books.iter().find(|b| b.spec.index == index.name);
            if let (Some(book), false) = (book, index.pinned) {
                index.price = round2(book.mark_price() * 0.9999);
            }
        }
        for book in &mut self.books {
            let index = self.indices.iter().find(|i| i.name == book.spec.index);
            if let Some(index) = index {
                book.index_price = index.price;
            }
        }
    }

    /// Pins the index `name` at `price` (it no longer follows its book);
    /// whether the index exists.
    pub(crate) fn set_index(&mut self, name: &str, price: f64) -> bool {
        let Some(index) = self.indices.iter_mut().find(|i| i.name == name) else {
            return false;
        };
        index.price = price;
        index.pinned = true;
        self.follow_books();
        true
    }

    /// Lets the index `name` follow its book again; whether it exists.
    pub(crate) fn release_index(&mut self, name: &str) -> bool {
        let Some(index) = self.indices.iter_mut().find(|i| i.name == name) else {
            return false;
        };
        index.pinned = false;
        self.follow_books();
        true
    }

    /// The index `name`'s price.
    pub(crate) fn index(&self, name: &str) -> Option<f64> {
        self.indices
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.price)
    }

    /// The book of `instrument`.
    pub(crate) fn book(&self, instrument: &str) -> Option<&Book> {
        self.books.iter().find(|b| b.spec.name == instrument)
    }

    /// The book of `instrument`, to change it; its `change_id` moves on
    /// (book subscribers see the change).
    pub(crate) fn book_mut(&mut self, instrument: &str) -> Option<&mut Book> {
        self.change_id += 1;
        let change_id = self.change_id;
        let book = self.books.iter_mut().find(|b| b.spec.name == instrument)?;
        book.change_id = change_id;
        Some(book)
    }

    /// Sets the users' resting orders shown in the book of `instrument`;
    /// its `change_id` moves on when that changed the book.
    pub(crate) fn set_own(&mut self, instrument: &str, bids: &[(f64, f64)], asks: &[(f64, f64)]) {
        let Some(book) = self.books.iter_mut().find(|b| b.spec.name == instrument) else {
            return;
        };
        if book.set_own(bids, asks) {
            self.change_id += 1;
            book.change_id = self.change_id;
        }
    }

    /// A new trade id (shared by public and user trades).
    pub(crate) fn next_trade_id(&mut self) -> u64 {
        self.trade_id += 1;
        self.trade_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_moves_and_diffs_replay() {
        let t0 = Instant::now();
        let mut m = Market::new(1, Duration::from_millis(20), t0);
        let before = m.book("BTC-PERPETUAL").unwrap().view();
        m.advance(t0 + Duration::from_millis(100));
        let book = m.book("BTC-PERPETUAL").unwrap();
        assert!(book.change_id > before.change_id);
        let (bids, asks) = book.diff(Some(&before));
        assert!(!(bids.is_empty() && asks.is_empty()));
        let (bb, ab) = (book.best_bid().unwrap().0, book.best_ask().unwrap().0);
        assert!(bb < ab, "book not crossed: {bb} < {ab}");
    }
}
