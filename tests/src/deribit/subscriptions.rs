//! Channels, a connection's subscriptions and the notifications they are due.
//!
//! `raw` channels tick every [`MockConfig::raw_interval`](super::MockConfig::raw_interval),
//! `100ms` every 100 ms, `agg2` every second. Book channels start with a
//! `snapshot`, then send `change`s diffed against what this subscriber was
//! last sent, so `prev_change_id` always names the previous notification's
//! `change_id` (unless a gap is injected).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::book::BookView;
use super::channels::{Channel, Interval, Kind, parse};
use super::feeds;
use super::market::Market;
use super::rpc::{RpcError, notification};
use super::state::AccountChange;

/// One subscription's state.
struct Sub {
    channel: Channel,
    next_due: Option<Instant>,
    view: Option<BookView>,
    trade_seq: u64,
    pending: Vec<Value>,
    /// `quote` and `deribit_price_index`: the data last sent (no timestamp).
    last: Option<Value>,
}

/// A connection's subscriptions, by channel name.
pub(crate) struct Subs {
    map: BTreeMap<String, Sub>,
    raw_period: Duration,
}

impl Subs {
    pub(crate) fn new(raw_period: Duration) -> Self {
        Subs {
            map: BTreeMap::new(),
            raw_period,
        }
    }

    fn period(&self, iv: Interval) -> Duration {
        match iv {
            Interval::Raw | Interval::Event => self.raw_period,
            Interval::Every(d) => d,
        }
    }

    /// `public/subscribe` (`private` false) or `private/subscribe`: the
    /// channels now subscribed out of `names`. Unknown channels, and private
    /// ones through `public/subscribe`, are left out; a `raw` channel without
    /// authentication fails the whole request with 13778.
    pub(crate) fn subscribe(
        &mut self,
        names: &[String],
        private: bool,
        authenticated: bool,
        market: &Market,
        now: Instant,
    ) -> Result<Vec<String>, RpcError> {
        let parsed: Vec<(&String, Channel)> =
            names.iter().filter_map(|n| Some((n, parse(n)?))).collect();
        if !authenticated && parsed.iter().any(|(_, c)| c.interval == Interval::Raw) {
            return Err(RpcError::new(13778));
        }
        let mut done = Vec::new();
        for (name, channel) in parsed {
            if channel.kind.is_private() && !private {
                continue;
            }
            if !self.map.contains_key(name) {
                let book = market.book(channel.instrument);
                let next_due = match channel.kind {
                    ref k if k.on_events() => None,
                    Kind::Trades => Some(now + self.period(channel.interval)),
                    _ => Some(now),
                };
                let sub = Sub {
                    trade_seq: book.map_or(0, |b| b.trade_seq),
                    channel,
                    next_due,
                    view: None,
                    pending: Vec::new(),
                    last: None,
                };
                self.map.insert(name.clone(), sub);
            }
            done.push(name.clone());
        }
        Ok(done)
    }

    /// Removes `names`; the ones that were subscribed.
    pub(crate) fn unsubscribe(&mut self, names: &[String]) -> Vec<String> {
        let removed = names.iter().filter(|n| self.map.remove(*n).is_some());
        removed.cloned().collect()
    }

    /// Removes everything.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    /// The subscribed channel names.
    pub(crate) fn names(&self) -> BTreeSet<String> {
        self.map.keys().cloned().collect()
    }

