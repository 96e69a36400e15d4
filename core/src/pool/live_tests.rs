//! Unit tests of the settings a pool applies to every connection: a
//! refused change changes nothing, an accepted one reaches the
//! connections opened later, and a refused close code leaves the pool open.

use std::time::{Duration, Instant};

use super::{Pool, PoolLimits};
use crate::session::{Plain, RateClass, RateLimitConfig, RateLimits, SessionConfig, SessionError};
use crate::wire::CloseCode;

fn pool(now: Instant) -> Pool<Plain> {
    let limits = PoolLimits {
        max_streams_per_connection: Some(1),
        ..PoolLimits::default()
    };
    let config = SessionConfig::new("ws://127.0.0.1:9001/").expect("url");
    let mut pool = Pool::new(config, Plain, limits, now);
    pool.connect(now).expect("connect");
    pool
}

#[test]
fn a_refused_heartbeat_changes_nothing_and_an_accepted_one_reaches_later_connections() {
    let now = Instant::now();
    let mut pool = pool(now);
    let before = *pool.heartbeat();
    let mut zero = before;
    zero.pong_timeout = Duration::ZERO;
    assert!(matches!(
        pool.set_heartbeat(now, zero),
        Err(SessionError::Config(_))
    ));
    assert_eq!(pool.heartbeat(), &before);
    let mut fast = before;
    fast.ping_interval = Some(Duration::from_millis(50));
    pool.set_heartbeat(now, fast).expect("accepted");
    assert_eq!(pool.heartbeat(), &fast);
    pool.subscribe(now, &["a", "b"])
        .expect("two channels, two connections");
    let conns: Vec<_> = pool.conns().collect();
    assert_eq!(conns.len(), 2);
    for conn in conns {
        assert_eq!(pool.session(conn).unwrap().heartbeat(), &fast);
    }
}

#[test]
fn rate_limits_reach_later_connections_and_an_invalid_one_is_refused() {
    let now = Instant::now();
    let mut pool = pool(now);
    let limit = RateLimitConfig {
        capacity: 3,
        refill_amount: 1,
        refill_interval: Duration::from_secs(1),
        queue_capacity: 8,
    };
    let limits = RateLimits::default().with(RateClass::DEFAULT, limit);
    pool.set_rate_limits(now, limits.clone()).expect("accepted");
    pool.subscribe(now, &["a", "b"]).expect("two connections");
    for conn in pool.conns().collect::<Vec<_>>() {
        assert_eq!(pool.session(conn).unwrap().rate_limits(), &limits);
    }
    let broken = RateLimitConfig {
        capacity: 0,
        ..limit
    };
    let refused = RateLimits::default().with(RateClass::DEFAULT, broken);
    assert!(pool.set_rate_limits(now, refused).is_err());
    assert_eq!(pool.rate_limits(), &limits);
}

#[test]
fn a_reserved_close_code_is_refused_and_the_pool_stays_open() {
    let now = Instant::now();
    let mut pool = pool(now);
    assert!(!pool.is_closed() && !pool.status().closed);
    assert!(pool.close(now, CloseCode::from(1006), "").is_err());
    assert!(pool.subscribe(now, &["a"]).is_ok(), "still open");
    assert!(
        pool.close(now, CloseCode::from(4000), &"x".repeat(124))
            .is_err()
    );
    pool.close(now, CloseCode::from(4000), "bye")
        .expect("closing");
    assert!(pool.subscribe(now, &["b"]).is_err(), "closing");
    // Nothing was connected: every session closes at once, and so does the pool.
    assert!(pool.is_closed() && pool.status().closed);
}

#[test]
fn the_pool_reports_the_limits_it_was_given() {
    let pool = pool(Instant::now());
    assert_eq!(pool.limits().max_streams_per_connection, Some(1));
    assert_eq!(pool.limits().max_subscribe_messages_per_second, None);
}

#[test]
fn debug_counts_connections_and_channels_and_shows_the_limits() {
    let now = Instant::now();
    let mut pool = pool(now);
    pool.subscribe(now, &["a", "b"]).expect("open");
    let debug = format!("{pool:?}");
    assert!(debug.starts_with("Pool {"), "{debug}");
    assert!(
        debug.contains("conns: 2") && debug.contains("desired: 2"),
        "{debug}"
    );
    assert!(
        debug.contains("max_streams_per_connection: Some(1)"),
        "{debug}"
    );
}

#[test]
fn reading_paused_is_remembered_until_resumed() {
    let now = Instant::now();
    let mut pool = pool(now);
    assert!(!pool.is_reading_paused());
    pool.set_reading_paused(now, true);
    assert!(pool.is_reading_paused());
    pool.set_reading_paused(now, true); // again: nothing changes
    assert!(pool.is_reading_paused());
    pool.set_reading_paused(now, false);
    assert!(!pool.is_reading_paused());
}
