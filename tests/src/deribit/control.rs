//! The test's hand on the market and the platform: pin an index, freeze
//! the random walk, lay out a book, read a position, publish announcements
//! and platform states, cancel a connection's orders. Every change takes
//! effect (and reaches subscribers, triggers and resting orders) before the
//! call returns, so tests synchronise on events, never on sleeps.

use super::MockDeribit;
use super::feeds;
use super::orders;
use super::stats::ConnId;

impl MockDeribit {
    /// Pins the price index `index_name` (`btc_usd`, `eth_usd`) at `price`:
    /// from now on it no longer follows its book. Trigger orders on the
    /// index (and trailing stops) react before this returns; subscribers of
    /// `deribit_price_index.{index_name}` get the new price at their next
    /// tick. Whether the index exists.
    ///
    /// ```no_run
    /// # use wsnova_tests::deribit::{MockConfig, MockDeribit};
    /// let mock = MockDeribit::start(MockConfig::default());
    /// assert!(mock.set_index_price("btc_usd", 61_000.0));
    /// assert_eq!(mock.index_price("btc_usd"), Some(61_000.0));
    /// ```
    pub fn set_index_price(&self, index_name: &str, price: f64) -> bool {
        self.shared.with(|st| {
            let known = st.market.set_index(index_name, price);
            if known {
                st.react();
            }
            known
        })
    }

    /// Lets the price index `index_name` follow its book's mark price again
    /// (undoes [`set_index_price`](Self::set_index_price)); whether it
    /// exists.
    pub fn release_index_price(&self, index_name: &str) -> bool {
        self.shared.with(|st| {
            let known = st.market.release_index(index_name);
            if known {
                st.react();
            }
            known
        })
    }

    /// The price index `index_name`'s current price.
    pub fn index_price(&self, index_name: &str) -> Option<f64> {
        self.shared.with(|st| st.market.index(index_name))
    }

    /// Freezes (`true`) or resumes the simulated market: while frozen, the
    /// books and the unpinned indices hold still (time passes without
    /// steps), so a test sees exactly the book it laid out with
    /// [`set_book`](Self::set_book).
    pub fn freeze_market(&self, frozen: bool) {
        self.shared.with(|st| st.market.frozen = frozen);
    }

    /// Replaces the book of `instrument` with these `(price, amount)` levels
    /// (amounts in the instrument's units, multiples of its contract size).
    /// Resting orders it crosses fill as makers before this returns; book
    /// subscribers see the change at their next tick. Freeze the market
    /// first to keep it. Whether the instrument exists.
    ///
    /// ```no_run
    /// # use wsnova_tests::deribit::{MockConfig, MockDeribit};
    /// let mock = MockDeribit::start(MockConfig::default());
    /// mock.freeze_market(true);
    /// let asks = [(60_001.0, 100.0), (60_002.0, 200.0)];
    /// assert!(mock.set_book("BTC-PERPETUAL", &[(59_999.0, 100.0)], &asks));
    /// ```
    pub fn set_book(&self, instrument: &str, bids: &[(f64, f64)], asks: &[(f64, f64)]) -> bool {
        self.shared.with(|st| {
            let Some(book) = st.market.book_mut(instrument) else {
                return false;
            };
            book.set_levels(bids, asks);
            st.react();
            true
        })
    }

    /// The signed position (buy positive, in the instrument's units) of
    /// `account` in `instrument`; 0 when it never traded.
    pub fn position_size(&self, account: &str, instrument: &str) -> f64 {
        self.shared.with(|st| {
            let position = st
                .positions
                .iter()
                .find(|((a, i), _)| a == account && *i == instrument);
            position.map_or(0.0, |(_, p)| p.size)
        })
    }

    /// Publishes an announcement to the `announcements` subscribers; its id.
    pub fn announce(&self, title: &str, body: &str, important: bool) -> u64 {
        self.shared.with(|st| {
            st.next_id += 1;
            let id = st.next_id;
            st.publish(
                "announcements",
                &feeds::announcement(id, title, body, important),
            );
            id
        })
    }

    /// Publishes a `platform_state` notification: `price_index` (e.g.
    /// `btc_usd`) locked or unlocked.
    pub fn set_platform_locked(&self, price_index: &str, locked: bool) {
        let data = serde_json::json!({"price_index": price_index, "locked": locked});
        self.shared.with(|st| st.publish("platform_state", &data));
    }

    /// Publishes a `platform_state.public_methods_state` notification.
    pub fn set_public_methods_allowed(&self, allowed: bool) {
        let data = serde_json::json!({"allow_unauthenticated_public_requests": allowed});
        self.shared
            .with(|st| st.publish("platform_state.public_methods_state", &data));
    }

    /// Cancels every live order placed through connection `conn` (what
    /// cancel-on-disconnect does, without the disconnect); their ids.
    pub fn cancel_orders_of_connection(&self, conn: ConnId) -> Vec<String> {
        self.shared.with(|st| {
            let updates = orders::cancel_orders_of_connection(st, conn);
            st.broadcast(&updates);
            let id =
                |u: &orders::OrderUpdate| u.order["order_id"].as_str().unwrap_or("").to_owned();
            updates.iter().map(id).collect()
        })
    }

    /// Cancels every live order of `account`, from every connection, with
    /// `cancel_reason` `reason`; their ids.
    pub fn cancel_orders_of_account(&self, account: &str, reason: &str) -> Vec<String> {
        self.shared.with(|st| {
            let updates = orders::cancel_orders_of_account(st, account, reason);
            st.broadcast(&updates);
            let id =
                |u: &orders::OrderUpdate| u.order["order_id"].as_str().unwrap_or("").to_owned();
            updates.iter().map(id).collect()
        })
    }
}
