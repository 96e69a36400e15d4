//! Reading every shard's stream through a consumer group, with pending
//! entries of dead consumers claimed and already-delivered ids skipped.

use std::time::{Duration, Instant};

use redis::RedisError;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};

use super::FanoutError;
use crate::shards::Keys;

/// A consumer's place in a group.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The key prefix.
    pub prefix: String,
    /// The number of shards (one stream each).
    pub shards: u32,
    /// The consumer group: each entry goes to one consumer of the group.
    pub group: String,
    /// This consumer's name, unique in the group.
    pub name: String,
    /// Entries read per stream per call.
    pub count: usize,
    /// How long a read waits for new entries.
    pub block: Duration,
    /// Entries pending longer than this with another consumer are taken over.
    pub claim_idle: Duration,
    /// How long delivered ids are remembered for deduplication.
    pub dedupe_ttl: Duration,
}

impl ConsumerConfig {
    /// Consumer `name` of `group` over `shards` streams under `prefix`;
    /// reads up to 256 entries per stream, waits 100 ms, claims entries idle
    /// for 5 s, remembers ids for 10 minutes.
    pub fn new(prefix: &str, shards: u32, group: &str, name: &str) -> Self {
        ConsumerConfig {
            prefix: prefix.to_owned(),
            shards,
            group: group.to_owned(),
            name: name.to_owned(),
            count: 256,
            block: Duration::from_millis(100),
            claim_idle: Duration::from_secs(5),
            dedupe_ttl: Duration::from_secs(600),
        }
    }
}

/// One event handed to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The shard it was published for.
    pub shard: u32,
    /// Its stream entry id (what [`Consumer::ack`] acknowledges).
    pub entry: String,
    /// The deduplication id, `channel#exchange id`.
    pub id: String,
    /// The channel.
    pub channel: String,
    /// The payload.
    pub data: String,
    /// The publisher's fence, `node:token`.
    pub fence: String,
}

/// A consumer of a group over all shard streams.
///
/// ```no_run
/// # async fn demo(con: redis::aio::ConnectionManager) -> Result<(), wsnova_cluster::fanout::FanoutError> {
/// use wsnova_cluster::fanout::{Consumer, ConsumerConfig};
/// let mut consumer = Consumer::new(con, ConsumerConfig::new("demo", 32, "app", "c1")).await?;
/// loop {
///     let batch = consumer.next().await?;
///     for d in &batch {
///         println!("{} {}", d.channel, d.data);
///     }
///     consumer.commit(&batch).await?; // mark the ids, then XACK
/// }
/// # }
/// ```
pub struct Consumer {
    con: ConnectionManager,
    keys: Keys,
    config: ConsumerConfig,
    streams: Vec<String>,
    next_claim: Instant,
    duplicates: u64,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("group", &self.config.group)
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

fn is_code(e: &RedisError, code: &str) -> bool {
    e.code() == Some(code) || e.to_string().contains(code)
}

impl Consumer {
    /// Joins the group, creating it (and the streams) where missing. Use a
    /// connection of its own: reads block it for up to `block`.
    pub async fn new(con: ConnectionManager, config: ConsumerConfig) -> Result<Self, FanoutError> {
        let keys = Keys::new(&config.prefix);
        let streams = (0..config.shards).map(|s| keys.stream(s)).collect();
        let mut consumer = Consumer {
            con,
            keys,
            config,
            streams,
            next_claim: Instant::now(),
            duplicates: 0,
        };
        consumer.create_groups().await?;
        Ok(consumer)
    }

