//! Shard ownership when Redis fails: after a restart (all data lost) the
//! nodes claim again and no shard has two owners; while Redis is
//! unreachable, nodes give up each shard once its lease ran out unrenewed,
//! and claim again when it is back.

use std::time::{Duration, Instant};

use futures_util::future::select_all;
use tokio::sync::watch;
use wsnova_cluster::shards::{Ownership, ShardConfig, ShardHandle, ShardManager};
use wsnova_tests::redis::RedisServer;

const SHARDS: u32 = 16;

async fn fences_in_redis(url: &str, prefix: &str) -> Option<Vec<Option<String>>> {
    let client = redis::Client::open(url).ok()?;
    let mut con = client.get_multiplexed_async_connection().await.ok()?;
    let keys: Vec<String> = (0..SHARDS)
        .map(|s| format!("{prefix}:shard:{s}:owner"))
        .collect();
    redis::cmd("MGET")
        .arg(&keys)
        .query_async(&mut con)
        .await
        .ok()
}

/// Every shard held by exactly one node, under the fence Redis holds.
async fn consistent(rxs: &[watch::Receiver<Ownership>], url: &str, prefix: &str) -> bool {
    let Some(fences) = fences_in_redis(url, prefix).await else {
        return false;
    };
    let mut owners = vec![0; SHARDS as usize];
    for rx in rxs {
        for (shard, lease) in rx.borrow().iter() {
            if fences[*shard as usize].as_deref() != Some(lease.fence.as_str()) {
                return false;
            }
            owners[*shard as usize] += 1;
        }
    }
    owners.iter().all(|&n| n == 1)
}

/// Waits (bounded) until `check` holds, re-checking on ownership changes
/// (and every 100 ms, since Redis's side changes without telling us).
async fn until<F, Fut>(
    rxs: &mut [watch::Receiver<Ownership>],
    within: Duration,
    check: F,
) -> Duration
where
    F: Fn(Vec<watch::Receiver<Ownership>>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check(rxs.to_vec()).await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "condition not reached within {within:?}"
        );
        let changed = select_all(rxs.iter_mut().map(|rx| Box::pin(rx.changed())));
        let _ = tokio::time::timeout(Duration::from_millis(100), changed).await;
    }
}

async fn start(url: &str, config: &ShardConfig, n: usize) -> Vec<ShardHandle> {
    let client = redis::Client::open(url).unwrap();
    let mut nodes = Vec::new();
    for i in 0..n {
        let id = format!("node-{i}");
        let node = ShardManager::start(client.clone(), config.clone(), &id).await;
        nodes.push(node.expect("manager starts"));
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_redis_restart_nodes_claim_again_with_one_owner_per_shard() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let config = ShardConfig::new("restart", SHARDS, Duration::from_millis(600));
    let nodes = start(&url, &config, 3).await;
    let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    let check = |rxs: Vec<_>| {
        let url = url.clone();
        async move { consistent(&rxs, &url, "restart").await }
    };
    until(&mut rxs, Duration::from_secs(10), check).await;

    redis.restart(); // same port, empty data set: every lease and token gone
    assert_eq!(
        fences_in_redis(&url, "restart").await.unwrap(),
        vec![None; SHARDS as usize]
    );
    let took = until(&mut rxs, Duration::from_secs(10), check).await;
    println!("re-claimed after the restart in {took:?}");
    for node in nodes {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_unreachable_nodes_give_up_their_shards() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let lease = Duration::from_millis(600);
    let config = ShardConfig::new("away", SHARDS, lease);
    let nodes = start(&url, &config, 3).await;
    let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    let check = |rxs: Vec<_>| {
        let url = url.clone();
        async move { consistent(&rxs, &url, "away").await }
    };
    until(&mut rxs, Duration::from_secs(10), check).await;

    redis.stop();
    let empty = |rxs: Vec<watch::Receiver<Ownership>>| async move {
        rxs.iter().all(|rx| rx.borrow().is_empty())
    };
    let took = until(&mut rxs, Duration::from_secs(5), empty).await;
    println!("shards given up {took:?} after Redis went away (lease {lease:?})");
    // Each lease is dropped when it runs out by the node's clock: at most a
    // lease after the last renewal (a round never outlasts a lease).
    assert!(took <= lease + Duration::from_millis(300), "{took:?}");

    redis.restart();
    let took = until(&mut rxs, Duration::from_secs(10), check).await;
    println!("claimed again {took:?} after Redis came back");
    for node in nodes {
        node.shutdown().await;
    }
}
