//! A node: holds the shards it owns by subscribing to their channels on the
//! exchange (through a wsnova-tokio [`Client`]) and publishes every update
//! to the shard's stream, fenced by its lease.
//!
//! * On gaining a shard it subscribes to the shard's channels; on losing
//!   one (released for balance, taken by another node, lease run out) it
//!   unsubscribes.
//! * Each update gets the id `channel#n`, `n` the exchange's update id
//!   ([`Adapter::update_id`]) or, where the stream has none, `hN`, a hash of
//!   the payload; consumers deduplicate on it.
//! * Updates for shards it does not hold (just lost, not yet unsubscribed)
//!   are dropped, and writes the lease no longer covers are refused by Redis
//!   (counted as fenced in [`NodeStats`]).
//!
//! ```no_run
//! # async fn demo(client: wsnova_tokio::Client, events: wsnova_tokio::Events) -> Result<(), Box<dyn std::error::Error>> {
//! use wsnova_cluster::node::{Node, NodeConfig};
//! use wsnova_cluster::shards::{unique_node_id, ShardConfig};
//! use wsnova_tokio::adapters::binance::{Binance, Market};
//! let redis = redis::Client::open("redis://127.0.0.1:6379/")?;
//! let channels = vec!["btcusdt@trade".to_owned(), "ethusdt@trade".to_owned()];
//! let config = NodeConfig::new(ShardConfig::default(), channels);
//! let node = Node::start(redis, &unique_node_id("a"), config, client, events, Binance::new(Market::Spot)).await?;
//! // … later:
//! node.shutdown().await; // hands its shards over at once
//! # Ok(()) }
//! ```

mod pump;
mod sync;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use wsnova_core::session::Adapter;
use wsnova_tokio::{Client, Events};

use crate::fanout::{Publisher, StreamConfig};
use crate::shards::{Ownership, ShardConfig, ShardError, ShardHandle, ShardManager, shard_of};

/// A node's shards, channels and stream bound.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Shard layout and leases (the same on every node).
    pub shards: ShardConfig,
    /// Every channel of the cluster; this node holds those of its shards.
    pub channels: Vec<String>,
    /// About how many entries each shard stream keeps.
    pub maxlen: u64,
    /// Channels per subscribe request.
    pub subscribe_chunk: usize,
    /// How long a subscribe may wait for its confirmation.
    pub subscribe_timeout: Duration,
}

impl NodeConfig {
    /// `channels` over `shards`, streams of about 10 000 entries, subscribes
    /// of 100 channels waiting up to 5 s.
    pub fn new(shards: ShardConfig, channels: Vec<String>) -> Self {
        NodeConfig {
            shards,
            channels,
            maxlen: 10_000,
            subscribe_chunk: 100,
            subscribe_timeout: Duration::from_secs(5),
        }
    }
}

/// A node's counters.
#[derive(Debug, Default)]
pub struct NodeStats {
    /// Updates written to a stream.
    pub published: AtomicU64,
    /// Updates refused because the lease no longer carried our fence.
    pub fenced: AtomicU64,
    /// Updates for shards not held (dropped before any write).
    pub unowned: AtomicU64,
    /// Updates lost to Redis errors or a full queue.
    pub failed: AtomicU64,
    /// Channels currently subscribed.
    pub subscribed: AtomicU64,
}

impl NodeStats {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    shards: Option<ShardHandle>,
    stats: Arc<NodeStats>,
    tasks: Vec<JoinHandle<()>>,
}

impl Node {
    /// Starts keeping leases as `node_id` and serving the owned shards
    /// through `client` (whose notifications arrive on `events`); `adapter`
    /// gives the update ids.
    pub async fn start<A: Adapter + Send + Sync + 'static>(
        redis: redis::Client,
        node_id: &str,
        config: NodeConfig,
        client: Client,
        events: Events,
        adapter: A,
    ) -> Result<Node, ShardError> {
        let con = crate::shards::connection(redis.clone(), config.shards.renew_every).await?;
        let publisher =
            Publisher::new(con, StreamConfig::new(&config.shards.prefix, config.maxlen));
        let shards = ShardManager::start(redis, config.shards.clone(), node_id).await?;
        let stats = Arc::new(NodeStats::default());
        let mut by_shard: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for channel in &config.channels {
            by_shard
                .entry(shard_of(channel, config.shards.shards))
                .or_default()
                .push(channel.clone());
        }
        let (tx, rx) = mpsc::channel(65_536);
        let tasks = vec![
            tokio::spawn(sync::run(
                client,
                shards.ownership(),
                by_shard,
                config.clone(),
                Arc::clone(&stats),
            )),
            tokio::spawn(pump::read(
                events,
                shards.ownership(),
                config.shards.shards,
                adapter,
                tx,
                Arc::clone(&stats),
            )),
            tokio::spawn(pump::write(rx, publisher, Arc::clone(&stats))),
        ];
        Ok(Node {
            shards: Some(shards),
            stats,
            tasks,
        })
    }

    /// The node's counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// The shards it holds (see [`ShardHandle::ownership`]).
    pub fn ownership(&self) -> watch::Receiver<Ownership> {
        self.shards.as_ref().map_or_else(
            || watch::channel(Ownership::new()).1,
            ShardHandle::ownership,
        )
    }

    /// Hands every shard over at once, then stops.
    pub async fn shutdown(mut self) {
        if let Some(shards) = self.shards.take() {
            shards.shutdown().await;
        }
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }

    /// Stops at once without handing anything over, as a crash would.
    pub fn abort(mut self) {
        if let Some(shards) = self.shards.take() {
            shards.abort();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
