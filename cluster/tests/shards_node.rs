//! Nodes on a real exchange mock and a real redis-server: two nodes share
//! 40 channels of the mock Binance; a consumer receives every channel once
//! settled; one node is aborted (as a crash) and its shards' channels flow
//! again from the other within the lease plus a renewal and a margin.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use wsnova_cluster::fanout::{Consumer, ConsumerConfig};
use wsnova_cluster::node::{Node, NodeConfig, NodeStats};
use wsnova_cluster::shards::{ShardConfig, connection, shard_of};
use wsnova_tests::binance::{MockBinance, MockConfig};
use wsnova_tests::redis::RedisServer;
use wsnova_tokio::adapters::binance::{Binance, Market};
use wsnova_tokio::{Builder, Connect, RateLimits};

const SHARDS: u32 = 8;
const LEASE: Duration = Duration::from_millis(900);

fn channels() -> Vec<String> {
    (0..20)
        .flat_map(|i| {
            [
                format!("n{i:02}usdt@trade"),
                format!("n{i:02}usdt@depth@100ms"),
            ]
        })
        .collect()
}

async fn start_node(redis: &RedisServer, mock: &MockBinance, name: &str) -> Node {
    let url = format!("{}/stream", mock.base_url());
    let (client, events) = Builder::new(&url)
        .unwrap()
        .no_proxy()
        .rate_limits(RateLimits::off()) // the mock below allows 100 messages a second
        .connect(Binance::new(Market::Spot))
        .await
        .expect("connect to the mock");
    let redis = redis::Client::open(redis.url()).unwrap();
    let config = NodeConfig::new(ShardConfig::new("node", SHARDS, LEASE), channels());
    let adapter = Binance::new(Market::Spot);
    Node::start(redis, name, config, client, events, adapter)
        .await
        .expect("node starts")
}

/// Consumes until `done` holds of the last publisher (node name) of every
/// channel (bounded).
async fn until(
    consumer: &mut Consumer,
    last: &mut BTreeMap<String, String>,
    within: Duration,
    done: impl Fn(&BTreeMap<String, String>) -> bool,
) -> Duration {
    let start = Instant::now();
    while !done(last) {
        assert!(
            start.elapsed() < within,
            "not reached within {within:?}: {last:?}"
        );
        let batch = consumer.next().await.unwrap();
        for d in &batch {
            let node = d.fence.split(':').next().unwrap().to_owned();
            last.insert(d.channel.clone(), node);
        }
        consumer.commit(&batch).await.unwrap();
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_nodes_channels_flow_again_from_the_other_node() {
    let redis = RedisServer::start();
    let symbols = (0..20).map(|i| format!("N{i:02}USDT")).collect();
    let mock = MockBinance::start(MockConfig {
        symbols,
        tick: Duration::from_millis(50),
        max_messages_per_second: 100,
        ..MockConfig::default()
    });
    let a = start_node(&redis, &mock, "a").await;
    let b = start_node(&redis, &mock, "b").await;

    let client = redis::Client::open(redis.url()).unwrap();
    let con = connection(client, Duration::from_secs(2)).await.unwrap();
    let config = ConsumerConfig::new("node", SHARDS, "test", "c");
    let mut consumer = Consumer::new(con, config).await.unwrap();
    let mut last = BTreeMap::new();
    let all: BTreeSet<String> = channels().into_iter().collect();
    let from_both = |last: &BTreeMap<String, String>| {
        last.len() == all.len() && last.values().collect::<BTreeSet<_>>().len() == 2
    };
    until(&mut consumer, &mut last, Duration::from_secs(10), from_both).await;
    // Each channel came from the node holding its shard.
    let a_shards: BTreeSet<u32> = a.ownership().borrow().keys().copied().collect();
    for (channel, node) in &last {
        let held_by_a = a_shards.contains(&shard_of(channel, SHARDS));
        assert_eq!(node == "a", held_by_a, "{channel} from {node}");
    }
    assert!(NodeStats::get(&a.stats().published) > 0);

    a.abort(); // no release
    last.clear();
    let from_b = |last: &BTreeMap<String, String>| {
        last.len() == all.len() && last.values().all(|n| n == "b")
    };
    let took = until(&mut consumer, &mut last, Duration::from_secs(5), from_b).await;
    println!("every channel from b {took:?} after a crashed (lease {LEASE:?})");
    assert!(
        took <= LEASE + LEASE / 3 + Duration::from_millis(700),
        "{took:?}"
    );
    assert_eq!(b.ownership().borrow().len(), SHARDS as usize);
    b.shutdown().await;
}
