//! Redis key names, all under one prefix.

/// The Redis keys of one cluster.
///
/// ```
/// use wsnova_cluster::shards::Keys;
/// let k = Keys::new("demo");
/// assert_eq!(k.owner(3), "demo:shard:3:owner");
/// assert_eq!(k.stream(3), "demo:stream:3");
/// ```
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// The lease of `shard`: its value is the holder's fence, `node:token`.
    pub fn owner(&self, shard: u32) -> String {
        format!("{}:shard:{shard}:owner", self.prefix)
    }

    /// The fencing-token counter of `shard` (`INCR` on every claim).
    pub fn token(&self, shard: u32) -> String {
        format!("{}:shard:{shard}:token", self.prefix)
    }

    /// The sorted set of live nodes (score: heartbeat expiry, ms).
    pub fn nodes(&self) -> String {
        format!("{}:nodes", self.prefix)
    }

    /// The pub/sub channel that wakes nodes when shards are released or a
    /// node joins.
    pub fn wake(&self) -> String {
        format!("{}:wake", self.prefix)
    }

    /// The event stream of `shard`.
    pub fn stream(&self, shard: u32) -> String {
        format!("{}:stream:{shard}", self.prefix)
    }

    /// The mark that the consumer group `group` delivered event `id`.
    pub fn seen(&self, group: &str, id: &str) -> String {
        format!("{}:seen:{group}:{id}", self.prefix)
    }
}
