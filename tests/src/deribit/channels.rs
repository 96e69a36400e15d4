//! Channel names (docs.deribit.com, "Subscription Channels"): `book.*`,
//! `trades.*`, `ticker.*`, `quote.{instrument}`,
//! `deribit_price_index.{index_name}`, `platform_state`,
//! `platform_state.public_methods_state`, `announcements`, and the private
//! `user.orders.*`, `user.trades.*`, `user.changes.*` (by instrument or by
//! kind and currency, with an interval) and `user.portfolio.{currency}`.

use std::time::Duration;

use super::market::{INSTRUMENTS, Spec, spec};
use super::options::option;

/// How often a channel publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Interval {
    Raw,
    Every(Duration),
    /// No interval in the name: published as things change.
    Event,
}

/// Which of an account's instruments a `user.*` channel follows.
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
    Quote,
    /// `deribit_price_index.{name}`.
    PriceIndex(String),
    /// `platform_state` and `platform_state.public_methods_state`.
    PlatformState,
    Announcements,
    UserOrders(OrderFilter),
    UserTrades(OrderFilter),
    UserChanges(OrderFilter),
    /// `user.portfolio.{currency}`: the upper-case currency, or `ANY`.
    UserPortfolio(String),
}

impl Kind {
    /// Private channels: only through `private/subscribe`.
    pub(super) fn is_private(&self) -> bool {
        matches!(
            self,
            Kind::UserOrders(_)
                | Kind::UserTrades(_)
                | Kind::UserChanges(_)
                | Kind::UserPortfolio(_)
        )
    }

    /// Published when something happens (an order, an announcement), not on
    /// the market clock.
    pub(super) fn on_events(&self) -> bool {
        self.is_private() || matches!(self, Kind::PlatformState | Kind::Announcements)
    }
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

const KINDS: [&str; 6] = [
    "any",
    "future",
    "option",
    "spot",
    "future_combo",
    "option_combo",
];

const CURRENCIES: [&str; 6] = ["any", "BTC", "ETH", "USDC", "USDT", "EURR"];

fn user_kind(what: &str, filter: OrderFilter) -> Option<Kind> {
    match what {
        "orders" => Some(Kind::UserOrders(filter)),
        "trades" => Some(Kind::UserTrades(filter)),
        "changes" => Some(Kind::UserChanges(filter)),
        _ => None,
    }
}

/// Parses a channel name; `None` for names the mock does not serve.
pub(super) fn parse(name: &str) -> Option<Channel> {
    let parts: Vec<&str> = name.split('.').collect();
    let instrument = |s: &str| spec(s).map(|s| s.name).or_else(|| option(s));
    let event = |kind: Kind, instrument: &'static str| {
        Some(Channel {
            kind,
            instrument,
            interval: Interval::Event,
        })
    };
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
        ["quote", i] => return event(Kind::Quote, instrument(i)?),
        ["deribit_price_index", index] => {
            INSTRUMENTS.iter().find(|s| s.index == *index)?;
            return event(Kind::PriceIndex((*index).to_owned()), "");
        }
        ["platform_state"] | ["platform_state", "public_methods_state"] => {
            return event(Kind::PlatformState, "");
        }
        ["announcements"] => return event(Kind::Announcements, ""),
        ["user", "portfolio", currency] => {
            let currency = currency.to_uppercase();
            if currency != "ANY" && !CURRENCIES.contains(&currency.as_str()) {
                return None;
            }
            return event(Kind::UserPortfolio(currency), "");
        }
        ["user", what, i, iv] => {
            let name = instrument(i)?;
            let kind = user_kind(what, OrderFilter::Instrument(name.into()))?;
            (kind, name, iv)
        }
        ["user", what, kind, currency, iv] => {
            if !KINDS.contains(kind) || !CURRENCIES.contains(currency) {
                return None;
            }
            let filter = OrderFilter::KindCurrency((*kind).into(), (*currency).into());
            (user_kind(what, filter)?, "", iv)
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

    #[test]
    fn the_new_channel_names() {
        let kind = |name: &str| parse(name).map(|c| c.kind);
        assert!(matches!(
            kind("user.trades.BTC-PERPETUAL.raw"),
            Some(Kind::UserTrades(_))
        ));
        assert!(matches!(
            kind("user.trades.future.BTC.100ms"),
            Some(Kind::UserTrades(_))
        ));
        assert!(matches!(
            kind("user.changes.any.any.raw"),
            Some(Kind::UserChanges(_))
        ));
        assert_eq!(
            kind("user.portfolio.btc"),
            Some(Kind::UserPortfolio("BTC".into()))
        );
        assert_eq!(kind("quote.ETH-PERPETUAL"), Some(Kind::Quote));
        assert_eq!(
            kind("deribit_price_index.btc_usd"),
            Some(Kind::PriceIndex("btc_usd".into()))
        );
        assert_eq!(kind("platform_state"), Some(Kind::PlatformState));
        assert_eq!(
            kind("platform_state.public_methods_state"),
            Some(Kind::PlatformState)
        );
        assert_eq!(kind("announcements"), Some(Kind::Announcements));
        assert!(parse("deribit_price_index.doge_usd").is_none());
        assert!(parse("user.portfolio.xyz").is_none());
        assert!(parse("user.positions.BTC-PERPETUAL.raw").is_none());
        assert!(parse("quote.BTC-PERPETUAL.raw").is_none());
    }
}
