//! Fan-out: each shard's events on a Redis Stream, read by consumer groups
//! on any node.
//!
//! * [`Publisher::publish`] appends a batch of events to the shard's stream
//!   (`XADD … MAXLEN ~ n`) in one Lua script that first checks the shard's
//!   lease still holds the writer's fence: a node that lost the shard (it
//!   stalled past its lease and another node took it, or the lease ran out)
//!   gets [`FanoutError::Fenced`] and nothing is written.
//! * Each stream keeps about [`StreamConfig::maxlen`] entries (Redis trims
//!   whole macro-nodes with `~`, so a little more, never fewer): a consumer
//!   that falls further behind than that loses the oldest entries.
//! * [`Consumer`] reads all shard streams through a consumer group
//!   (`XREADGROUP`), takes over entries another consumer left pending for
//!   longer than [`ConsumerConfig::claim_idle`] (`XAUTOCLAIM`), and skips
//!   entries whose id the group already delivered.
//!
//! # Delivery guarantee
//!
//! At least once, with duplicates filtered by id: every entry written is
//! delivered to the group until a consumer acknowledges it; an entry's id is
//! `channel#exchange id` (the exchange's sequence or change id, or a hash of
//! the payload where it has none), and a consumer marks the ids it delivered
//! ([`Consumer::mark`], kept for [`ConsumerConfig::dedupe_ttl`]) before it
//! acknowledges them ([`Consumer::ack`]). An entry delivered, marked and
//! then left unacknowledged (the consumer died) is claimed by another
//! consumer, which sees the mark and does not deliver it again; an event the
//! exchange sent twice, or that two owners published around a hand-over, is
//! delivered once. A consumer that dies after the application handled an
//! entry but before marking it causes one duplicate: make the handling
//! idempotent on [`Delivery::id`] where that matters. Entries trimmed by
//! `MAXLEN` before any consumer read them are lost.

mod consume;
mod publish;

pub use consume::{Consumer, ConsumerConfig, Delivery};
pub use publish::{Entry, Publisher, StreamConfig};

/// What can go wrong publishing or consuming.
#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    /// The shard's lease no longer carries this fence: another node holds
    /// the shard, or the lease ran out. Nothing was written.
    #[error("shard {shard}: fenced off (lease lost)")]
    Fenced {
        /// The shard.
        shard: u32,
    },
    /// Redis answered with an error or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}
