//! The accounts' trades, kept for `private/get_user_trades_by_*`: every
//! order update that reports fills (`{order, trades}`) passes here.

use serde_json::Value;

use super::orders::OrderUpdate;

/// Most trades kept (oldest dropped first).
const KEPT: usize = 10_000;

/// Every user trade so far, oldest first, with its account.
#[derive(Debug, Default)]
pub(crate) struct TradeLog(pub(crate) Vec<(String, Value)>);

impl TradeLog {
    /// Records the trades of `updates`.
    pub(crate) fn record(&mut self, updates: &[OrderUpdate]) {
        for u in updates {
            let trades = u.result.get("trades").and_then(Value::as_array);
            for t in trades.into_iter().flatten() {
                self.0.push((u.account.clone(), t.clone()));
            }
        }
        if self.0.len() > KEPT {
            let excess = self.0.len() - KEPT;
            self.0.drain(..excess);
        }
    }

    /// The trades of every account, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &(String, Value)> {
        self.0.iter()
    }
}
