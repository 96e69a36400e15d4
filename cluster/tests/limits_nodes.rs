//! The shared rate limit across 3 node PROCESSES under load: each node is
//! this test binary run again (the ignored `limits_node_child` entry point)
//! with a wsnova-tokio client on the Deribit mock, all authenticated as one
//! account, sharing its limit through a real `redis-server`, firing
//! `public/get_time` as fast as allowed. The mock counts requests per window
//! (and refuses with 10028 any it cannot afford); the test asserts the limit
//! is never exceeded and that throughput is near it. Also: Redis restarted
//! mid-run, and Redis unreachable (each node keeps to its local share).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wsnova_adapters::deribit::Deribit;
use wsnova_cluster::limits::{
    FeederConfig, LimitKey, LimiterConfig, PermitFeeder, Quota, Scope, SharedClass, SharedLimiter,
    Source,
};
use wsnova_core::session::{Credentials, RateClass, RateLimitConfig, RateLimits, SessionConfig};
use wsnova_tests::deribit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit, RateLimits as MockLimits,
    RequestRecord,
};
use wsnova_tests::redis::RedisServer;
use wsnova_tokio::{Builder, Connect as _};

/// Nodes (processes).
const NODES: u32 = 3;
/// Credits a `public/get_time` costs (the adapter's charge, the mock's too).
const COST: u64 = 500;
/// The shared quota: a burst of 10 requests, 50 requests a second.
const BURST: u64 = 10;
const RATE: u64 = 50;
/// The account's real limit at the mock: the same rate, twice the burst
/// (the margin a deployment keeps for network jitter between nodes).
const MOCK_BURST: u64 = 2 * BURST;
/// How long each node fires.
const RUN: Duration = Duration::from_secs(4);
/// Bound on a node process.
const NODE_TIMEOUT: Duration = Duration::from_secs(60);
const METHOD: &str = "public/get_time";

fn limit() -> RateLimitConfig {
    RateLimitConfig {
        capacity: BURST * COST,
        refill_amount: RATE * COST,
        refill_interval: Duration::from_secs(1),
        queue_capacity: 10_000,
    }
}

fn mock() -> MockDeribit {
    let limits = MockLimits {
        bucket: MOCK_BURST * COST,
        refill_per_sec: RATE * COST,
        cost: COST,
        ..MockLimits::default()
    };
    MockDeribit::start(MockConfig {
        rate_limits: Some(limits),
        ..MockConfig::default()
    })
}

/// What one node reported.
#[derive(Debug, Default)]
struct NodeResult {
    ok: u64,
    err: u64,
    redis: u64,
    local: u64,
}

/// Spawns the nodes; returns a receiver of their stdout.
fn spawn_nodes(mock: &MockDeribit, redis: &RedisServer) -> Vec<mpsc::Receiver<String>> {
    let exe = std::env::current_exe().expect("the test binary");
    (0..NODES)
        .map(|n| {
            let child = Command::new(&exe)
                .args(["limits_node_child", "--exact", "--ignored", "--nocapture"])
                .env("LIMITS_NODE", n.to_string())
                .env("LIMITS_MOCK_URL", mock.url())
                .env("LIMITS_REDIS_URL", redis.url())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn a node");
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let output = child.wait_with_output().expect("node output");
                let _ = tx.send(String::from_utf8_lossy(&output.stdout).into_owned());
            });
            rx
        })
        .collect()
}

fn collect(nodes: Vec<mpsc::Receiver<String>>) -> Vec<NodeResult> {
    nodes
        .into_iter()
        .map(|rx| {
            let out = rx
                .recv_timeout(NODE_TIMEOUT)
                .expect("the node ends in time");
            let line = out
                .lines()
                .find_map(|l| l.strip_prefix("NODE-RESULT "))
                .unwrap_or_else(|| panic!("no result from a node: {out}"));
            let mut result = NodeResult::default();
            for field in line.split_whitespace() {
                let (name, value) = field.split_once('=').expect("name=value");
                let value: u64 = value.parse().expect("a number");
                match name {
                    "ok" => result.ok = value,
                    "err" => result.err = value,
                    "redis" => result.redis = value,
                    "local" => result.local = value,
                    _ => panic!("unknown field {name}"),
                }
            }
            result
        })
        .collect()
}

