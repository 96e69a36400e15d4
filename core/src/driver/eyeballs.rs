//! Happy Eyeballs (RFC 8305) without I/O: which address to try next and
//! when. Both drivers resolve, start the connects this says, and report;
//! the first connection that succeeds wins and the driver closes the rest.

use core::net::SocketAddr;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// RFC 8305 §5's "Connection Attempt Delay": the head start each attempt
/// gets before the next one starts (the RFC's recommended default).
pub const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// The order to try `addresses` in (RFC 8305 §4): the first address family
/// of the resolver's answer (IPv6 first when it has any) alternating with
/// the other, each family keeping the resolver's order.
///
/// ```
/// use wsnova_core::driver::sort_addresses;
/// let v4 = "127.0.0.1:80".parse().unwrap();
/// let v4b = "127.0.0.2:80".parse().unwrap();
/// let v6 = "[::1]:80".parse().unwrap();
/// assert_eq!(sort_addresses(vec![v4, v4b, v6]), [v6, v4, v4b]);
/// ```
pub fn sort_addresses(addresses: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let (v6, v4): (VecDeque<_>, VecDeque<_>) = addresses.into_iter().partition(|a| a.is_ipv6());
    let (mut first, mut second) = (v6, v4);
    if first.is_empty() {
        std::mem::swap(&mut first, &mut second);
    }
    let mut sorted = Vec::with_capacity(first.len() + second.len());
    loop {
        match (first.pop_front(), second.pop_front()) {
            (None, None) => return sorted,
            (a, b) => sorted.extend(a.into_iter().chain(b)),
        }
    }
}

/// The connection attempts to one host: the next starts when the previous
/// one failed or after [`CONNECTION_ATTEMPT_DELAY`], whichever comes first;
/// the ones already started keep running (RFC 8305 §5).
///
/// A driver calls [`poll_start`](Self::poll_start) after every change and
/// starts a connect for each address it returns, sleeps until
/// [`poll_timeout`](Self::poll_timeout), and reports failures with
/// [`on_failed`](Self::on_failed). The first connect that succeeds wins:
/// the driver drops the others. When [`is_exhausted`](Self::is_exhausted),
/// every attempt failed.
///
/// ```
/// use std::time::{Duration, Instant};
/// use wsnova_core::driver::HappyEyeballs;
/// let (v6, v4) = ("[::1]:80".parse().unwrap(), "127.0.0.1:80".parse().unwrap());
/// let t0 = Instant::now();
/// let mut race = HappyEyeballs::new(vec![v4, v6], t0);
/// assert_eq!(race.poll_start(t0), Some(v6)); // IPv6 first
/// assert_eq!(race.poll_start(t0), None); // IPv4 waits for its turn…
/// assert_eq!(race.poll_timeout(), Some(t0 + Duration::from_millis(250)));
/// let later = t0 + Duration::from_millis(250);
/// assert_eq!(race.poll_start(later), Some(v4)); // …250 ms later
/// race.on_failed(later);
/// race.on_failed(later);
/// assert!(race.is_exhausted());
/// ```
#[derive(Debug, Clone)]
pub struct HappyEyeballs {
    queue: VecDeque<SocketAddr>,
    /// When the next queued address may start.
    next_at: Instant,
    in_flight: usize,
}

impl HappyEyeballs {
    /// A race over `addresses` (sorted with [`sort_addresses`]) starting at `now`.
    pub fn new(addresses: Vec<SocketAddr>, now: Instant) -> Self {
        HappyEyeballs {
            queue: sort_addresses(addresses).into(),
            next_at: now,
            in_flight: 0,
        }
    }

    /// The next address to connect to now, if its turn has come; call
    /// again until `None`.
    pub fn poll_start(&mut self, now: Instant) -> Option<SocketAddr> {
        if now < self.next_at && self.in_flight > 0 {
            return None;
        }
        let addr = self.queue.pop_front()?;
        self.in_flight += 1;
        self.next_at = now + CONNECTION_ATTEMPT_DELAY;
        Some(addr)
    }

    /// When the next address may start, if one waits.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.queue.is_empty() && self.in_flight > 0).then_some(self.next_at)
    }

    /// An attempt failed: the next address may start at once.
    pub fn on_failed(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.next_at = now;
    }

    /// Every attempt was started and failed.
    pub fn is_exhausted(&self) -> bool {
        self.queue.is_empty() && self.in_flight == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn families_alternate_ipv6_first() {
        let got = sort_addresses(vec![
            addr("10.0.0.1:1"),
            addr("10.0.0.2:1"),
            addr("10.0.0.3:1"),
            addr("[::2]:1"),
            addr("[::3]:1"),
        ]);
        let want = [
            "[::2]:1",
            "10.0.0.1:1",
            "[::3]:1",
            "10.0.0.2:1",
            "10.0.0.3:1",
        ];
        assert_eq!(got, want.map(addr));
        assert_eq!(sort_addresses(vec![addr("1.1.1.1:1")]), [addr("1.1.1.1:1")]);
        assert!(sort_addresses(Vec::new()).is_empty());
    }

    #[test]
    fn each_attempt_gets_a_250ms_head_start() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut race = HappyEyeballs::new(
            vec![addr("127.0.0.1:1"), addr("[::1]:1"), addr("127.0.0.2:1")],
            t0,
        );
        assert_eq!(race.poll_start(t0), Some(addr("[::1]:1")));
        assert_eq!(race.poll_start(ms(249)), None);
        assert_eq!(race.poll_timeout(), Some(ms(250)));
        assert_eq!(race.poll_start(ms(250)), Some(addr("127.0.0.1:1")));
        assert_eq!(race.poll_start(ms(250)), None);
        assert_eq!(race.poll_timeout(), Some(ms(500)));
        // A failure starts the next one at once.
        race.on_failed(ms(300));
        assert_eq!(race.poll_start(ms(300)), Some(addr("127.0.0.2:1")));
        assert_eq!(race.poll_timeout(), None, "nothing left to start");
        assert!(!race.is_exhausted());
        race.on_failed(ms(301));
        race.on_failed(ms(302));
        assert!(race.is_exhausted());
    }

    #[test]
    fn with_nothing_in_flight_the_next_starts_at_once() {
        let t0 = Instant::now();
        let mut race = HappyEyeballs::new(vec![addr("[::1]:1"), addr("127.0.0.1:1")], t0);
        assert!(race.poll_start(t0).is_some());
        race.on_failed(t0);
        assert_eq!(race.poll_start(t0), Some(addr("127.0.0.1:1")));
        assert!(HappyEyeballs::new(Vec::new(), t0).is_exhausted());
    }
}