    /// Entries skipped because their id was already delivered.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    async fn create_groups(&mut self) -> Result<(), FanoutError> {
        for stream in &self.streams {
            let created: Result<(), RedisError> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(stream)
                .arg(&self.config.group)
                .arg("0")
                .arg("MKSTREAM")
                .exec_async(&mut self.con)
                .await;
            match created {
                Err(e) if !is_code(&e, "BUSYGROUP") => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The next entries: pending ones taken over from dead consumers first,
    /// then new ones (waiting up to `block`), without those already
    /// delivered (which are acknowledged here). May be empty.
    pub async fn next(&mut self) -> Result<Vec<Delivery>, FanoutError> {
        match self.read().await {
            Err(FanoutError::Redis(e)) if is_code(&e, "NOGROUP") => {
                // Redis lost its data (a restart): the group starts again.
                self.create_groups().await?;
                Ok(Vec::new())
            }
            other => other,
        }
    }

    async fn read(&mut self) -> Result<Vec<Delivery>, FanoutError> {
        let mut raw: Vec<(u32, StreamId)> = Vec::new();
        if Instant::now() >= self.next_claim {
            self.next_claim = Instant::now() + self.config.claim_idle / 2;
            let idle = self.config.claim_idle.as_millis() as u64;
            for (shard, stream) in self.streams.iter().enumerate() {
                let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                    .arg(stream)
                    .arg(&self.config.group)
                    .arg(&self.config.name)
                    .arg(idle)
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(self.config.count)
                    .query_async(&mut self.con)
                    .await?;
                raw.extend(reply.claimed.into_iter().map(|id| (shard as u32, id)));
            }
        }
        if raw.is_empty() {
            let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(&self.config.group)
                .arg(&self.config.name)
                .arg("COUNT")
                .arg(self.config.count)
                .arg("BLOCK")
                .arg(self.config.block.as_millis() as u64)
                .arg("STREAMS")
                .arg(&self.streams)
                .arg(vec![">"; self.streams.len()])
                .query_async(&mut self.con)
                .await?;
            for key in reply.map(|r| r.keys).unwrap_or_default() {
                let shard = self.streams.iter().position(|s| *s == key.key);
                let Some(shard) = shard else { continue };
                raw.extend(key.ids.into_iter().map(|id| (shard as u32, id)));
            }
        }
        let deliveries: Vec<Delivery> = raw
            .into_iter()
            .map(|(shard, e)| Delivery {
                shard,
                id: e.get("id").unwrap_or_default(),
                channel: e.get("ch").unwrap_or_default(),
                data: e.get("data").unwrap_or_default(),
                fence: e.get("fence").unwrap_or_default(),
                entry: e.id,
            })
            .collect();
        self.without_seen(deliveries).await
    }

    /// Drops (and acknowledges) the deliveries whose id the group marked,
    /// and the repeats of an id within the batch.
    async fn without_seen(&mut self, batch: Vec<Delivery>) -> Result<Vec<Delivery>, FanoutError> {
        if batch.is_empty() {
            return Ok(batch);
        }
        let mut pipe = redis::pipe();
        for d in &batch {
            pipe.exists(self.keys.seen(&self.config.group, &d.id));
        }
        let seen: Vec<bool> = pipe.query_async(&mut self.con).await?;
        let mut ids = std::collections::HashSet::new();
        let (fresh, dup): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .zip(seen)
            .partition(|(d, seen)| !seen && ids.insert(d.id.clone()));
        let dup: Vec<Delivery> = dup.into_iter().map(|(d, _)| d).collect();
        self.duplicates += dup.len() as u64;
        self.ack(&dup).await?;
        Ok(fresh.into_iter().map(|(d, _)| d).collect())
    }

    /// Marks `batch`'s ids as delivered to the group (for `dedupe_ttl`).
    pub async fn mark(&mut self, batch: &[Delivery]) -> Result<(), FanoutError> {
        if batch.is_empty() {
            return Ok(());
        }
        let ttl = self.config.dedupe_ttl.as_millis() as u64;
        let mut pipe = redis::pipe();
        for d in batch {
            pipe.cmd("SET")
                .arg(self.keys.seen(&self.config.group, &d.id))
                .arg(1)
                .arg("PX")
                .arg(ttl)
                .ignore();
        }
        pipe.exec_async(&mut self.con).await?;
        Ok(())
    }

    /// Acknowledges `batch`: the group will not deliver these entries again.
    pub async fn ack(&mut self, batch: &[Delivery]) -> Result<(), FanoutError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for d in batch {
            pipe.cmd("XACK")
                .arg(self.keys.stream(d.shard))
                .arg(&self.config.group)
                .arg(&d.entry)
                .ignore();
        }
        pipe.exec_async(&mut self.con).await?;
        Ok(())
    }

    /// [`mark`](Self::mark), then [`ack`](Self::ack): call it once the
    /// application has handled `batch`.
    pub async fn commit(&mut self, batch: &[Delivery]) -> Result<(), FanoutError> {
        self.mark(batch).await?;
        self.ack(batch).await
    }
}
