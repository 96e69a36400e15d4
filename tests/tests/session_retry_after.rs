//! A server that refuses the upgrade with `Retry-After: <date>` (RFC 9110
//! §10.2.3), in virtual time: the date is read against the wall clock the
//! driver gave (`Session::set_unix_time`) and the time since, in both date
//! forms a server may send, the RFC 850 one with its two-digit year; without
//! a wall clock the date asks for nothing.

use std::time::Duration;

use wsnova_core::session::{BackoffConfig, BackoffStrategy, Event, SessionConfig};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);
/// 2026-12-03T00:00:00Z in milliseconds since the epoch.
const DEC_3_2026_MS: u64 = 20_790 * 86_400_000;

fn backoff(config: &mut SessionConfig) {
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: 100 * MS,
        max_delay: 300 * SECOND,
        max_attempts: None,
    };
}

/// The first `reconnect_in` after a refused upgrade carrying `retry_after`,
/// and the virtual time from the wall-clock reading to the refusal. The
/// wall clock reads midnight, and the dial waits 20 s after it.
fn refused_with(retry_after: &str, wall_clock: bool) -> (Duration, Duration) {
    let mut sim = Sim::new(TestRpc::default(), backoff);
    let clock_at = sim.now;
    if wall_clock {
        sim.client.set_unix_time(clock_at, DEC_3_2026_MS);
    }
    sim.run_for(20 * SECOND);
    sim.server.behaviour.reject_upgrade = Some(503);
    sim.server.behaviour.retry_after = Some(retry_after.to_owned());
    sim.connect();
    let lost = |s: &Sim<TestRpc>| {
        s.events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. }))
    };
    assert!(sim.run_until(lost, LIMIT));
    let reconnect_in = sim
        .events
        .iter()
        .find_map(|e| match e {
            Event::Disconnected { reconnect_in, .. } => *reconnect_in,
            _ => None,
        })
        .expect("a reconnect is scheduled");
    (reconnect_in, sim.now - clock_at)
}

/// The wait for a date one minute after midnight: the minute less the time
/// since the wall clock was read, plus up to a tenth of it of jitter.
fn assert_waits_for_the_rest_of_the_minute(reconnect_in: Duration, since_clock: Duration) {
    let wait = 60 * SECOND - since_clock;
    assert!(
        reconnect_in >= wait && reconnect_in <= wait + wait / 10,
        "reconnect in {reconnect_in:?}, the server asked for {wait:?}"
    );
}

#[test]
fn an_imf_date_is_read_against_the_wall_clock_and_the_time_since() {
    let (reconnect_in, since_clock) = refused_with("Thu, 03 Dec 2026 00:01:00 GMT", true);
    assert!(since_clock > 20 * SECOND);
    assert_waits_for_the_rest_of_the_minute(reconnect_in, since_clock);
}

#[test]
fn an_rfc850_date_gets_its_century_from_the_wall_clock() {
    // "26" read in 2026 is 2026 (RFC 9110 §5.6.7).
    let (reconnect_in, since_clock) = refused_with("Thursday, 03-Dec-26 00:01:00 GMT", true);
    assert_waits_for_the_rest_of_the_minute(reconnect_in, since_clock);
}

#[test]
fn a_date_without_a_wall_clock_asks_for_nothing() {
    let (reconnect_in, _) = refused_with("Thu, 03 Dec 2026 00:01:00 GMT", false);
    // The first backoff delay: full jitter up to the 100 ms base.
    assert!(reconnect_in <= 100 * MS, "{reconnect_in:?}");
}
