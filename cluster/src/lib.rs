//! wsnova beyond one process, on Redis.
//!
//! Several processes (or machines) that use one exchange account must share
//! its rate limits, must not hold the same subscription twice, and must not
//! lose one when a node dies. This crate coordinates them through a real
//! Redis server, with the well-kept `redis` crate on tokio:
//!
//! * shared rate limits: GCRA evaluated atomically in one Lua script, with a
//!   conservative local share when Redis cannot be reached;
//! * subscription ownership: shards claimed with leases and fencing tokens;
//! * fan-out: each shard's events on a bounded Redis Stream, read by consumer
//!   groups with an id to deduplicate.
//!
//! The core stays sans-IO: the driver asks Redis, the core decides with the
//! answer.

pub mod fanout;
/// Shared rate limits: GCRA on Redis, fed to the sessions' per-class limiters.
pub mod limits;
pub mod node;
pub mod shards;
