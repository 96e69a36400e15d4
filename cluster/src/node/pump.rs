//! Updates from the exchange to the shard streams.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::value::RawValue;
use tokio::sync::{mpsc, watch};
use wsnova_core::session::Adapter;
use wsnova_tokio::{Event, Events};

use super::NodeStats;
use crate::fanout::{Entry, FanoutError, Publisher};
use crate::shards::{Ownership, shard_of};

/// An update on its way: shard, fence at the time it arrived, entry.
pub(super) type Pending = (u32, String, Entry);

/// The dedupe id of an update: `channel#id` from the exchange's update id,
/// else `channel#h…` from a hash of the payload.
pub(super) fn update_id<A: Adapter>(adapter: &A, channel: &str, data: &str) -> String {
    let id = serde_json::from_str::<&RawValue>(data)
        .ok()
        .and_then(|raw| adapter.update_id(channel, raw));
    match id {
        Some(seq) => format!("{channel}#{}", seq.id),
        None => format!("{channel}#h{:016x}", crate::shards::fnv1a(data.as_bytes())),
    }
}

/// Reads notifications and queues those of held shards for writing.
pub(super) async fn read<A: Adapter>(
    mut events: Events,
    ownership: watch::Receiver<Ownership>,
    shards: u32,
    adapter: A,
    tx: mpsc::Sender<Pending>,
    stats: Arc<NodeStats>,
) {
    while let Some(event) = events.recv().await {
        let Event::Notification { channel, data } = event else {
            continue;
        };
        let shard = shard_of(&channel, shards);
        let fence = ownership.borrow().get(&shard).map(|l| l.fence.clone());
        let Some(fence) = fence else {
            stats.unowned.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let data = data.as_str().to_owned();
        let id = update_id(&adapter, &channel, &data);
        let entry = Entry { id, channel, data };
        if tx.try_send((shard, fence, entry)).is_err() {
            stats.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Writes queued updates, batched per shard and fence.
pub(super) async fn write(
    mut rx: mpsc::Receiver<Pending>,
    mut publisher: Publisher,
    stats: Arc<NodeStats>,
) {
    let mut buf = Vec::with_capacity(512);
    while rx.recv_many(&mut buf, 512).await > 0 {
        let mut groups: BTreeMap<(u32, String), Vec<Entry>> = BTreeMap::new();
        for (shard, fence, entry) in buf.drain(..) {
            groups.entry((shard, fence)).or_default().push(entry);
        }
        for ((shard, fence), entries) in groups {
            let n = entries.len() as u64;
            match publisher.publish_fenced(shard, &fence, &entries).await {
                Ok(_) => stats.published.fetch_add(n, Ordering::Relaxed),
                Err(FanoutError::Fenced { .. }) => stats.fenced.fetch_add(n, Ordering::Relaxed),
                Err(e) => {
                    tracing::warn!(shard, "publish failed: {e}");
                    stats.failed.fetch_add(n, Ordering::Relaxed)
                }
            };
        }
    }
}