    /// When the next notification is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.map.values().filter_map(|s| s.next_due).min()
    }

    /// The notifications due at `now`. `lose` is asked before each book
    /// change goes out: `true` loses it (a gap for the client).
    pub(crate) fn tick(
        &mut self,
        now: Instant,
        market: &Market,
        lose: &mut dyn FnMut() -> bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for (name, sub) in &mut self.map {
            let Some(due) = sub.next_due.filter(|d| *d <= now) else {
                continue;
            };
            let period = match sub.channel.interval {
                Interval::Raw | Interval::Event => self.raw_period,
                Interval::Every(d) => d,
            };
            if let Some(data) = due_data(sub, market, lose) {
                out.push(notification(name, data));
            }
            sub.next_due = match sub.channel.kind {
                ref k if k.on_events() => (!sub.pending.is_empty()).then(|| now + period),
                _ if due + period > now => Some(due + period),
                _ => Some(now + period),
            };
        }
        out
    }

    /// An account changed: `raw` subscribers of the `user.*` channels get
    /// it now, the others at their next tick; `user.portfolio` at once.
    pub(crate) fn on_change(&mut self, change: &AccountChange, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        let instrument = change.instrument;
        for (name, sub) in &mut self.map {
            // What this channel gets: one or more notification data.
            let data: Vec<Value> = match &sub.channel.kind {
                Kind::UserOrders(f) if f.matches(instrument) => change.orders.clone(),
                Kind::UserTrades(f) if f.matches(instrument) && !change.trades.is_empty() => {
                    vec![Value::from(change.trades.clone())]
                }
                Kind::UserChanges(f) if f.matches(instrument) => vec![feeds::change(
                    instrument.name,
                    &change.orders,
                    &change.trades,
                    &change.positions,
                )],
                Kind::UserPortfolio(c) if c == "ANY" || c == instrument.currency => {
                    out.push(notification(name, change.portfolio.clone()));
                    continue;
                }
                _ => continue,
            };
            match sub.channel.interval {
                Interval::Raw | Interval::Event => {
                    out.extend(data.into_iter().map(|d| notification(name, d)));
                }
                Interval::Every(d) => {
                    if let Kind::UserTrades(_) = sub.channel.kind {
                        sub.pending.extend(change.trades.iter().cloned());
                    } else {
                        sub.pending.extend(data);
                    }
                    sub.next_due = sub.next_due.or(Some(now + d));
                }
            }
        }
        out
    }

    /// A platform-wide event: the subscribers of `channel` get it now.
    pub(crate) fn on_public(&mut self, channel: &str, data: &Value) -> Vec<String> {
        match self.map.get(channel) {
            Some(_) => vec![notification(channel, data.clone())],
            None => Vec::new(),
        }
    }
}

/// The data of a due notification, if there is anything to send.
fn due_data(sub: &mut Sub, market: &Market, lose: &mut dyn FnMut() -> bool) -> Option<Value> {
    match &sub.channel.kind {
        Kind::UserOrders(_) | Kind::UserTrades(_) => {
            let pending = std::mem::take(&mut sub.pending);
            return (!pending.is_empty()).then(|| Value::from(pending));
        }
        Kind::UserChanges(_) => {
            // One instrument per notification; the others wait a tick.
            let first = sub.pending.first()?["instrument_name"].clone();
            let (same, rest) = std::mem::take(&mut sub.pending)
                .into_iter()
                .partition::<Vec<_>, _>(|c| c["instrument_name"] == first);
            sub.pending = rest;
            return Some(feeds::merge_changes(&same));
        }
        Kind::PriceIndex(index) => {
            let index = index.clone();
            let price = market.index(&index)?;
            return fresh(sub, json!(price)).then(|| feeds::index(&index, price));
        }
        k if k.on_events() => return None,
        _ => {}
    }
    let book = market.book(sub.channel.instrument)?;
    match sub.channel.kind {
        Kind::Book => {
            let prev = sub.view.as_ref().map(|v| v.change_id);
            if prev == Some(book.change_id) {
                return None;
            }
            let (bids, asks) = book.diff(sub.view.as_ref());
            let lost = prev.is_some() && lose();
            sub.view = Some(book.view());
            if lost {
                return None;
            }
            let mut data = json!({
                "type": if prev.is_some() { "change" } else { "snapshot" },
                "timestamp": book.timestamp,
                "instrument_name": book.spec.name,
                "change_id": book.change_id,
                "bids": bids,
                "asks": asks,
            });
            if let Some(prev) = prev {
                data["prev_change_id"] = prev.into();
            }
            Some(data)
        }
        Kind::BookGrouped(depth) => {
            if sub.view.as_ref().map(|v| v.change_id) == Some(book.change_id) {
                return None;
            }
            sub.view = Some(book.view());
            let (bids, asks) = book.top(depth);
            Some(json!({
                "timestamp": book.timestamp,
                "instrument_name": book.spec.name,
                "change_id": book.change_id,
                "bids": bids,
                "asks": asks,
            }))
        }
        Kind::Trades => {
            let trades = book.trades_after(sub.trade_seq);
            sub.trade_seq = book.trade_seq;
            (!trades.is_empty()).then(|| trades.into())
        }
        Kind::Ticker => Some(book.ticker()),
        Kind::Quote => {
            let data = feeds::quote(book);
            let mut top = data.clone();
            top["timestamp"] = Value::Null;
            fresh(sub, top).then_some(data)
        }
        _ => None,
    }
}

/// Whether `data` differs from what `sub` sent last (then it is noted).
fn fresh(sub: &mut Sub, data: Value) -> bool {
    if sub.last.as_ref() == Some(&data) {
        return false;
    }
    sub.last = Some(data);
    true
}
