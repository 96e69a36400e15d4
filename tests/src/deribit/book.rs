//! One instrument's simulated order book: every step levels change, appear
//! and vanish, and trades hit the top. Subscribers keep a [`BookView`] of what
//! they were sent and get the differences.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::market::Spec;
use super::rpc::{now_ms, round2};

/// Price levels of one side: price in ticks → amount.
type Side = BTreeMap<i64, f64>;

/// A subscriber's copy of a book as last sent.
#[derive(Debug, Clone)]
pub(crate) struct BookView {
    pub change_id: u64,
    pub(super) bids: Side,
    pub(super) asks: Side,
}

/// Most recent trades kept per instrument.
const TRADE_HISTORY: usize = 200;

/// One instrument's book and statistics.
pub(crate) struct Book {
    pub spec: &'static Spec,
    /// The simulated market's own liquidity.
    pub(super) bids: Side,
    pub(super) asks: Side,
    /// Users' resting limit orders, summed per level (kept in step with the
    /// order list by [`Book::set_own`]); the book shown is both.
    own_bids: Side,
    own_asks: Side,
    pub change_id: u64,
    pub timestamp: u64,
    pub(super) last_price: f64,
    pub(super) open_price: f64,
    pub(super) high: f64,
    pub(super) low: f64,
    pub(super) volume_usd: f64,
    /// The price index of the instrument's currency (kept by the market).
    pub(crate) index_price: f64,
    trades: VecDeque<Value>,
    pub trade_seq: u64,
}

impl Book {
    pub(super) fn new(spec: &'static Spec, rng: &mut StdRng, change_id: u64) -> Book {
        let mid = (spec.start_price / spec.tick).round() as i64;
        let mut book = Book {
            spec,
            bids: Side::new(),
            asks: Side::new(),
            own_bids: Side::new(),
            own_asks: Side::new(),
            change_id,
            timestamp: now_ms(),
            last_price: spec.start_price,
            open_price: spec.start_price,
            high: spec.start_price,
            low: spec.start_price,
            volume_usd: 0.0,
            index_price: round2(spec.start_price * 0.9999),
            trades: VecDeque::new(),
            trade_seq: 0,
        };
        for k in 1..=20 {
            book.bids.insert(mid - k, book.lot(rng));
            book.asks.insert(mid + k, book.lot(rng));
        }
        book
    }

    pub(super) fn price(&self, ticks: i64) -> f64 {
        round2(ticks as f64 * self.spec.tick)
    }

    fn lot(&self, rng: &mut StdRng) -> f64 {
        self.spec.contract_size * rng.random_range(1..=400) as f64
    }

    /// Best bid `(price, amount)`.
    pub(crate) fn best_bid(&self) -> Option<(f64, f64)> {
        let bids = self.shown(true);
        let best = bids.iter().next_back();
        best.map(|(&t, &a)| (self.price(t), a))
    }

    /// Best ask `(price, amount)`.
    pub(crate) fn best_ask(&self) -> Option<(f64, f64)> {
        let asks = self.shown(false);
        let best = asks.iter().next();
        best.map(|(&t, &a)| (self.price(t), a))
    }

    /// The side shown to subscribers: the market's levels plus the users'
    /// resting orders.
    pub(super) fn shown(&self, bid: bool) -> Side {
        let (market, own) = if bid {
            (&self.bids, &self.own_bids)
        } else {
            (&self.asks, &self.own_asks)
        };
        let mut side = market.clone();
        for (tick, amount) in own {
            *side.entry(*tick).or_default() += amount;
        }
        side
    }

    /// Replaces the users' resting orders `(price, amount)` per side;
    /// whether the book shown changed.
    pub(crate) fn set_own(&mut self, bids: &[(f64, f64)], asks: &[(f64, f64)]) -> bool {
        let sum = |levels: &[(f64, f64)]| {
            let mut side = Side::new();
            for &(price, amount) in levels {
                *side.entry(self.ticks(price)).or_default() += amount;
            }
            side
        };
        let (bids, asks) = (sum(bids), sum(asks));
        let changed = bids != self.own_bids || asks != self.own_asks;
        self.own_bids = bids;
        self.own_asks = asks;
        changed
    }

