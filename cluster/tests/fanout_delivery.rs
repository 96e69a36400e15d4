//! Fan-out against a real redis-server: consumer groups deliver at least
//! once; a consumer killed after marking but before XACK has its entries
//! claimed by another, which does not deliver them again; the same event
//! published twice is delivered once; MAXLEN bounds each stream.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use wsnova_cluster::fanout::{Consumer, ConsumerConfig, Delivery, Entry, Publisher, StreamConfig};
use wsnova_cluster::shards::{Keys, Lease, LeaseStore, connection};
use wsnova_tests::redis::RedisServer;

const SHARDS: u32 = 4;

fn entries(range: std::ops::Range<u64>) -> Vec<Entry> {
    range
        .map(|n| Entry {
            id: format!("btcusdt@trade#{n}"),
            channel: "btcusdt@trade".into(),
            data: format!("{{\"t\":{n}}}"),
        })
        .collect()
}

struct Setup {
    _redis: RedisServer,
    client: redis::Client,
    con: ConnectionManager,
    lease: Lease,
}

async fn setup(prefix: &str) -> Setup {
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let con = connection(client.clone(), Duration::from_secs(2))
        .await
        .unwrap();
    let mut store = LeaseStore::new(
        con.clone(),
        Keys::new(prefix),
        "node-a",
        Duration::from_secs(30),
    );
    let lease = store.claim(1).await.unwrap().expect("free shard");
    Setup {
        _redis: redis,
        client,
        con,
        lease,
    }
}

async fn consumer(s: &Setup, prefix: &str, name: &str, claim_idle: Duration) -> Consumer {
    let mut config = ConsumerConfig::new(prefix, SHARDS, "app", name);
    config.claim_idle = claim_idle;
    // Reads block: a connection of its own, answering after the block.
    let con = connection(s.client.clone(), Duration::from_secs(2))
        .await
        .unwrap();
    Consumer::new(con, config).await.unwrap()
}

/// Reads until `want` deliveries arrived (bounded).
async fn read(consumer: &mut Consumer, want: usize) -> Vec<Delivery> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while got.len() < want {
        assert!(
            Instant::now() < deadline,
            "only {} of {want} delivered",
            got.len()
        );
        got.extend(consumer.next().await.unwrap());
    }
    got
}

async fn pending(con: &mut ConnectionManager, prefix: &str) -> u64 {
    let reply: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg(Keys::new(prefix).stream(1))
        .arg("app")
        .query_async(con)
        .await
        .unwrap();
    reply.0
}

/// Runs `consumer` until nothing is pending in the group (bounded); what it
/// delivered to the application meanwhile.
async fn drain(
    consumer: &mut Consumer,
    con: &mut ConnectionManager,
    prefix: &str,
) -> Vec<Delivery> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while pending(con, prefix).await > 0 {
        assert!(Instant::now() < deadline, "entries stay pending");
        let batch = consumer.next().await.unwrap();
        consumer.commit(&batch).await.unwrap();
        got.extend(batch);
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_after_marking_is_not_delivered_twice() {
    let mut s = setup("mark").await;
    let mut publisher = Publisher::new(s.con.clone(), StreamConfig::new("mark", 1000));
    publisher.publish(&s.lease, &entries(0..10)).await.unwrap();

    let mut a = consumer(&s, "mark", "a", Duration::from_millis(200)).await;
    let mut app = read(&mut a, 10).await;
    a.mark(&app).await.unwrap();
    drop(a); // killed before XACK: its 10 entries stay pending
    assert_eq!(pending(&mut s.con, "mark").await, 10);

    let mut b = consumer(&s, "mark", "b", Duration::from_millis(200)).await;
    app.extend(drain(&mut b, &mut s.con, "mark").await);
    assert_eq!(b.duplicates(), 10, "B claimed A's entries and skipped them");
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for d in &app {
        *counts.entry(d.id.as_str()).or_default() += 1;
    }
    assert_eq!(counts.len(), 10);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_before_marking_is_delivered_again() {
    let mut s = setup("again").await;
    let mut publisher = Publisher::new(s.con.clone(), StreamConfig::new("again", 1000));
    publisher.publish(&s.lease, &entries(0..5)).await.unwrap();

    let mut a = consumer(&s, "again", "a", Duration::from_millis(200)).await;
    let first = read(&mut a, 5).await;
    drop(a); // killed before marking: at least once means again

    let mut b = consumer(&s, "again", "b", Duration::from_millis(200)).await;
    let second = drain(&mut b, &mut s.con, "again").await;
    let ids = |v: &[Delivery]| v.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&second));
    assert_eq!(b.duplicates(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_published_twice_is_delivered_once() {
    let mut s = setup("twice").await;
    let mut publisher = Publisher::new(s.con.clone(), StreamConfig::new("twice", 1000));
    // Around a hand-over two owners may both publish an update: same id.
    publisher.publish(&s.lease, &entries(0..3)).await.unwrap();
    publisher.publish(&s.lease, &entries(2..6)).await.unwrap();

    let mut c = consumer(&s, "twice", "c", Duration::from_secs(5)).await;
    let got = read(&mut c, 6).await;
    c.commit(&got).await.unwrap();
    assert!(
        c.next().await.unwrap().is_empty(),
        "nothing more to deliver"
    );
    assert_eq!(pending(&mut s.con, "twice").await, 0);
    let ids: Vec<&str> = got.iter().map(|d| d.id.as_str()).collect();
    let want: Vec<String> = (0..6).map(|n| format!("btcusdt@trade#{n}")).collect();
    assert_eq!(ids, want);
    assert_eq!(c.duplicates(), 1);
    assert!(got.iter().all(|d| d.fence == s.lease.fence && d.shard == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxlen_bounds_each_stream() {
    let mut s = setup("bound").await;
    let maxlen = 200;
    let mut publisher = Publisher::new(s.con.clone(), StreamConfig::new("bound", maxlen));
    for chunk in 0..50 {
        publisher
            .publish(&s.lease, &entries(chunk * 100..chunk * 100 + 100))
            .await
            .unwrap();
    }
    let len: u64 = redis::cmd("XLEN")
        .arg(Keys::new("bound").stream(1))
        .query_async(&mut s.con)
        .await
        .unwrap();
    // `MAXLEN ~` trims whole nodes (100 entries by default): never below
    // the bound, at most a node above it.
    assert!(
        (maxlen..=maxlen + 100).contains(&len),
        "XLEN {len} of 5000 published"
    );
}
