//! Fenced appends to a shard's stream.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionManager;

use super::FanoutError;
use crate::shards::{Keys, Lease};

/// KEYS: owner, stream. ARGV: fence, maxlen, then (id, channel, data) per
/// entry. Returns the number of entries added, or -1 when fenced off.
static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = 0
for i = 3, #ARGV, 3 do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
    'id', ARGV[i], 'ch', ARGV[i + 1], 'data', ARGV[i + 2], 'fence', ARGV[1])
  n = n + 1
end
return n
",
    )
});

/// Where the streams live and how long they grow.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// The key prefix (the same as [`ShardConfig::prefix`](crate::shards::ShardConfig::prefix)).
    pub prefix: String,
    /// About how many entries each shard's stream keeps (`MAXLEN ~`).
    pub maxlen: u64,
}

impl StreamConfig {
    /// Streams under `prefix` keeping about `maxlen` entries each.
    pub fn new(prefix: &str, maxlen: u64) -> Self {
        StreamConfig {
            prefix: prefix.to_owned(),
            maxlen,
        }
    }
}

/// One event to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The id consumers deduplicate on: `channel#exchange id`.
    pub id: String,
    /// The channel it came from.
    pub channel: String,
    /// The payload, as the exchange sent it.
    pub data: String,
}

/// Appends events to shard streams, fenced by the writer's lease.
///
/// ```no_run
/// # async fn demo(con: redis::aio::ConnectionManager, lease: wsnova_cluster::shards::Lease) -> Result<(), wsnova_cluster::fanout::FanoutError> {
/// use wsnova_cluster::fanout::{Entry, Publisher, StreamConfig};
/// let mut publisher = Publisher::new(con, StreamConfig::new("demo", 10_000));
/// let entry = Entry { id: "btcusdt@trade#7".into(), channel: "btcusdt@trade".into(), data: "{}".into() };
/// publisher.publish(&lease, &[entry]).await?; // Err(Fenced) once the lease is lost
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Publisher {
    con: ConnectionManager,
    keys: Keys,
    maxlen: u64,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("maxlen", &self.maxlen)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// A publisher on `con`.
    pub fn new(con: ConnectionManager, config: StreamConfig) -> Self {
        Publisher {
            con,
            keys: Keys::new(&config.prefix),
            maxlen: config.maxlen,
        }
    }

    /// Appends `entries` to `lease.shard`'s stream, all or none, if the
    /// shard's lease still carries `lease.fence`; the number appended.
    pub async fn publish(
        &mut self,
        lease: &Lease,
        entries: &[Entry],
    ) -> Result<usize, FanoutError> {
        self.publish_fenced(lease.shard, &lease.fence, entries)
            .await
    }

    /// [`publish`](Self::publish) with the shard and fence given apart.
    pub async fn publish_fenced(
        &mut self,
        shard: u32,
        fence: &str,
        entries: &[Entry],
    ) -> Result<usize, FanoutError> {
        let mut call = PUBLISH.prepare_invoke();
        call.key(self.keys.owner(shard))
            .key(self.keys.stream(shard))
            .arg(fence)
            .arg(self.maxlen);
        for e in entries {
            call.arg(&e.id).arg(&e.channel).arg(&e.data);
        }
        let added: i64 = call.invoke_async(&mut self.con).await?;
        usize::try_from(added).map_err(|_| FanoutError::Fenced { shard })
    }
}
