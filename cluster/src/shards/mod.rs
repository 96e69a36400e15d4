//! Subscription ownership: channels grouped into shards, each shard held by
//! one node at a time under a lease with a fencing token.
//!
//! * A channel's shard is a stable hash of its name ([`shard_of`]): every
//!   node, every version, maps it the same way.
//! * A node claims a free shard atomically (a Lua script: set-if-absent with
//!   a `PX` expiry, plus `INCR` of the shard's token), renews its leases every
//!   [`ShardConfig::renew_every`] (a third of the lease by default) and drops
//!   a lease locally once it could not renew it within the lease.
//! * The lease's value is its [`Lease::fence`] (`node id:token`); a write for
//!   the shard ([`fanout::Publisher`](crate::fanout::Publisher)) is accepted
//!   only while the shard's current value is still that fence, so a node that
//!   stalled past its lease cannot write for a shard another node took.
//! * Balance: live nodes keep a heartbeat in a sorted set (score: expiry in
//!   Redis's clock); each aims at `ceil(shards / live nodes)` shards,
//!   releasing its surplus and claiming free shards up to that.
//! * A graceful [`ShardHandle::shutdown`] deletes its leases (only where
//!   they are still its own) and wakes the other nodes through a Redis
//!   pub/sub channel, so they take the shards at once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wsnova_cluster::shards::ShardError> {
//! use wsnova_cluster::shards::{ShardConfig, ShardManager};
//! let redis = redis::Client::open("redis://127.0.0.1:6379/")?;
//! let handle = ShardManager::start(redis, ShardConfig::default(), "node-a").await?;
//! let mut ownership = handle.ownership();
//! ownership.changed().await.ok();
//! println!("I hold {:?}", ownership.borrow().keys().collect::<Vec<_>>());
//! handle.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod hash;
mod keys;
mod manager;
mod round;
mod scripts;
mod store;
mod wake;

pub use config::ShardConfig;
pub(crate) use hash::fnv1a;
pub use hash::shard_of;
pub use keys::Keys;
pub use manager::{ShardHandle, ShardManager, connection, unique_node_id};
pub use store::{Lease, LeaseStore, Ownership, Renewal};

/// What can go wrong talking to Redis about shards.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// Redis answered with an error or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A round did not finish within its time.
    #[error("redis did not answer within {0:?}")]
    Timeout(std::time::Duration),
}
