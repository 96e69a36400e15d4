//! Three node processes share 300 subscriptions of the mock Binance through
//! Redis; one is killed (SIGKILL), its shards move, and a consumer shows how
//! long each moved shard went without updates; then one leaves gracefully.
//!
//! `cargo run --release -p wsnova-cluster --example cluster_demo`
//!
//! Offline: redis-server (the test kit starts it on an ephemeral port) and
//! the mock exchange run locally. The same binary re-executed with `node …`
//! is one node. The three nodes share one account's message budget through
//! the shared limiter (`wsnova_cluster::limits`): Binance's per-connection
//! pacing (2 messages a second, a burst of 2) for all of them together.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wsnova_cluster::fanout::{Consumer, ConsumerConfig};
use wsnova_cluster::limits::{
    FeederConfig, LimitKey, LimiterConfig, PermitFeeder, Quota, Scope, SharedClass, SharedLimiter,
    Source,
};
use wsnova_cluster::node::{Node, NodeConfig, NodeStats};
use wsnova_cluster::shards::{ShardConfig, connection, unique_node_id};
use wsnova_core::session::RateClass;
use wsnova_tests::binance::{EndReason, MockBinance, MockConfig};
use wsnova_tests::redis::RedisServer;
use wsnova_tokio::adapters::binance::{Binance, DEFAULT_QUEUE, Market};
use wsnova_tokio::{Builder, Connect};

const PREFIX: &str = "demo";
const SHARDS: u32 = 32;
const SYMBOLS: usize = 75;
const KINDS: [&str; 4] = ["depth@100ms", "trade", "aggTrade", "bookTicker"];
const LEASE: Duration = Duration::from_secs(2);
const TICK: Duration = Duration::from_millis(100);

fn symbols() -> Vec<String> {
    (0..SYMBOLS).map(|i| format!("C{i:02}USDT")).collect()
}

/// The 300 channels: four streams of 75 symbols.
fn channels() -> Vec<String> {
    let mut all = Vec::new();
    for s in symbols() {
        for kind in KINDS {
            all.push(format!("{}@{kind}", s.to_ascii_lowercase()));
        }
    }
    all
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if args.get(1).map(String::as_str) == Some("node") {
        return runtime.block_on(node(&args[2], &args[3], &args[4]));
    }
    runtime.block_on(orchestrate())
}

/// One node: connects to the mock, keeps leases, serves its shards, stops
/// gracefully on `stop` (or end of input).
async fn node(redis_url: &str, ws_url: &str, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let redis = redis::Client::open(redis_url)?;
    let (client, events) = Builder::new(ws_url)?
        .no_proxy()
        .event_capacity(65_536)
        .connect(Binance::new(Market::Spot))
        .await?;
    // One account's budget for the messages the nodes send (subscribes,
    // unsubscribes), held in Redis and shared by the three nodes.
    let limiter = SharedLimiter::new(
        redis_url,
        LimiterConfig {
            nodes: 3,
            ..LimiterConfig::default()
        },
    )?;
    let limiter = Arc::new(limiter);
    let class = SharedClass {
        class: RateClass::DEFAULT,
        key: LimitKey::new("binance", Scope::Account("demo".into()), RateClass::DEFAULT),
        quota: Quota::of(&Binance::new(Market::Spot).rate_limit(DEFAULT_QUEUE))?,
    };
    let _feeder = PermitFeeder::start(
        &client,
        Arc::clone(&limiter),
        vec![class],
        FeederConfig::default(),
    )?;
    let mut shards = ShardConfig::new(PREFIX, SHARDS, LEASE);
    shards.expiry_wake = true; // take a dead node's shards as Redis expires them
    let mut config = NodeConfig::new(shards, channels());
    config.subscribe_chunk = 300; // Binance counts messages, not streams
    let id = unique_node_id(name);
    let node = Node::start(
        redis,
        &id,
        config,
        client.clone(),
        events,
        Binance::new(Market::Spot),
    )
    .await?;
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "stop" {
            line.clear();
        }
        let _ = stop_tx.send(());
    });
    let mut status = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = status.tick() => {
                let s = node.stats();
                let owned: Vec<u32> = node.ownership().borrow().keys().copied().collect();
                println!(
                    "{} shards {owned:?}, {} channels, published {}, fenced {}, permits from Redis {} (local share {})",
                    owned.len(),
                    NodeStats::get(&s.subscribed),
                    NodeStats::get(&s.published),
                    NodeStats::get(&s.fenced),
                    limiter.granted_by(Source::Redis),
                    limiter.granted_by(Source::LocalShare),
                );
            }
            _ = &mut stop_rx => break,
        }
    }
    node.shutdown().await;
    println!("left gracefully");
    let _ = client.close().await;
    Ok(())
}

