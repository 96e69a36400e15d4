//! Exact decimal prices and quantities for the order book: Binance sends
//! them as decimal strings (at most 8 decimals); they are kept as integers
//! of 10⁻¹⁸ so that levels compare and match exactly.

use std::fmt;

/// A non-negative decimal with up to 18 fractional digits.
///
/// ```
/// use wsnova_adapters::binance::Decimal;
/// let a: Decimal = "0.01379900".parse().unwrap();
/// assert_eq!(a, "0.013799".parse().unwrap());
/// assert_eq!(a.to_string(), "0.013799");
/// assert!(a < "0.0138".parse().unwrap());
/// assert!("-1".parse::<Decimal>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Decimal(u128);

const SCALE: u128 = 1_000_000_000_000_000_000;
const DIGITS: usize = 18;

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal(0);

    /// Whether it is zero (a level to remove).
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// A string that is not a non-negative decimal with at most 18 decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDecimal;

impl fmt::Display for BadDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a decimal")
    }
}

impl std::error::Error for BadDecimal {}

impl std::str::FromStr for Decimal {
    type Err = BadDecimal;

    fn from_str(s: &str) -> Result<Self, BadDecimal> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(BadDecimal);
        }
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || !digits(frac) {
            return Err(BadDecimal);
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > DIGITS {
            return Err(BadDecimal);
        }
        let whole: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| BadDecimal)?
        };
        let mut part: u128 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| BadDecimal)?
        };
        for _ in frac.len()..DIGITS {
            part *= 10;
        }
        whole
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(part))
            .map(Decimal)
            .ok_or(BadDecimal)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, part) = (self.0 / SCALE, self.0 % SCALE);
        if part == 0 {
            return write!(f, "{whole}");
        }
        let frac = format!("{part:018}");
        write!(f, "{whole}.{}", frac.trim_end_matches('0'))
    }
}

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<u64> for Decimal {
    fn from(v: u64) -> Self {
        Decimal(u128::from(v) * SCALE)
    }
}