/// The `METHOD` requests the mock received, in arrival order.
fn calls(mock: &MockDeribit) -> Vec<RequestRecord> {
    let stats = mock.stats();
    assert_eq!(
        stats.rate_limited, 0,
        "the mock refused requests with 10028: the limit was exceeded"
    );
    stats
        .requests
        .into_iter()
        .filter(|r| r.method == METHOD)
        .collect()
}

/// The most requests in any window of `window` (starting at a request).
fn max_in_window(records: &[RequestRecord], window: Duration) -> usize {
    let mut most = 0;
    let mut end = 0;
    for (start, first) in records.iter().enumerate() {
        while end < records.len() && records[end].at.duration_since(first.at) < window {
            end += 1;
        }
        most = most.max(end - start);
    }
    most
}

fn span(records: &[RequestRecord]) -> f64 {
    match (records.first(), records.last()) {
        (Some(a), Some(b)) => b.at.duration_since(a.at).as_secs_f64(),
        _ => 0.0,
    }
}

/// Requests arriving closer together than they were granted, as seen at
/// the mock (loopback scheduling on a loaded machine).
const JITTER: usize = 3;

/// The account's quota held as the mock saw it (at most the burst plus a
/// second's rate in any 1 s window, and no more than the burst plus the
/// rate over the whole span), and at least `min_use` of the rate used (so a
/// limiter that is too strict, or not shared, fails too).
fn assert_quota_held(records: &[RequestRecord], min_use: f64) {
    let (total, span) = (records.len() as f64, span(records));
    let window = max_in_window(records, Duration::from_secs(1));
    eprintln!("{total} calls in {span:.2}s, at most {window} in 1 s");
    assert!(
        window <= (BURST + RATE) as usize + JITTER,
        "{window} calls in 1 s exceed the quota"
    );
    assert!(
        total <= BURST as f64 + RATE as f64 * span + JITTER as f64,
        "{total} in {span:.2}s"
    );
    assert!(
        total >= min_use * RATE as f64 * span,
        "too strict: {total} in {span:.2}s"
    );
}

#[test]
fn three_processes_share_one_account_limit_under_load() {
    let redis = RedisServer::start();
    let mock = mock();
    let results = collect(spawn_nodes(&mock, &redis));
    eprintln!("nodes {results:?}");
    assert!(
        results.iter().all(|r| r.err == 0 && r.ok > 0),
        "{results:?}"
    );
    assert!(
        results.iter().all(|r| r.local == 0 && r.redis > 0),
        "all from Redis: {results:?}"
    );
    assert_quota_held(&calls(&mock), 0.85);
}

#[test]
fn three_processes_hold_the_limit_across_a_redis_restart() {
    let mut redis = RedisServer::start();
    let mock = mock();
    let nodes = spawn_nodes(&mock, &redis);
    let busy = mock.wait_until(NODE_TIMEOUT, |s| {
        s.requests.iter().filter(|r| r.method == METHOD).count() >= 40
    });
    assert!(busy, "the nodes fire");
    redis.stop();
    let restart_after = Instant::now() + Duration::from_millis(800);
    // Keep Redis down for a while the nodes fire (an event: the mock sees calls).
    let fired = mock.wait_until(NODE_TIMEOUT, |s| {
        Instant::now() >= restart_after
            && s.requests.iter().filter(|r| r.method == METHOD).count() >= 50
    });
    assert!(fired, "the nodes fire while Redis is down");
    redis.restart();
    let results = collect(nodes);
    eprintln!("nodes {results:?}");
    assert!(
        results.iter().all(|r| r.err == 0 && r.ok > 0),
        "{results:?}"
    );
    assert!(
        results.iter().any(|r| r.local > 0),
        "the local share was used: {results:?}"
    );
    assert_quota_held(&calls(&mock), 0.6);
}