    /// Mid price (last price if a side is empty).
    pub(crate) fn mark_price(&self) -> f64 {
        match (self.best_bid(), self.best_ask()) {
            (Some((b, _)), Some((a, _))) => round2((a + b) / 2.0),
            _ => self.last_price,
        }
    }

    pub(super) fn step(&mut self, rng: &mut StdRng, change_id: u64, trade_id: &mut u64) {
        for _ in 0..rng.random_range(1..=3) {
            let bid = rng.random_bool(0.5);
            match rng.random_range(0..10) {
                0..=4 => {
                    let lot = self.lot(rng);
                    let side = if bid { &mut self.bids } else { &mut self.asks };
                    let n = rng.random_range(0..side.len().max(1));
                    if let Some(amount) = side.values_mut().nth(n) {
                        *amount = lot;
                    }
                }
                5..=6 => {
                    let side = if bid { &mut self.bids } else { &mut self.asks };
                    let key = side
                        .keys()
                        .nth(rng.random_range(0..side.len().max(1)))
                        .copied();
                    if let (Some(key), true) = (key, side.len() > 1) {
                        side.remove(&key);
                    }
                    self.add_level(rng, bid);
                }
                7 => self.add_level(rng, bid),
                _ => self.trade(rng, bid, trade_id),
            }
        }
        for bid in [true, false] {
            while self.side(bid).len() < 10 {
                self.add_level(rng, bid);
            }
        }
        while self.bids.len() > 30 {
            self.bids.pop_first();
        }
        while self.asks.len() > 30 {
            self.asks.pop_last();
        }
        self.change_id = change_id;
        self.timestamp = now_ms();
    }

    fn side(&self, bid: bool) -> &Side {
        if bid { &self.bids } else { &self.asks }
    }

    /// Adds a level at a free price within 40 ticks of the opposite side.
    fn add_level(&mut self, rng: &mut StdRng, bid: bool) {
        let mid = (self.last_price / self.spec.tick).round() as i64;
        let lot = self.lot(rng);
        for _ in 0..5 {
            let offset = rng.random_range(0..40);
            let tick = if bid {
                self.asks.keys().next().copied().unwrap_or(mid + 1) - 1 - offset
            } else {
                self.bids.keys().next_back().copied().unwrap_or(mid - 1) + 1 + offset
            };
            let side = if bid { &mut self.bids } else { &mut self.asks };
            if let std::collections::btree_map::Entry::Vacant(e) = side.entry(tick) {
                e.insert(lot);
                return;
            }
        }
    }

    /// A taker trade against the top of the book: a sell hits the best bid,
    /// a buy lifts the best ask.
    fn trade(&mut self, rng: &mut StdRng, sell: bool, trade_id: &mut u64) {
        let lot = self.lot(rng);
        let mark = self.mark_price();
        let side = if sell { &mut self.bids } else { &mut self.asks };
        let top = if sell {
            side.iter().next_back()
        } else {
            side.iter().next()
        };
        let Some((&tick, &available)) = top else {
            return;
        };
        let amount = lot.min(available);
        if available - amount < 1e-9 {
            side.remove(&tick);
        } else {
            side.insert(tick, available - amount);
        }
        let price = self.price(tick);
        *trade_id += 1;
        self.record_trade(price, amount, !sell, *trade_id, mark);
    }

    /// Records a trade at `price` (the public tape, last price and 24 h
    /// statistics): `(trade_seq, tick_direction)`.
    pub(crate) fn record_trade(
        &mut self,
        price: f64,
        amount: f64,
        taker_buys: bool,
        trade_id: u64,
        mark: f64,
    ) -> (u64, u8) {
        let tick_direction = match price.partial_cmp(&self.last_price) {
            Some(std::cmp::Ordering::Greater) => 0,
            Some(std::cmp::Ordering::Less) => 2,
            _ => 1,
        };
        self.last_price = price;
        self.high = self.high.max(price);
        self.low = self.low.min(price);
        self.volume_usd += amount;
        self.trade_seq += 1;
        self.trades.push_back(json!({
            "trade_seq": self.trade_seq,
            "trade_id": trade_id.to_string(),
            "timestamp": now_ms(),
            "tick_direction": tick_direction,
            "price": price,
            "mark_price": mark,
            "index_price": self.index_price,
            "instrument_name": self.spec.name,
            "direction": if taker_buys { "buy" } else { "sell" },
            "amount": amount,
            "contracts": amount / self.spec.contract_size,
        }));
        if self.trades.len() > TRADE_HISTORY {
            self.trades.pop_front();
        }
        (self.trade_seq, tick_direction)
    }

