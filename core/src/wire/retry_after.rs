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
    /// An obsolete RFC 850 date (`Sunday, 06-Nov-94 08:49:37 GMT`), whose
    /// year has two digits. Which century they mean depends on when the
    /// date is read (RFC 9110 §5.6.7: the most recent year with those
    /// digits that is not more than 50 years ahead), so
    /// [`delay_from`](Self::delay_from) resolves it against the wall clock.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_core::wire::RetryAfter;
    /// let at = RetryAfter::parse("Thursday, 01-Jan-76 00:00:00 GMT").unwrap();
    /// // Read on 1 January 2026, "76" is 2076: exactly 50 years ahead.
    /// let jan_2026 = 1_767_225_600_000;
    /// assert_eq!(at.delay_from(Some(jan_2026)), Some(Duration::from_secs(18_262 * 86_400)));
    /// // "77" would be more than 50 years ahead: it is 1977, long past.
    /// let past = RetryAfter::parse("Saturday, 01-Jan-77 00:00:00 GMT").unwrap();
    /// assert_eq!(past.delay_from(Some(jan_2026)), Some(Duration::ZERO));
    /// ```
    TwoDigitYear {
        /// The year's last two digits, 0–99.
        yy: u8,
        /// The month, 1–12.
        month: u8,
        /// The day of the month, 1–31.
        day: u8,
        /// Seconds since midnight, 0–86,400 (a leap second is the last).
        second_of_day: u32,
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
        parse_http_date(value)
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
            RetryAfter::TwoDigitYear {
                yy,
                month,
                day,
                second_of_day,
            } => {
                let now = unix_ms?;
                let this_year = year_of_day(now / 86_400_000);
                // The latest year ending in `yy` that is at most 50 years ahead.
                let mut year = this_year - this_year % 100 + u64::from(yy);
                if year > this_year + 50 {
                    // The previous century's, 50 years ago or more: past.
                    return Some(Duration::ZERO);
                }
                if year + 100 <= this_year + 50 {
                    year += 100;
                }
                if year < 1970 {
                    return Some(Duration::ZERO); // long past
                }
                let days = days_from_civil(year, u64::from(month), u64::from(day));
                let unix_secs = days * 86_400 + u64::from(second_of_day);
                RetryAfter::At { unix_secs }.delay_from(Some(now))
            }
        }
    }
}

/// `HTTP-date` (RFC 9110 §5.6.7): the preferred IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms a recipient
/// must accept, RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`). The weekday is not checked.
fn parse_http_date(value: &str) -> Option<RetryAfter> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: day-name "," SP day SP month SP year SP time SP "GMT"
        [_, day, month, year, time, "GMT"] => (*day, *month, year.parse().ok()?, *time),
        // RFC 850: day-name "," SP day "-" month "-" 2DIGIT SP time SP "GMT"
        [_, date, time, "GMT"] => {
            let mut it = date.split('-');
            let (day, month, yy) = (it.next()?, it.next()?, it.next()?);
            if yy.len() != 2 || !yy.bytes().all(|b| b.is_ascii_digit()) || it.next().is_some() {
                return None;
            }
            let (day, month, second_of_day) = parse_day_month_time(day, month, time)?;
            return Some(RetryAfter::TwoDigitYear {
                yy: yy.parse().ok()?,
                month: month as u8,
                day: day as u8,
                second_of_day: second_of_day as u32,
            });
        }
        // asctime: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP year
        [_, month, day, time, year] => (*day, *month, year.parse().ok()?, *time),
        _ => return None,
    };
    if year < 1970 {
        return None;
    }
    let (day, month, second_of_day) = parse_day_month_time(day, month, time)?;
    let unix_secs = days_from_civil(year, month, day) * 86_400 + second_of_day;
    Some(RetryAfter::At { unix_secs })
}

