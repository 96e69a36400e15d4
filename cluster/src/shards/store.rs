//! One node's lease operations against Redis, one call each.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use super::scripts::{CLAIM, HEARTBEAT, RELEASE, RENEW};
use super::{Keys, ShardError};

/// A shard this node holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The shard.
    pub shard: u32,
    /// Its fencing token: grows with every claim of the shard.
    pub token: u64,
    /// The lease's value in Redis, `node id:token`: writes for the shard
    /// carry it and are refused once it is no longer the current one.
    pub fence: String,
    /// Until when the lease is surely valid, by this node's clock: the start
    /// of the last successful claim or renewal plus the lease. Redis counts
    /// from when it got the command, a little later, so this errs early.
    pub valid_until: Instant,
}

/// The shards a node holds, by shard number.
pub type Ownership = BTreeMap<u32, Lease>;

/// What a renewal found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// Still ours, for another lease.
    Renewed,
    /// The lease is gone (expired, or Redis lost its data): free to claim.
    Vanished,
    /// Another node holds it now.
    Taken,
}

/// Lease operations for one node id.
///
/// ```no_run
/// # async fn demo(con: redis::aio::ConnectionManager) -> Result<(), wsnova_cluster::shards::ShardError> {
/// use std::time::Duration;
/// use wsnova_cluster::shards::{Keys, LeaseStore};
/// let mut store = LeaseStore::new(con, Keys::new("demo"), "node-a", Duration::from_secs(3));
/// if let Some(lease) = store.claim(7).await? {
///     println!("shard 7 is mine with token {}", lease.token);
///     store.release(&lease).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LeaseStore {
    con: ConnectionManager,
    keys: Keys,
    node: String,
    lease: Duration,
}

impl std::fmt::Debug for LeaseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseStore")
            .field("node", &self.node)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl LeaseStore {
    /// Leases of `lease` length for `node`, on `con`.
    pub fn new(con: ConnectionManager, keys: Keys, node: &str, lease: Duration) -> Self {
        LeaseStore {
            con,
            keys,
            node: node.to_owned(),
            lease,
        }
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The key names.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn lease_ms(&self) -> u64 {
        (self.lease.as_millis() as u64).max(1)
    }

    /// Claims `shard` if nobody holds it: `Some(lease)` with a new token.
    pub async fn claim(&mut self, shard: u32) -> Result<Option<Lease>, ShardError> {
        let start = Instant::now();
        let token: u64 = CLAIM
            .key(self.keys.owner(shard))
            .key(self.keys.token(shard))
            .arg(&self.node)
            .arg(self.lease_ms())
            .invoke_async(&mut self.con)
            .await?;
        Ok((token > 0).then(|| Lease {
            shard,
            token,
            fence: format!("{}:{token}", self.node),
            valid_until: start + self.lease,
        }))
    }

    /// Renews `lease` if it is still ours (then moves its `valid_until`).
    pub async fn renew(&mut self, lease: &mut Lease) -> Result<Renewal, ShardError> {
        let start = Instant::now();
        let answer: i64 = RENEW
            .key(self.keys.owner(lease.shard))
            .arg(&lease.fence)
            .arg(self.lease_ms())
            .invoke_async(&mut self.con)
            .await?;
        Ok(match answer {
            1 => {
                lease.valid_until = start + self.lease;
                Renewal::Renewed
            }
            0 => Renewal::Vanished,
            _ => Renewal::Taken,
        })
    }

    /// Deletes `lease` if it is still ours; whether it was.
    pub async fn release(&mut self, lease: &Lease) -> Result<bool, ShardError> {
        let deleted: i64 = RELEASE
            .key(self.keys.owner(lease.shard))
            .arg(&lease.fence)
            .invoke_async(&mut self.con)
            .await?;
        Ok(deleted == 1)
    }

    /// Refreshes this node's heartbeat; the number of live nodes.
    pub async fn heartbeat(&mut self) -> Result<u32, ShardError> {
        Ok(HEARTBEAT
            .key(self.keys.nodes())
            .arg(&self.node)
            .arg(self.lease_ms())
            .invoke_async(&mut self.con)
            .await?)
    }

    /// Removes this node's heartbeat (graceful leave).
    pub async fn leave(&mut self) -> Result<(), ShardError> {
        redis::cmd("ZREM")
            .arg(self.keys.nodes())
            .arg(&self.node)
            .exec_async(&mut self.con)
            .await?;
        Ok(())
    }

    /// Who holds each of `shards` now (`None`: free): the fences, read in one
    /// `MGET`.
    pub async fn holders(&mut self, shards: u32) -> Result<Vec<Option<String>>, ShardError> {
        let keys: Vec<String> = (0..shards).map(|s| self.keys.owner(s)).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        Ok(redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.con)
            .await?)
    }

    /// Publishes on the wake channel: other nodes run a round now.
    pub async fn wake_others(&mut self) -> Result<(), ShardError> {
        redis::cmd("PUBLISH")
            .arg(self.keys.wake())
            .arg(&self.node)
            .exec_async(&mut self.con)
            .await?;
        Ok(())
    }
}
