//! Options the mock lists for market-data subscriptions: BTC and ETH
//! options over [`EXPIRIES`] × 26 strikes × call/put (520 instruments), named
//! as Deribit names them (`BTC-25DEC26-60000-C`). Their `book.*`, `ticker.*`
//! and `trades.*` channels are confirmed like any listed instrument's, but
//! the mock simulates no book for them: the channels stay quiet (no
//! notifications), which keeps tests with thousands of subscriptions light.
//! They cannot be traded.

use std::sync::LazyLock;

/// Expiry dates of the listed options (Deribit's `DMMMYY` form).
pub const EXPIRIES: [&str; 5] = ["26JUN26", "25SEP26", "25DEC26", "26MAR27", "25JUN27"];

static OPTIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut names = Vec::new();
    for (currency, first, step) in [("BTC", 40_000u32, 2_000u32), ("ETH", 2_000, 100)] {
        for expiry in EXPIRIES {
            for strike in (0..26).map(|i| first + i * step) {
                for kind in ["C", "P"] {
                    names.push(format!("{currency}-{expiry}-{strike}-{kind}"));
                }
            }
        }
    }
    names
});

/// The names of the listed options (520), in a fixed order.
///
/// ```
/// let names: Vec<&str> = wsnova_tests::deribit::option_names().collect();
/// assert_eq!(names.len(), 520);
/// assert_eq!(names[0], "BTC-26JUN26-40000-C");
/// ```
pub fn option_names() -> impl Iterator<Item = &'static str> {
    OPTIONS.iter().map(String::as_str)
}

/// The listed option called `name`.
pub(super) fn option(name: &str) -> Option<&'static str> {
    OPTIONS.iter().find(|o| *o == name).map(String::as_str)
}
