//! How many shards, how long a lease lasts, how often it is renewed.

use std::time::Duration;

/// The shard layout and lease timing, the same on every node.
#[derive(Debug, Clone)]
pub struct ShardConfig {
    /// Prefix of every Redis key (several clusters can share one Redis).
    pub prefix: String,
    /// The number of shards channels are hashed into.
    pub shards: u32,
    /// How long a lease lasts without renewal: the longest a dead node's
    /// shards stay unowned.
    pub lease: Duration,
    /// How often leases are renewed (and free shards looked for): a third of
    /// the lease by default, so two renewals may fail before it runs out.
    pub renew_every: Duration,
    /// Whether nodes are woken when a lease expires (Redis keyspace
    /// notifications: `notify-keyspace-events` gains `Ex`, which needs
    /// `CONFIG SET`), so a crashed node's shards are taken as soon as Redis
    /// expires its leases rather than at the next round. Off by default: it
    /// changes the server's configuration.
    pub expiry_wake: bool,
}

impl Default for ShardConfig {
    fn default() -> Self {
        ShardConfig::new("wsnova", 32, Duration::from_secs(3))
    }
}

impl ShardConfig {
    /// `shards` shards under `prefix`, renewed every `lease / 3`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsnova_cluster::shards::ShardConfig;
    /// let c = ShardConfig::new("demo", 16, Duration::from_millis(900));
    /// assert_eq!(c.renew_every, Duration::from_millis(300));
    /// ```
    pub fn new(prefix: &str, shards: u32, lease: Duration) -> Self {
        ShardConfig {
            prefix: prefix.to_owned(),
            shards,
            lease,
            renew_every: lease / 3,
            expiry_wake: false,
        }
    }

    /// The lease in whole milliseconds (Redis's `PX` unit), at least 1.
    pub fn lease_ms(&self) -> u64 {
        (self.lease.as_millis() as u64).max(1)
    }
}
