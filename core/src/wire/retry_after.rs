//! The `Retry-After` header of a refused upgrade (RFC 9110 §10.2.3), parsed
//! without a clock: a delay, or a wall-clock time the caller compares with
//! its own idea of "now".

use std::time::Duration;

/// A server's `Retry-After`: how long to wait before the next attempt.
///
/// RFC 9110 §10.2.3 allows two forms: `delay-seconds` (`Retry-After: 7`) and
/// an `HTTP-date` (`Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`). The date is
/// kept as seconds since the Unix epoch; turning it into a delay needs the
/// wall-clock time, which the core only knows when the driver tells it
/// ([`Session::set_unix_time`](crate::session::Session::set_unix_time)).
///
/// ```
/// use std::time::Duration;
/// use wsnova_core::wire::RetryAfter;
/// assert_eq!(RetryAfter::parse("7"), Some(RetryAfter::Delay(Duration::from_secs(7))));
/// let at = RetryAfter::parse("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
/// assert_eq!(at, RetryAfter::At { unix_secs: 1_445_412_480 });
/// // Ten seconds before that date, the wait is ten seconds.
/// assert_eq!(at.delay_from(Some(1_445_412_470_000)), Some(Duration::from_secs(10)));
/// assert_eq!(RetryAfter::parse("soon"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryAfter {
    /// `delay-seconds`: wait this long.
    Delay(Duration),
    /// `HTTP-date`: not before this time (seconds since the Unix epoch, UTC).
    At {
        /// Seconds since 1970-01-01T00:00:00Z.
        unix_secs: u64,
    },
}

impl RetryAfter {
    /// Parses a header value; `None` when it is neither form.
    pub fn parse(value: &str) -> Option<RetryAfter> {
        let value = value.trim();
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            // Saturate absurd values rather than refuse them.
            let secs = value.parse::<u64>().unwrap_or(u64::MAX);
            return Some(RetryAfter::Delay(Duration::from_secs(secs)));
        }
        parse_http_date(value).map(|unix_secs| RetryAfter::At { unix_secs })
    }

    /// The wait this asks for when the wall clock reads `unix_ms`
    /// (milliseconds since the epoch). A date in the past asks for no wait;
    /// a date without a known wall clock gives `None` (the caller cannot
    /// tell how far away it is).
    pub fn delay_from(&self, unix_ms: Option<u64>) -> Option<Duration> {
        match *self {
            RetryAfter::Delay(delay) => Some(delay),
            RetryAfter::At { unix_secs } => {
                let now = unix_ms?;
                let at = unix_secs.saturating_mul(1000);
                Some(Duration::from_millis(at.saturating_sub(now)))
            }
        }
    }
}

/// `HTTP-date` (RFC 9110 §5.6.7): the preferred IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms a recipient
/// must accept, RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`). The weekday is not checked.
fn parse_http_date(value: &str) -> Option<u64> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: day-name "," SP day SP month SP year SP time SP "GMT"
        [_, day, month, year, time, "GMT"] => (*day, *month, year.parse().ok()?, *time),
        // RFC 850: day-name "," SP day "-" month "-" 2DIGIT SP time SP "GMT"
        [_, date, time, "GMT"] => {
            let mut it = date.split('-');
            let (day, month, yy) = (it.next()?, it.next()?, it.next()?);
            let yy: u64 = yy.parse().ok()?;
            // §5.6.7: a two-digit year more than 50 years ahead is in the past century.
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            (day, month, year, *time)
        }
        // asctime: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP year
        [_, month, day, time, year] => (*day, *month, year.parse().ok()?, *time),
        _ => return None,
    };
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let mut hms = time.split(':').map(|n| n.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || h > 23 || m > 59 || s > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard
/// Hinnant's `days_from_civil`, for years from 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_date_forms_give_the_same_time() {
        let expected = Some(RetryAfter::At {
            unix_secs: 784_111_777,
        });
        assert_eq!(RetryAfter::parse("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
        assert_eq!(
            RetryAfter::parse("Sunday, 06-Nov-94 08:49:37 GMT"),
            expected
        );
        assert_eq!(RetryAfter::parse("Sun Nov  6 08:49:37 1994"), expected);
        assert_eq!(
            RetryAfter::parse("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(RetryAfter::At { unix_secs: 0 })
        );
        assert_eq!(
            RetryAfter::parse("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(RetryAfter::At {
                unix_secs: 1_835_438_400
            })
        );
    }

    #[test]
    fn garbage_is_refused_and_huge_delays_saturate() {
        for bad in [
            "",
            "-1",
            "7s",
            "1.5",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
        ] {
            assert_eq!(RetryAfter::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            RetryAfter::parse("99999999999999999999999"),
            Some(RetryAfter::Delay(Duration::from_secs(u64::MAX)))
        );
    }

    #[test]
    fn a_date_needs_the_wall_clock_and_the_past_means_now() {
        let at = RetryAfter::At { unix_secs: 100 };
        assert_eq!(at.delay_from(None), None);
        assert_eq!(
            at.delay_from(Some(99_500)),
            Some(Duration::from_millis(500))
        );
        assert_eq!(at.delay_from(Some(200_000)), Some(Duration::ZERO));
        let delay = RetryAfter::Delay(Duration::from_secs(3));
        assert_eq!(delay.delay_from(None), Some(Duration::from_secs(3)));
    }

    #[test]
    fn rfc850_two_digit_years_below_70_are_this_century() {
        // RFC 9110 §5.6.7: a two-digit year is the most recent one with those
        // digits that is not more than 50 years ahead.
        assert_eq!(
            RetryAfter::parse("Saturday, 01-Jan-05 00:00:00 GMT"),
            Some(RetryAfter::At {
                unix_secs: 1_104_537_600
            })
        );
        assert_eq!(
            RetryAfter::parse("Tuesday, 01-Jan-69 00:00:00 GMT"),
            Some(RetryAfter::At {
                unix_secs: 3_124_224_000
            })
        );
        assert_eq!(
            RetryAfter::parse("Friday, 31-Dec-99 23:59:59 GMT"),
            Some(RetryAfter::At {
                unix_secs: 946_684_799
            })
        );
    }

    #[test]
    fn time_of_day_limits_are_23_59_60() {
        // RFC 9110 §5.6.7: time-of-day is 00:00:00 - 23:59:60 (leap second).
        assert_eq!(
            RetryAfter::parse("Thu, 01 Jan 1970 23:59:59 GMT"),
            Some(RetryAfter::At { unix_secs: 86_399 })
        );
        // A leap second is one second after 23:59:59 (Unix time has no 23:59:60).
        assert_eq!(
            RetryAfter::parse("Sat, 31 Dec 2016 23:59:60 GMT"),
            Some(RetryAfter::At {
                unix_secs: 1_483_228_800
            })
        );
        for bad in [
            "Thu, 01 Jan 1970 24:00:00 GMT",
            "Thu, 01 Jan 1970 08:60:00 GMT",
            "Thu, 01 Jan 1970 08:00:61 GMT",
            "Thu, 01 Jan 1970 08:00:00:00 GMT",
        ] {
            assert_eq!(RetryAfter::parse(bad), None, "{bad:?}");
        }
    }
}