    fn ticks(&self, price: f64) -> i64 {
        (price / self.spec.tick).round() as i64
    }

    /// The market's levels (users' orders aside) a taker `buy` (the asks) or
    /// sell (the bids) can trade with, best first, within `limit` if any:
    /// `(price, amount)`.
    pub(crate) fn levels_for_taker(&self, buy: bool, limit: Option<f64>) -> Vec<(f64, f64)> {
        let within = |t: &i64| match limit {
            None => true,
            Some(l) if buy => self.price(*t) <= l + 1e-9,
            Some(l) => self.price(*t) >= l - 1e-9,
        };
        let level = |(t, a): (&i64, &f64)| (self.price(*t), *a);
        if buy {
            let asks = self.asks.iter().take_while(|(t, _)| within(t));
            asks.map(level).collect()
        } else {
            let bids = self.bids.iter().rev().take_while(|(t, _)| within(t));
            bids.map(level).collect()
        }
    }

    /// Takes `amount` at `price` off the side a taker `buy` (asks) or sell
    /// (bids) trades with; an emptied level is deleted.
    pub(crate) fn consume(&mut self, buy: bool, price: f64, amount: f64) {
        let tick = self.ticks(price);
        let side = if buy { &mut self.asks } else { &mut self.bids };
        if let Some(left) = side.get_mut(&tick) {
            *left -= amount;
            if *left < 1e-9 {
                side.remove(&tick);
            }
        }
    }

    /// Replaces every level (prices rounded to the tick).
    pub(crate) fn set_levels(&mut self, bids: &[(f64, f64)], asks: &[(f64, f64)]) {
        self.bids = bids.iter().map(|&(p, a)| (self.ticks(p), a)).collect();
        self.asks = asks.iter().map(|&(p, a)| (self.ticks(p), a)).collect();
        self.timestamp = now_ms();
    }

    /// Trades with a `trade_seq` above `seq`, oldest first.
    pub(crate) fn trades_after(&self, seq: u64) -> Vec<Value> {
        let newer = self
            .trades
            .iter()
            .filter(|t| t["trade_seq"].as_u64() > Some(seq));
        newer.cloned().collect()
    }

    /// A subscriber's copy of the current state.
    pub(crate) fn view(&self) -> BookView {
        BookView {
            change_id: self.change_id,
            bids: self.shown(true),
            asks: self.shown(false),
        }
    }

    /// `[action, price, amount]` entries turning `old` into this book, best
    /// first; an empty `old` gives the snapshot (all `new`).
    pub(crate) fn diff(&self, old: Option<&BookView>) -> (Vec<Value>, Vec<Value>) {
        let empty = Side::new();
        let (old_bids, old_asks) = old.map_or((&empty, &empty), |v| (&v.bids, &v.asks));
        let bids = self.side_diff(old_bids, &self.shown(true), true);
        let asks = self.side_diff(old_asks, &self.shown(false), false);
        (bids, asks)
    }

    fn side_diff(&self, old: &Side, new: &Side, descending: bool) -> Vec<Value> {
        let keys: BTreeSet<i64> = old.keys().chain(new.keys()).copied().collect();
        let mut out = Vec::new();
        let mut visit = |t: &i64| match (old.get(t), new.get(t)) {
            (None, Some(a)) => out.push(json!(["new", self.price(*t), a])),
            (Some(o), Some(a)) if o != a => out.push(json!(["change", self.price(*t), a])),
            (Some(_), None) => out.push(json!(["delete", self.price(*t), 0.0])),
            _ => {}
        };
        if descending {
            keys.iter().rev().for_each(&mut visit);
        } else {
            keys.iter().for_each(&mut visit);
        }
        out
    }
}
