//! The fencing token against a real redis-server: a node that stalls past
//! its lease (here: its lease keeping stops, its publish path goes on) has
//! its writes refused once another node claimed the shard, and nothing it
//! sends lands in the stream.

use std::time::{Duration, Instant};

use wsnova_cluster::fanout::{Entry, FanoutError, Publisher, StreamConfig};
use wsnova_cluster::shards::{
    Keys, Lease, LeaseStore, Renewal, ShardConfig, ShardManager, connection,
};
use wsnova_tests::redis::RedisServer;

fn entry(n: u64) -> Entry {
    Entry {
        id: format!("c#{n}"),
        channel: "c".into(),
        data: format!("{{\"n\":{n}}}"),
    }
}

async fn xlen(con: &mut redis::aio::ConnectionManager, key: &str) -> u64 {
    redis::cmd("XLEN").arg(key).query_async(con).await.unwrap()
}

/// Claims `shard` as `store`'s node as soon as the current lease runs out
/// (bounded retries: an expiry is not an event a client can await).
async fn claim_when_free(store: &mut LeaseStore, shard: u32, within: Duration) -> Lease {
    let deadline = Instant::now() + within;
    loop {
        if let Some(lease) = store.claim(shard).await.unwrap() {
            return lease;
        }
        assert!(Instant::now() < deadline, "shard {shard} never came free");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_nodes_writes_are_refused() {
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let lease = Duration::from_millis(300);
    let keys = Keys::new("fence");
    let con = connection(client.clone(), Duration::from_secs(1))
        .await
        .unwrap();
    let mut a = LeaseStore::new(con.clone(), keys.clone(), "node-a", lease);
    let mut b = LeaseStore::new(con.clone(), keys.clone(), "node-b", lease);
    let mut publisher = Publisher::new(con.clone(), StreamConfig::new("fence", 1000));
    let mut probe = con;

    let mut old = a.claim(0).await.unwrap().expect("free shard");
    assert!(b.claim(0).await.unwrap().is_none(), "held: not claimable");
    assert_eq!(publisher.publish(&old, &[entry(1)]).await.unwrap(), 1);

    // A stalls: no renewal. B claims once the lease ran out, with a higher token.
    let new = claim_when_free(&mut b, 0, Duration::from_secs(3)).await;
    assert!(new.token > old.token, "{} after {}", new.token, old.token);

    // A wakes up and writes with its old fence: refused, nothing lands.
    let before = xlen(&mut probe, &keys.stream(0)).await;
    let refused = publisher.publish(&old, &[entry(2), entry(3)]).await;
    assert!(
        matches!(refused, Err(FanoutError::Fenced { shard: 0 })),
        "{refused:?}"
    );
    assert_eq!(xlen(&mut probe, &keys.stream(0)).await, before);
    // Its renewal says the shard is taken; its release leaves B's lease alone.
    assert_eq!(a.renew(&mut old).await.unwrap(), Renewal::Taken);
    assert!(!a.release(&old).await.unwrap());
    assert_eq!(publisher.publish(&new, &[entry(4)]).await.unwrap(), 1);
    assert_eq!(xlen(&mut probe, &keys.stream(0)).await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_manager_loses_every_shard_to_the_next_node() {
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let config = ShardConfig::new("stall", 8, Duration::from_millis(400));
    let a = ShardManager::start(client.clone(), config.clone(), "node-a")
        .await
        .unwrap();
    let mut a_rx = a.ownership();
    a_rx.wait_for(|o| o.len() == 8).await.unwrap();
    let stale = a_rx.borrow().clone();
    a.abort(); // the lease keeping stops; the fences stay in `stale`

    let b = ShardManager::start(client.clone(), config.clone(), "node-b")
        .await
        .unwrap();
    let mut b_rx = b.ownership();
    let waited = tokio::time::timeout(Duration::from_secs(3), b_rx.wait_for(|o| o.len() == 8));
    waited.await.expect("B takes all shards").unwrap();

    let con = connection(client, Duration::from_secs(1)).await.unwrap();
    let mut publisher = Publisher::new(con.clone(), StreamConfig::new("stall", 1000));
    let mut probe = con;
    for lease in stale.values() {
        let refused = publisher.publish(lease, &[entry(1)]).await;
        assert!(
            matches!(refused, Err(FanoutError::Fenced { .. })),
            "{refused:?}"
        );
        let key = Keys::new("stall").stream(lease.shard);
        assert_eq!(xlen(&mut probe, &key).await, 0, "shard {}", lease.shard);
    }
    b.shutdown().await;
}