/// A node child process; killed when dropped.
struct NodeProcess {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl NodeProcess {
    fn spawn(name: &str, redis_url: &str, ws_url: &str) -> std::io::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["node", redis_url, ws_url, name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let prefix = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("  [{prefix}] {line}");
            }
        });
        let stdin = child.stdin.take();
        Ok(NodeProcess {
            name: name.to_owned(),
            child,
            stdin,
        })
    }

    fn stop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the consumer saw of one shard.
#[derive(Default)]
struct ShardView {
    /// When it last delivered, and by which node (name).
    last: Option<(Instant, String)>,
    /// The longest time between two deliveries, and when it ended.
    max_gap: Duration,
}

/// The consumer's record: per shard, and events per channel.
#[derive(Default)]
struct Watch {
    shards: BTreeMap<u32, ShardView>,
    channels: BTreeSet<String>,
    delivered: u64,
}

impl Watch {
    fn record(&mut self, shard: u32, channel: &str, fence: &str, at: Instant) {
        let node = fence.split(':').next().unwrap_or("?").to_owned();
        let view = self.shards.entry(shard).or_default();
        if let Some((last, _)) = &view.last {
            view.max_gap = view.max_gap.max(at - *last);
        }
        view.last = Some((at, node));
        self.delivered += 1;
        if !self.channels.contains(channel) {
            self.channels.insert(channel.to_owned());
        }
    }

    fn owners(&self) -> BTreeMap<u32, String> {
        self.shards
            .iter()
            .filter_map(|(s, v)| v.last.as_ref().map(|(_, n)| (*s, n.clone())))
            .collect()
    }

    fn reset_gaps(&mut self) {
        for view in self.shards.values_mut() {
            view.max_gap = Duration::ZERO;
        }
    }
}

/// Consumes until `done` says so or `within` runs out.
async fn consume_until(
    consumer: &mut Consumer,
    watch: &mut Watch,
    within: Duration,
    mut done: impl FnMut(&Watch) -> bool,
) -> Result<bool, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let batch = consumer.next().await?;
        let now = Instant::now();
        for d in &batch {
            watch.record(d.shard, &d.channel, &d.fence, now);
        }
        consumer.commit(&batch).await?;
        if done(watch) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Shards that `from` served and that now deliver from another node, with
/// their gap; prints them.
fn report_moves(watch: &Watch, before: &BTreeMap<u32, String>, from: &str) -> Duration {
    let after = watch.owners();
    let mut worst = Duration::ZERO;
    println!("  shard  from    -> to      longest gap");
    for (shard, owner) in before.iter().filter(|(_, o)| *o == from) {
        let gap = watch.shards[shard].max_gap;
        worst = worst.max(gap);
        println!(
            "  {shard:>5}  {owner} -> {}  {:>6} ms",
            after[shard],
            gap.as_millis()
        );
    }
    worst
}

/// How one node's departure went.
struct Departure {
    /// Whether every shard it served delivers from another node now.
    moved: bool,
    /// When that was seen, after the departure began.
    after: Duration,
    /// The longest time a moved shard went without an update.
    worst_gap: Duration,
}

/// Makes node `name` go (`leave`, then prints `said`), consumes until its
/// shards deliver from other nodes (at most three leases) and half a second
/// more, and reports each moved shard's gap.
async fn watch_leave(
    consumer: &mut Consumer,
    watch: &mut Watch,
    name: &str,
    leave: impl FnOnce() -> std::io::Result<()>,
    said: &str,
) -> Result<Departure, Box<dyn std::error::Error>> {
    let before = watch.owners();
    watch.reset_gaps();
    let began = Instant::now();
    leave()?;
    println!("{said}");
    let moved = |w: &Watch| w.owners().values().all(|o| o != name);
    let moved = consume_until(consumer, watch, LEASE * 3, moved).await?;
    let after = began.elapsed();
    consume_until(consumer, watch, Duration::from_millis(500), |_| false).await?;
    let worst_gap = report_moves(watch, &before, name);
    Ok(Departure {
        moved,
        after,
        worst_gap,
    })
}

