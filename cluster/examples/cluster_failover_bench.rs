//! Failover time of shard ownership against a local redis-server: three
//! nodes hold 32 shards; one is aborted (as a crash: nothing released) and
//! the time until the two others hold every shard is measured; then one
//! leaves gracefully and the hand-over is measured. Repeated, with p50 and
//! max printed.
//!
//! `cargo run --release -p wsnova-cluster --example cluster_failover_bench [runs] [lease_ms] [expiry]`
//!
//! With `expiry`, nodes are woken by Redis's expired-key events
//! ([`ShardConfig::expiry_wake`]).

use std::time::{Duration, Instant};

use futures_util::future::select_all;
use tokio::sync::watch;
use wsnova_cluster::shards::{Ownership, ShardConfig, ShardHandle, ShardManager};
use wsnova_tests::redis::RedisServer;

const SHARDS: u32 = 32;

/// Waits until every shard is in exactly one of `rxs` (bounded); how long.
async fn settle(rxs: &mut [watch::Receiver<Ownership>], within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let mut owners = vec![0; SHARDS as usize];
        for rx in rxs.iter() {
            for &s in rx.borrow().keys() {
                owners[s as usize] += 1;
            }
        }
        if owners.iter().all(|&n| n == 1) {
            return start.elapsed();
        }
        let changed = select_all(rxs.iter_mut().map(|rx| Box::pin(rx.changed())));
        let waited = tokio::time::timeout_at((start + within).into(), changed).await;
        assert!(waited.is_ok(), "not settled within {within:?}");
    }
}

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name}: p50 {:.1} ms, max {:.1} ms, min {:.1} ms over {} runs",
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1]),
        ms(v[0]),
        v.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let lease = Duration::from_millis(args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000));
    let expiry = args.get(3).is_some_and(|a| a == "expiry");
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).unwrap();
    println!(
        "{SHARDS} shards, 3 nodes, lease {lease:?}, renewal every {:?}, expiry events {expiry}, redis-server on loopback",
        lease / 3
    );
    let (mut crash, mut graceful) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let mut config = ShardConfig::new(&format!("bench{run}"), SHARDS, lease);
        config.expiry_wake = expiry;
        let mut nodes: Vec<ShardHandle> = Vec::new();
        for i in 0..3 {
            let id = format!("node-{i}");
            nodes.push(
                ShardManager::start(client.clone(), config.clone(), &id)
                    .await
                    .unwrap(),
            );
        }
        let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
        settle(&mut rxs, Duration::from_secs(10)).await;
        // Let the renewals fall anywhere in their period relative to the kill.
        tokio::time::sleep(lease / 3 * (run as u32 % 3 + 1) / 3).await;

        let victim = nodes.remove(2);
        let start = Instant::now();
        victim.abort();
        let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
        settle(&mut rxs, lease * 4).await;
        crash.push(start.elapsed());

        let leaving = nodes.remove(1);
        let start = Instant::now();
        leaving.shutdown().await;
        let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
        settle(&mut rxs, lease * 4).await;
        graceful.push(start.elapsed());
        for n in nodes {
            n.shutdown().await;
        }
    }
    stats("crash failover (kill to all shards held)", crash);
    stats("graceful hand-over (shutdown to all shards held)", graceful);
}