#[test]
fn three_processes_keep_to_their_local_share_while_redis_is_unreachable() {
    let mut redis = RedisServer::start();
    redis.stop();
    let mock = mock();
    let results = collect(spawn_nodes(&mock, &redis));
    let records = calls(&mock);
    let (total, span) = (records.len() as f64, span(&records));
    eprintln!("nodes {results:?}: {total} calls in {span:.2}s");
    assert!(
        results.iter().all(|r| r.err == 0 && r.redis == 0),
        "{results:?}"
    );
    let share = RATE as f64 / f64::from(NODES);
    for conn in records
        .iter()
        .map(|r| r.conn)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let mine: Vec<_> = records.iter().filter(|r| r.conn == conn).cloned().collect();
        let (n, s) = (mine.len() as f64, self::span(&mine));
        assert!(
            n <= share * s + 1.0 + JITTER as f64,
            "node on conn {conn}: {n} in {s:.2}s over its share"
        );
        assert!(
            n >= 0.6 * share * s,
            "node on conn {conn}: {n} in {s:.2}s, the share is usable"
        );
    }
    assert!(
        total <= RATE as f64 * span + JITTER as f64,
        "{total} in {span:.2}s: never unlimited"
    );
}

/// A node: run by the tests above in a child process (`LIMITS_NODE` set);
/// does nothing when run directly.
#[test]
#[ignore = "a node process of the 3-process tests, which run it themselves"]
fn limits_node_child() {
    let (Ok(mock_url), Ok(redis_url)) = (
        std::env::var("LIMITS_MOCK_URL"),
        std::env::var("LIMITS_REDIS_URL"),
    ) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let result = runtime.block_on(node(mock_url, redis_url));
    println!(
        "NODE-RESULT ok={} err={} redis={} local={}",
        result.ok, result.err, result.redis, result.local
    );
}

async fn node(mock_url: String, redis_url: String) -> NodeResult {
    let mut config = SessionConfig::new(&mock_url).expect("a valid url");
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    config.request_timeout = Duration::from_secs(20);
    config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, limit());
    let connect = Builder::from_config(config).connect(Deribit::new());
    let (client, mut events) = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .expect("connect in time")
        .expect("connect");
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let limiter = SharedLimiter::new(
        &redis_url,
        LimiterConfig {
            nodes: NODES,
            ..LimiterConfig::default()
        },
    )
    .expect("url");
    let limiter = Arc::new(limiter);
    let class = SharedClass {
        class: RateClass::DEFAULT,
        key: LimitKey::new(
            "deribit",
            Scope::Account(DEFAULT_CLIENT_ID.into()),
            RateClass::DEFAULT,
        ),
        quota: Quota::of(&limit()).expect("refills"),
    };
    let _feeder = PermitFeeder::start(
        &client,
        limiter.clone(),
        vec![class],
        FeederConfig::default(),
    )
    .expect("open");
    let deadline = Instant::now() + RUN;
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let (mut ok, mut err) = (0, 0);
                while Instant::now() < deadline {
                    match client.request(METHOD, &serde_json::json!({})).await {
                        Ok(_) => ok += 1,
                        Err(e) => {
                            eprintln!("node request failed: {e:?}");
                            err += 1;
                        }
                    }
                }
                (ok, err)
            })
        })
        .collect();
    let mut result = NodeResult::default();
    for worker in workers {
        let (ok, err) = worker.await.expect("a worker");
        result.ok += ok;
        result.err += err;
    }
    result.redis = limiter.granted_by(Source::Redis);
    result.local = limiter.granted_by(Source::LocalShare);
    let _ = client.close().await;
    result
}