async fn orchestrate() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let redis = RedisServer::start();
    let mock = MockBinance::start(MockConfig {
        symbols: symbols(),
        tick: TICK,
        ..MockConfig::default()
    });
    let ws_url = format!("{}/stream", mock.base_url());
    println!(
        "redis-server on {}, mock Binance on {} ({} channels, a move every {TICK:?}); {SHARDS} shards, lease {LEASE:?}",
        redis.addr(),
        mock.addr(),
        channels().len()
    );
    let mut nodes: Vec<NodeProcess> = (0..3)
        .map(|i| NodeProcess::spawn(&format!("node-{i}"), &redis.url(), &ws_url))
        .collect::<Result<_, _>>()?;

    let client = redis::Client::open(redis.url())?;
    let con = connection(client, Duration::from_secs(2)).await?;
    let mut consumer =
        Consumer::new(con, ConsumerConfig::new(PREFIX, SHARDS, "demo", "consumer")).await?;
    let mut watch = Watch::default();
    let all = channels().len();
    let settled = consume_until(&mut consumer, &mut watch, Duration::from_secs(15), |w| {
        let owners = w.owners();
        let mut per_node: BTreeMap<&String, u32> = BTreeMap::new();
        for o in owners.values() {
            *per_node.entry(o).or_default() += 1;
        }
        w.channels.len() == all
            && per_node.len() == 3
            && per_node.values().all(|&n| n <= SHARDS.div_ceil(3))
    })
    .await?;
    println!(
        "all {all} channels flowing from 3 nodes: {settled} ({:?} since start)",
        started.elapsed()
    );
    consume_until(&mut consumer, &mut watch, Duration::from_secs(1), |_| false).await?;

    // Crash: SIGKILL, nothing released.
    let victim = nodes[1].name.clone();
    let kill = || nodes[1].child.kill();
    let said = format!("killed {victim} (SIGKILL); its shards wait for their leases to run out");
    let crash = watch_leave(&mut consumer, &mut watch, &victim, kill, &said).await?;
    println!(
        "all of {victim}'s shards moved: {}, {} ms after the kill",
        crash.moved,
        crash.after.as_millis()
    );
    let (ok, crash_gap) = (crash.moved, crash.worst_gap);

    // Graceful: the node releases its shards and wakes the others.
    let leaving = nodes[0].name.clone();
    let stop = || {
        nodes[0].stop();
        Ok(())
    };
    let said = format!("asked {leaving} to leave gracefully");
    let leave = watch_leave(&mut consumer, &mut watch, &leaving, stop, &said).await?;
    println!(
        "all of {leaving}'s shards moved: {}, {} ms after the request",
        leave.moved,
        leave.after.as_millis()
    );
    let (ok_graceful, leave_gap) = (leave.moved, leave.worst_gap);

    let bound = LEASE + LEASE / 3 + Duration::from_millis(500);
    println!("\nsummary ({:?} in all)", started.elapsed());
    println!(
        "  events delivered to the consumer: {}, duplicates skipped: {}",
        watch.delivered,
        consumer.duplicates()
    );
    println!(
        "  crash (SIGKILL): longest gap of a moved shard {} ms; bound lease + renewal + 500 ms = {} ms: {}",
        crash_gap.as_millis(),
        bound.as_millis(),
        if crash_gap <= bound && ok {
            "within"
        } else {
            "EXCEEDED"
        }
    );
    println!(
        "  graceful leave: longest gap of a moved shard {} ms (lease {} ms)",
        leave_gap.as_millis(),
        LEASE.as_millis()
    );
    let mock_stats = mock.stats();
    println!(
        "  mock Binance: {} SUBSCRIBE requests, {} connections cut for sending too fast",
        mock_stats.subscribe_requests,
        mock_stats.ended(EndReason::TooManyMessages)
    );
    for n in &mut nodes {
        n.stop();
    }
    drop(nodes);
    if crash_gap > bound || !ok || !ok_graceful {
        return Err("a moved shard's gap exceeded the bound".into());
    }
    Ok(())
}
