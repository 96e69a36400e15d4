//! Shard ownership against a real redis-server: once settled every shard
//! has exactly one owner and the balance is fair; a killed node's shards
//! move within the lease; a graceful shutdown hands over at once.

use std::time::{Duration, Instant};

use futures_util::future::select_all;
use tokio::sync::watch;
use wsnova_cluster::shards::{Ownership, ShardConfig, ShardHandle, ShardManager};
use wsnova_tests::redis::RedisServer;

const SHARDS: u32 = 32;

/// Every shard in exactly one of `rxs`, none holding more than `cap`.
fn is_settled(rxs: &[watch::Receiver<Ownership>], cap: usize) -> bool {
    let mut owners = vec![0; SHARDS as usize];
    for rx in rxs {
        let owned = rx.borrow();
        if owned.len() > cap {
            return false;
        }
        for &shard in owned.keys() {
            owners[shard as usize] += 1;
        }
    }
    owners.iter().all(|&n| n == 1)
}

/// Waits (bounded) for [`is_settled`], on ownership changes; how long it took.
async fn settle(rxs: &mut [watch::Receiver<Ownership>], cap: usize, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if is_settled(rxs, cap) {
            return start.elapsed();
        }
        let summary: Vec<usize> = rxs.iter().map(|rx| rx.borrow().len()).collect();
        let changed = select_all(rxs.iter_mut().map(|rx| Box::pin(rx.changed())));
        tokio::time::timeout_at((start + within).into(), changed)
            .await
            .unwrap_or_else(|_| panic!("not settled within {within:?}: {summary:?}"))
            .0
            .expect("a manager stopped");
    }
}

async fn start(redis: &RedisServer, config: &ShardConfig, n: usize) -> Vec<ShardHandle> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut nodes = Vec::new();
    for i in 0..n {
        let id = format!("node-{i}");
        let node = ShardManager::start(client.clone(), config.clone(), &id).await;
        nodes.push(node.expect("manager starts"));
    }
    nodes
}

async fn fences_in_redis(redis: &RedisServer, config: &ShardConfig) -> Vec<Option<String>> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = (0..SHARDS)
        .map(|s| format!("{}:shard:{s}:owner", config.prefix))
        .collect();
    redis::cmd("MGET")
        .arg(&keys)
        .query_async(&mut con)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shard_has_exactly_one_owner_once_settled() {
    let redis = RedisServer::start();
    let config = ShardConfig::new("own", SHARDS, Duration::from_millis(900));
    let nodes = start(&redis, &config, 3).await;
    let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    settle(
        &mut rxs,
        SHARDS.div_ceil(3) as usize,
        Duration::from_secs(10),
    )
    .await;

    // What each node believes is what Redis holds: its fence on its shards.
    let fences = fences_in_redis(&redis, &config).await;
    for rx in &rxs {
        for (shard, lease) in rx.borrow().iter() {
            assert_eq!(
                fences[*shard as usize].as_deref(),
                Some(lease.fence.as_str())
            );
        }
    }
    for node in nodes {
        node.shutdown().await;
    }
    assert!(
        fences_in_redis(&redis, &config)
            .await
            .iter()
            .all(Option::is_none)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_shards_move_within_the_lease() {
    let redis = RedisServer::start();
    let lease = Duration::from_millis(900);
    let config = ShardConfig::new("kill", SHARDS, lease);
    let mut nodes = start(&redis, &config, 3).await;
    let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    settle(&mut rxs, 11, Duration::from_secs(10)).await;

    let victim = nodes.remove(1);
    let orphaned = victim.owned().len();
    assert!(orphaned > 0);
    victim.abort(); // no release: its leases must run out
    let mut survivors: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    let took = settle(&mut survivors, 16, Duration::from_secs(5)).await;
    println!("failover of {orphaned} shards: {took:?} (lease {lease:?})");
    // Expiry (at most a lease after the last renewal) plus one round to notice.
    assert!(
        took <= lease + config.renew_every + Duration::from_millis(300),
        "failover took {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_hands_over_at_once() {
    let redis = RedisServer::start();
    let lease = Duration::from_secs(3);
    let config = ShardConfig::new("leave", SHARDS, lease);
    let mut nodes = start(&redis, &config, 3).await;
    let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    settle(&mut rxs, 11, Duration::from_secs(10)).await;

    let leaving = nodes.remove(0);
    let start = Instant::now();
    leaving.shutdown().await;
    let mut survivors: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    settle(&mut survivors, 16, Duration::from_secs(5)).await;
    let took = start.elapsed();
    println!("graceful hand-over: {took:?} (lease {lease:?})");
    // Woken through pub/sub: far less than a renewal period, let alone a lease.
    assert!(took < config.renew_every / 2, "hand-over took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_expiry_events_a_killed_nodes_shards_move_when_the_lease_runs_out() {
    let redis = RedisServer::start();
    let lease = Duration::from_millis(900);
    let mut config = ShardConfig::new("expiry", SHARDS, lease);
    config.expiry_wake = true;
    let mut nodes = start(&redis, &config, 3).await;
    let mut rxs: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    settle(&mut rxs, 11, Duration::from_secs(10)).await;

    let victim = nodes.remove(0);
    victim.abort();
    let mut survivors: Vec<_> = nodes.iter().map(ShardHandle::ownership).collect();
    let took = settle(&mut survivors, 16, Duration::from_secs(5)).await;
    println!("failover with expiry events: {took:?} (lease {lease:?})");
    // Woken by Redis when it expires the leases (its active expiry runs ten
    // times a second), not a renewal period later.
    assert!(
        took <= lease + Duration::from_millis(250),
        "failover took {took:?}"
    );
}
