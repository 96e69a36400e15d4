//! One balancing round: heartbeat, renew, release the surplus, claim up to
//! the fair share.

use super::store::{LeaseStore, Ownership, Renewal};
use super::{ShardError, shard_of};

/// The order in which a node prefers shards: starting at a point derived
/// from its id, so nodes claiming at once mostly try different shards.
/// Claims go front to back; surplus is released from the back.
pub(crate) fn preference(node: &str, shards: u32) -> Vec<u32> {
    let start = shard_of(node, shards);
    (0..shards).map(|i| (start + i) % shards).collect()
}

/// The fair share: `ceil(shards / live nodes)`.
pub(crate) fn target(shards: u32, live: u32) -> u32 {
    shards.div_ceil(live.max(1))
}

/// Runs one round; returns whether this node released any shard (the other
/// nodes are then woken to take it).
pub(crate) async fn round(
    store: &mut LeaseStore,
    owned: &mut Ownership,
    order: &[u32],
) -> Result<bool, ShardError> {
    let live = store.heartbeat().await?;
    let target = target(order.len() as u32, live) as usize;

    let mut lost = Vec::new();
    for lease in owned.values_mut() {
        match store.renew(lease).await? {
            Renewal::Renewed => {}
            other => lost.push((lease.shard, other)),
        }
    }
    for (shard, why) in lost {
        owned.remove(&shard);
        // Gone without anyone taking it (our stall, or Redis lost its data):
        // claim it again, under a new token, so stale writes stay fenced.
        if why == Renewal::Vanished {
            if let Some(lease) = store.claim(shard).await? {
                owned.insert(shard, lease);
            }
        }
    }

    let mut released = false;
    for &shard in order.iter().rev() {
        if owned.len() <= target {
            break;
        }
        if let Some(lease) = owned.remove(&shard) {
            store.release(&lease).await?;
            released = true;
        }
    }

    if owned.len() < target {
        let holders = store.holders(order.len() as u32).await?;
        for &shard in order {
            if owned.len() >= target {
                break;
            }
            if holders[shard as usize].is_none() && !owned.contains_key(&shard) {
                if let Some(lease) = store.claim(shard).await? {
                    owned.insert(shard, lease);
                }
            }
        }
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::{preference, target};

    #[test]
    fn fair_share_rounds_up() {
        assert_eq!(target(32, 3), 11);
        assert_eq!(target(32, 2), 16);
        assert_eq!(target(32, 0), 32);
    }

    #[test]
    fn preference_is_a_rotation() {
        let mut order = preference("node-a", 16);
        assert_eq!(order.len(), 16);
        order.sort_unstable();
        assert_eq!(order, (0..16).collect::<Vec<_>>());
    }
}