/// The day (1–31), the month (1–12) and the second of the day of a date's
/// parts; `None` when one is out of range.
fn parse_day_month_time(day: &str, month: &str, time: &str) -> Option<(u64, u64, u64)> {
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let mut hms = time.split(':').map(|n| n.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((day, month, h * 3600 + m * 60 + s))
}

/// The year of the given day since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days from 1970).
fn year_of_day(days: u64) -> u64 {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // The era's years start in March: January and February are the next year's.
    era * 400 + yoe + u64::from(mp >= 10)
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
        // RFC 850's two-digit year is read against the clock: in 1994, "94"
        // is 1994, five seconds after the date below.
        let rfc850 = RetryAfter::parse("Sunday, 06-Nov-94 08:49:37 GMT").unwrap();
        let five_before = Some(784_111_777_000 - 5_000);
        assert_eq!(rfc850.delay_from(five_before), Some(Duration::from_secs(5)));
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

    /// Milliseconds since the epoch at midnight starting the given day.
    fn day_ms(days_since_1970: u64) -> Option<u64> {
        Some(days_since_1970 * 86_400_000)
    }

    #[test]
    fn rfc850_keeps_its_two_digit_year_and_refuses_other_lengths() {
        assert_eq!(
            RetryAfter::parse("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(RetryAfter::TwoDigitYear {
                yy: 94,
                month: 11,
                day: 6,
                second_of_day: 31_777
            })
        );
        for bad in [
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 06-Nov-4 08:49:37 GMT",
            "Sunday, 06-Nov-+4 08:49:37 GMT",
            "Sunday, 06-Nov-94-1 08:49:37 GMT",
            "Sunday, 06-Nov-94 24:49:37 GMT",
            "Sunday, 36-Nov-94 08:49:37 GMT",
        ] {
            assert_eq!(RetryAfter::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc850_years_are_the_latest_not_more_than_50_years_ahead() {
        // RFC 9110 §5.6.7, read on 2026-12-03 (day 20,790): "76" is 2076 (50
        // years ahead), "77" is 1977, "05" is 2005, "26" is this year.
        let now = day_ms(20_790);
        let wait = |date: &str| RetryAfter::parse(date).unwrap().delay_from(now);
        let days = |n: u64| Some(Duration::from_secs(n * 86_400));
        assert_eq!(wait("Wednesday, 01-Jan-76 00:00:00 GMT"), days(17_926));
        assert_eq!(wait("Friday, 01-Jan-77 00:00:00 GMT"), days(0));
        assert_eq!(wait("Saturday, 01-Jan-05 00:00:00 GMT"), days(0));
        assert_eq!(wait("Saturday, 05-Dec-26 00:00:00 GMT"), days(2));
        // Read on 2080-01-01 (day 40,177): "30" is 2130, "31" is 2031.
        let now = day_ms(40_177);
        let wait = |date: &str| RetryAfter::parse(date).unwrap().delay_from(now);
        assert_eq!(wait("Wednesday, 01-Jan-31 00:00:00 GMT"), days(0));
        assert_eq!(
            wait("Tuesday, 01-Jan-30 00:00:00 GMT"),
            days(58_804 - 365 - 40_177)
        );
        // Before 1970 there is nothing to wait for; without a clock, no answer.
        let now = day_ms(0);
        let wait = |date: &str| RetryAfter::parse(date).unwrap().delay_from(now);
        assert_eq!(wait("Monday, 01-Jan-69 00:00:00 GMT"), days(0));
        assert_eq!(wait("Thursday, 02-Jan-70 00:00:00 GMT"), days(1));
        let rfc850 = RetryAfter::parse("Sunday, 06-Nov-94 08:49:37 GMT").unwrap();
        assert_eq!(rfc850.delay_from(None), None);
    }

    #[test]
    fn the_year_of_a_day_turns_on_1_january() {
        for (days, year) in [
            (0, 1970),
            (10_956, 1999), // 1999-12-31
            (10_957, 2000), // 2000-01-01
            (11_016, 2000), // 2000-02-29
            (11_017, 2000), // 2000-03-01
            (12_842, 2005), // 2005-02-28
            (20_790, 2026),
            (58_804, 2131),
        ] {
            assert_eq!(year_of_day(days), year, "day {days}");
        }
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
