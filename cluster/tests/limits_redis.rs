//! The shared limiter against a real `redis-server`: GCRA on Redis time,
//! one quota shared by two limiters, script reload after `SCRIPT FLUSH` and
//! a restart, and the local share while Redis is unreachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wsnova_cluster::limits::{LimitKey, LimiterConfig, Quota, Scope, SharedLimiter, Source};
use wsnova_core::session::RateClass;
use wsnova_tests::redis::RedisServer;

/// Bound on every test.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);

fn key(name: &str) -> LimitKey {
    LimitKey::new("test", Scope::Account(name.into()), RateClass::DEFAULT)
}

fn limiter(redis: &RedisServer, nodes: u32) -> SharedLimiter {
    let config = LimiterConfig {
        nodes,
        probe_interval: Duration::from_millis(50),
        reserve: Duration::ZERO,
        ..LimiterConfig::default()
    };
    SharedLimiter::new(&redis.url(), config).expect("url")
}

/// Takes as many permits as `limiter` grants for `run`, honouring each
/// `retry_after`; returns the permits and the sources seen.
async fn drain(
    limiter: &SharedLimiter,
    key: &LimitKey,
    quota: Quota,
    run: Duration,
) -> (u64, Vec<Source>) {
    let (start, mut total, mut sources) = (Instant::now(), 0, Vec::new());
    while start.elapsed() < run {
        let grant = limiter.acquire(key, quota, 1, 5).await;
        total += grant.granted;
        sources.push(grant.source);
        if grant.granted == 0 {
            let left = run.saturating_sub(start.elapsed());
            tokio::time::sleep(grant.retry_after.min(left)).await;
        }
    }
    (total, sources)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcra_grants_the_burst_then_paces_on_redis_time() {
    let redis = RedisServer::start();
    tokio::time::timeout(TEST_TIMEOUT, async {
        let limiter = limiter(&redis, 1);
        let quota = Quota::new(10, 100, Duration::from_secs(1)).unwrap();
        let k = key("pace");
        let first = limiter.acquire(&k, quota, 1, 100).await;
        assert_eq!(
            (first.granted, first.source),
            (10, Source::Redis),
            "the burst"
        );
        let refused = limiter.acquire(&k, quota, 1, 1).await;
        assert_eq!(refused.granted, 0);
        assert!(
            refused.retry_after > Duration::ZERO
                && refused.retry_after <= Duration::from_millis(10),
            "{refused:?}"
        );
        tokio::time::sleep(refused.retry_after).await;
        assert_eq!(
            limiter.acquire(&k, quota, 1, 1).await.granted,
            1,
            "at retry_after"
        );
        let never = limiter.acquire(&k, quota, 11, 11).await;
        assert_eq!(
            (never.granted, never.retry_after),
            (0, Duration::MAX),
            "beyond the burst"
        );
    })
    .await
    .expect("bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_serve_callers_in_the_order_they_ask() {
    let redis = RedisServer::start();
    tokio::time::timeout(TEST_TIMEOUT, async {
        let config = LimiterConfig {
            reserve: Duration::from_millis(100),
            ..LimiterConfig::default()
        };
        let limiter = SharedLimiter::new(&redis.url(), config).expect("url");
        // 10 burst, one every 10 ms.
        let quota = Quota::new(10, 100, Duration::from_secs(1)).unwrap();
        let k = key("reserve");
        assert_eq!(
            limiter.acquire(&k, quota, 1, 10).await.usable_after,
            Duration::ZERO
        );
        let first = limiter.acquire(&k, quota, 1, 5).await;
        let second = limiter.acquire(&k, quota, 2, 5).await;
        assert_eq!(
            (first.granted, second.granted),
            (1, 2),
            "reserved, at_least each"
        );
        assert!(
            first.usable_after > Duration::ZERO && first.usable_after <= Duration::from_millis(10),
            "{first:?}"
        );
        let gap = second.usable_after.saturating_sub(first.usable_after);
        assert!(
            gap >= Duration::from_millis(15) && gap <= Duration::from_millis(20),
            "after the first, in order: {second:?}"
        );
        let far = limiter.acquire(&k, quota, 10, 10).await;
        assert_eq!(far.granted, 0, "beyond the reserve window: refused");
        assert!(far.retry_after > Duration::from_millis(100), "{far:?}");
    })
    .await
    .expect("bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_limiters_share_one_quota_and_reach_it() {
    let redis = RedisServer::start();
    tokio::time::timeout(TEST_TIMEOUT, async {
        let quota = Quota::new(20, 200, Duration::from_secs(1)).unwrap();
        let run = Duration::from_secs(1);
        let start = Instant::now();
        let nodes: Vec<_> = (0..2)
            .map(|_| {
                let limiter = Arc::new(limiter(&redis, 2));
                tokio::spawn(async move { drain(&limiter, &key("shared"), quota, run).await.0 })
            })
            .collect();
        let mut totals = Vec::new();
        for node in nodes {
            totals.push(node.await.unwrap());
        }
        let elapsed = start.elapsed().as_secs_f64();
        let total: u64 = totals.iter().sum();
        let most = 20.0 + 200.0 * elapsed;
        assert!(
            total as f64 <= most + 1.0,
            "{totals:?} over {elapsed:.3}s exceeds {most}"
        );
        assert!(
            total as f64 >= 0.85 * (20.0 + 200.0 * run.as_secs_f64()),
            "{totals:?}: too strict"
        );
        assert!(
            totals.iter().all(|&t| t > 20),
            "both nodes got permits: {totals:?}"
        );
    })
    .await
    .expect("bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_reload_after_a_flush_and_a_restart_with_a_cooldown() {
    let mut redis = RedisServer::start();
    tokio::time::timeout(TEST_TIMEOUT, async {
        let limiter = limiter(&redis, 3);
        // 30 burst, 300/s; a node's share is 10 burst, 100/s.
        let quota = Quota::new(30, 300, Duration::from_secs(1)).unwrap();
        let k = key("restart");
        assert_eq!(limiter.acquire(&k, quota, 1, 1).await.source, Source::Redis);

        let client = redis::Client::open(redis.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut conn)
            .await
            .unwrap();
        let after_flush = limiter.acquire(&k, quota, 1, 1).await;
        assert_eq!(
            (after_flush.granted, after_flush.source),
            (1, Source::Redis),
            "NOSCRIPT: reloaded"
        );

        redis.stop();
        let down = Instant::now();
        let local = limiter.acquire(&k, quota, 1, 100).await;
        assert!(
            down.elapsed() < Duration::from_secs(1),
            "bounded by the Redis timeout"
        );
        assert_eq!(local.source, Source::LocalShare);
        assert!(
            local.granted <= 1,
            "the share starts empty: no burst on top of Redis's"
        );
        assert!(limiter.redis_down());
        let (spent, sources) = drain(&limiter, &k, quota, Duration::from_millis(300)).await;
        assert!(sources.iter().all(|s| *s == Source::LocalShare));
        assert!(spent <= 32, "the share's rate, 100/s: {spent}");

        redis.restart();
        let deadline = Instant::now() + Duration::from_secs(10);
        let grant = loop {
            let grant = limiter.acquire(&k, quota, 1, 30).await;
            if grant.source == Source::Redis {
                break grant;
            }
            assert!(Instant::now() < deadline, "Redis back within 10 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(!limiter.redis_down());
        assert!(
            grant.granted <= 10,
            "cooling down: no more than the share, though Redis forgot everything: {grant:?}"
        );
    })
    .await
    .expect("bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_means_the_local_share_never_unlimited() {
    let mut redis = RedisServer::start();
    redis.stop();
    tokio::time::timeout(TEST_TIMEOUT, async {
        let limiter = limiter(&redis, 3);
        let quota = Quota::new(30, 300, Duration::from_secs(1)).unwrap();
        let run = Duration::from_secs(1);
        let start = Instant::now();
        let (total, sources) = drain(&limiter, &key("down"), quota, run).await;
        let elapsed = start.elapsed().as_secs_f64();
        assert!(sources.iter().all(|s| *s == Source::LocalShare));
        assert!(
            total as f64 <= 100.0 * elapsed + 1.0,
            "{total} in {elapsed:.3}s over the share (100/s)"
        );
        assert!(total >= 60, "most of the share is used, not zero: {total}");
    })
    .await
    .expect("bounded");
}
