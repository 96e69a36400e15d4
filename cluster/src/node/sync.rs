//! Keeping the exchange subscriptions in step with the shards held.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::watch;
use wsnova_tokio::Client;

use super::{NodeConfig, NodeStats};
use crate::shards::Ownership;

fn channels<'a>(
    by_shard: &'a BTreeMap<u32, Vec<String>>,
    shards: impl Iterator<Item = &'a u32>,
) -> Vec<&'a str> {
    shards
        .filter_map(|s| by_shard.get(s))
        .flatten()
        .map(String::as_str)
        .collect()
}

/// Unsubscribes the channels of shards lost and subscribes those of shards
/// gained, at every ownership change, until the manager stops.
pub(super) async fn run(
    client: Client,
    mut ownership: watch::Receiver<Ownership>,
    by_shard: BTreeMap<u32, Vec<String>>,
    config: NodeConfig,
    stats: Arc<NodeStats>,
) {
    let mut held = BTreeSet::new();
    loop {
        let want: BTreeSet<u32> = ownership.borrow_and_update().keys().copied().collect();
        let lost = channels(&by_shard, held.difference(&want));
        let gained = channels(&by_shard, want.difference(&held));
        for chunk in lost.chunks(config.subscribe_chunk.max(1)) {
            if let Err(e) = client.unsubscribe(chunk).await {
                tracing::warn!("unsubscribe failed: {e}");
            }
        }
        for chunk in gained.chunks(config.subscribe_chunk.max(1)) {
            if let Err(e) = client
                .subscribe_timeout(chunk, config.subscribe_timeout)
                .await
            {
                tracing::warn!("subscribe failed: {e}");
            }
        }
        held = want;
        let count = channels(&by_shard, held.iter()).len() as u64;
        stats.subscribed.store(count, Ordering::Relaxed);
        if ownership.changed().await.is_err() {
            break;
        }
    }
}
