//! The simulated market: per symbol, a sequenced order book moved by a
//! seeded generator. Each tick yields one diff-depth event (update ids
//! `U..=u`, consecutive across events), a trade, an aggregate trade, a
//! book ticker, a 1-minute kline and (futures) a mark price, as Binance
//! formats them; the book after every event is what a `depth` request returns.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

use super::config::MockMarket;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A price in cents as Binance writes it (`"100.25"`).
fn price(cents: u32) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A quantity in thousandths (`"1.500"`).
fn qty(milli: u32) -> String {
    format!("{}.{:03}", milli / 1000, milli % 1000)
}

/// A book as the test sees it: levels as Binance's decimal strings, best first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BookView {
    /// The update id the book is at.
    pub last_update_id: u64,
    /// Bids, highest first.
    pub bids: Vec<(String, String)>,
    /// Asks, lowest first.
    pub asks: Vec<(String, String)>,
}

/// One symbol's market.
pub(crate) struct Symbol {
    pub name: String,
    bids: BTreeMap<u32, u32>,
    asks: BTreeMap<u32, u32>,
    pub last_update_id: u64,
    trade_id: u64,
}

impl Symbol {
    fn new(name: &str, rng: &mut StdRng) -> Symbol {
        let mut s = Symbol {
            name: name.into(),
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            last_update_id: rng.random_range(1_000..1_000_000),
            trade_id: 1,
        };
        for i in 0..10 {
            s.bids.insert(10_000 - i * 5, rng.random_range(1..5_000));
            s.asks.insert(10_005 + i * 5, rng.random_range(1..5_000));
        }
        s
    }

    /// The `depth` result for `limit` levels a side.
    pub fn view(&self, limit: usize) -> BookView {
        BookView {
            last_update_id: self.last_update_id,
            bids: self
                .bids
                .iter()
                .rev()
                .take(limit)
                .map(|(p, q)| (price(*p), qty(*q)))
                .collect(),
            asks: self
                .asks
                .iter()
                .take(limit)
                .map(|(p, q)| (price(*p), qty(*q)))
                .collect(),
        }
    }
}

/// What one tick produced for one symbol: events ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Tick {
    /// Lower-case symbol (the stream prefix).
    pub stream_symbol: String,
    /// The events by stream kind (`depth`, `trade`, `aggTrade`, `bookTicker`,
    /// `kline_1m`, futures `markPrice`).
    pub events: Vec<(&'static str, Value)>,
}

/// All symbols and the generator.
pub(crate) struct Market {
    kind: MockMarket,
    rng: StdRng,
    pub symbols: Vec<Symbol>,
}

impl Market {
    pub(crate) fn new(kind: MockMarket, names: &[String], seed: u64) -> Market {
        let mut rng = StdRng::seed_from_u64(seed);
        let symbols = names.iter().map(|n| Symbol::new(n, &mut rng)).collect();
        Market { kind, rng, symbols }
    }

    pub(crate) fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.symbols
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// Moves every symbol once.
    pub(crate) fn tick(&mut self) -> Vec<Tick> {
        let (kind, rng) = (self.kind, &mut self.rng);
        self.symbols
            .iter_mut()
            .map(|s| step(kind, rng, s))
            .collect()
    }
}

fn step(kind: MockMarket, rng: &mut StdRng, s: &mut Symbol) -> Tick {
    let now = now_ms();
    let prev = s.last_update_id;
    let first = prev + 1;
    let last = prev + rng.random_range(1..=3u64);
    let (mut bids, mut asks) = (Vec::new(), Vec::new());
    for _ in 0..rng.random_range(1..=3) {
        let bid_side = rng.random_bool(0.5);
        let offset = rng.random_range(0..15u32) * 5;
        let q = if rng.random_range(0..4) == 0 {
            0
        } else {
            rng.random_range(1..5_000)
        };
        let (book, p, out) = if bid_side {
            (&mut s.bids, 10_000 - offset, &mut bids)
        } else {
            (&mut s.asks, 10_005 + offset, &mut asks)
        };
        if q == 0 {
            book.remove(&p);
        } else {
            book.insert(p, q);
        }
        out.push(json!([price(p), qty(q)]));
    }
    s.last_update_id = last;
    let mut depth = json!({"e": "depthUpdate", "E": now, "s": s.name, "U": first, "u": last, "b": bids, "a": asks});
    if kind == MockMarket::UsdM {
        depth["T"] = json!(now);
        depth["pu"] = json!(prev);
    }
    let (best_bid, best_ask) = (s.bids.iter().next_back(), s.asks.iter().next());
    let trade_price = best_bid.map_or(10_000, |(p, _)| *p);
    let (tid, m) = (s.trade_id, rng.random_bool(0.5));
    s.trade_id += 1;
    let trade = json!({"e": "trade", "E": now, "s": s.name, "t": tid, "p": price(trade_price), "q": "0.010", "T": now, "m": m, "M": true});
    let agg = json!({"e": "aggTrade", "E": now, "s": s.name, "a": tid, "p": price(trade_price), "q": "0.010", "f": tid, "l": tid, "T": now, "m": m, "M": true});
    let mut ticker = json!({"u": last, "s": s.name,
        "b": best_bid.map_or("0".into(), |(p, _)| price(*p)), "B": best_bid.map_or("0".into(), |(_, q)| qty(*q)),
        "a": best_ask.map_or("0".into(), |(p, _)| price(*p)), "A": best_ask.map_or("0".into(), |(_, q)| qty(*q))});
    if kind == MockMarket::UsdM {
        ticker["e"] = json!("bookTicker");
        ticker["E"] = json!(now);
        ticker["T"] = json!(now);
    }
    let minute = now - now % 60_000;
    let p = price(trade_price);
    let kline = json!({"e": "kline", "E": now, "s": s.name, "k": {"t": minute, "T": minute + 59_999, "s": s.name,
        "i": "1m", "f": tid, "L": tid, "o": p, "c": p, "h": p, "l": p, "v": "0.010", "n": 1, "x": false,
        "q": "1.000", "V": "0.005", "Q": "0.500", "B": "0"}});
    let mut events = vec![
        ("depth", depth),
        ("trade", trade),
        ("aggTrade", agg),
        ("bookTicker", ticker),
        ("kline_1m", kline),
    ];
    if kind == MockMarket::UsdM {
        let next_funding = now - now % 28_800_000 + 28_800_000;
        events.push((
            "markPrice",
            json!({"e": "markPriceUpdate", "E": now, "s": s.name, "p": p, "i": p,
            "P": p, "r": "0.00010000", "T": next_funding}),
        ));
    }
    Tick {
        stream_symbol: s.name.to_ascii_lowercase(),
        events,
    }
}
