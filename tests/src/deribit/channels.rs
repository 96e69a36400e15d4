//! Channel names: `book.*`, `trades.*`, `ticker.*`, `user.orders.*`, with
//! their instruments and intervals.

use std::time::Duration;

use super::market::{Spec, spec};
use super::options::option;

/// How often a channel publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Interval {
    Raw,
    Every(Duration),
}

/// Which `user.orders.*` notifications a channel wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum OrderFilter {
    Instrument(String),
    KindCurrency(String, String),
}

impl OrderFilter {
    pub(super) fn matches(&self, instrument: &Spec) -> bool {
        match self {
            OrderFilter::Instrument(name) => name == instrument.name,
            OrderFilter::KindCurrency(kind, currency) => {
                (kind == "any" || kind == "future")
                    && (currency == "any" || currency == instrument.currency)
            }
        }
    }
}

/// What a channel carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Book,
    BookGrouped(usize),
    Trades,
    Ticker,
    UserOrders(OrderFilter),
}

/// A parsed channel name.
#[derive(Debug, Clone)]
pub(super) struct Channel {
    pub kind: Kind,
    pub instrument: &'static str,
    pub interval: Interval,
}

fn interval(s: &str) -> Option<Interval> {
    match s {
        "raw" => Some(Interval::Raw),
        "100ms" => Some(Interval::Every(Duration::from_millis(100))),
        "agg2" => Some(Interval::Every(Duration::from_secs(1))),
        _ => None,
    }
}

/// Parses a channel name; `None` for names the mock does not serve.
pub(super) fn parse(name: &str) -> Option<Channel> {
    let parts: Vec<&str> = name.split('.').collect();
    let instrument = |s: &str| spec(s).map(|s| s.name).or_else(|| option(s));
    let (kind, instrument, iv) = match parts.as_slice() {
        ["book", i, iv] => (Kind::Book, instrument(i)?, iv),
        ["book", i, group, depth, iv] => {
            let depth: usize = depth.parse().ok().filter(|d| [1, 10, 20].contains(d))?;
            if *group != "none" && group.parse::<f64>().is_err() {
                return None;
            }
            (Kind::BookGrouped(depth), instrument(i)?, iv)
        }
        ["trades", i, iv] => (Kind::Trades, instrument(i)?, iv),
        ["ticker", i, iv] => (Kind::Ticker, instrument(i)?, iv),
        ["user", "orders", i, iv] => {
            let name = instrument(i)?;
            (
                Kind::UserOrders(OrderFilter::Instrument(name.into())),
                name,
                iv,
            )
        }
        ["user", "orders", kind, currency, iv] => {
            let kinds = [
                "any",
                "future",
                "option",
                "spot",
                "future_combo",
                "option_combo",
            ];
            if !kinds.contains(kind) || !["any", "BTC", "ETH", "USDC"].contains(currency) {
                return None;
            }
            let filter = OrderFilter::KindCurrency((*kind).into(), (*currency).into());
            (Kind::UserOrders(filter), "", iv)
        }
        _ => return None,
    };
    Some(Channel {
        kind,
        instrument,
        interval: interval(iv)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names() {
        assert!(parse("book.BTC-PERPETUAL.100ms").is_some());
        assert!(parse("book.ETH-PERPETUAL.none.10.100ms").is_some());
        assert!(parse("ticker.BTC-PERPETUAL.raw").is_some());
        assert!(parse("user.orders.any.any.raw").is_some());
        assert!(parse("user.orders.BTC-PERPETUAL.100ms").is_some());
        assert!(parse("book.NOPE.100ms").is_none());
        assert!(parse("ticker.BTC-25DEC26-60000-C.100ms").is_some());
        assert!(parse("book.ETH-26MAR27-2500-P.agg2").is_some());
        assert!(parse("book.BTC-25DEC26-60001-C.agg2").is_none());
        assert!(parse("ticker.BTC-PERPETUAL.5ms").is_none());
    }
}
