//! Rate-limit decisions per second and their latency against a local Redis.
//!
//! ```text
//! cargo run --release -p wsnova-cluster --example limits_bench [-- SECONDS]
//! ```
//!
//! Starts its own `redis-server` on an ephemeral loopback port (the test
//! kit's, installed with apt-get when missing), or uses `REDIS_URL`. For 1,
//! 8 and 64 concurrent callers on one `SharedLimiter` (one multiplexed
//! connection), each loops on `acquire` for one permit of a quota that
//! always has room (every call is a full GCRA decision in Redis), then on a
//! quota that refuses most calls; prints decisions per second and the
//! p50/p99 latency of a call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wsnova_cluster::limits::{LimitKey, LimiterConfig, Quota, Scope, SharedLimiter, Source};
use wsnova_core::session::RateClass;
use wsnova_tests::redis::RedisServer;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

async fn run(limiter: Arc<SharedLimiter>, quota: Quota, callers: usize, secs: f64, label: &str) {
    let key = LimitKey::new("bench", Scope::Account(label.into()), RateClass::DEFAULT);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (limiter, key) = (limiter.clone(), key.clone());
            tokio::spawn(async move {
                let (mut latencies, mut granted) = (Vec::with_capacity(100_000), 0u64);
                while Instant::now() < end {
                    let t = Instant::now();
                    let grant = limiter.acquire(&key, quota, 1, 1).await;
                    latencies.push(t.elapsed());
                    assert_eq!(grant.source, Source::Redis, "Redis answers");
                    granted += grant.granted;
                }
                (latencies, granted)
            })
        })
        .collect();
    let (mut all, mut granted) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, g) = task.await.expect("a caller");
        all.extend(latencies);
        granted += g;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    println!(
        "{label:>8} {callers:>3} callers: {:>9.0} decisions/s, p50 {:>7.1} µs, p99 {:>7.1} µs ({} calls, {} granted)",
        all.len() as f64 / elapsed,
        percentile(&all, 0.50).as_secs_f64() * 1e6,
        percentile(&all, 0.99).as_secs_f64() * 1e6,
        all.len(),
        granted,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let _server;
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            let server = RedisServer::start();
            let url = server.url();
            _server = server;
            url
        }
    };
    let config = LimiterConfig {
        reserve: Duration::ZERO,
        ..LimiterConfig::default()
    };
    let limiter = Arc::new(SharedLimiter::new(&url, config).expect("a redis url"));
    let open = Quota::new(u64::MAX >> 12, 1_000_000_000, Duration::from_secs(1)).expect("refills");
    let tight = Quota::new(10, 100, Duration::from_secs(1)).expect("refills");
    println!("Redis at {url}, {secs} s per row, one SharedLimiter (one multiplexed connection)");
    for callers in [1, 8, 64] {
        run(limiter.clone(), open, callers, secs, "granting").await;
    }
    for callers in [1, 8, 64] {
        run(limiter.clone(), tight, callers, secs, "refusing").await;
    }
}
