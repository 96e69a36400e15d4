//! Shared rate limits: one quota per key, held by Redis, shared by every
//! node that uses it.
//!
//! * [`SharedLimiter`] asks Redis for permits: GCRA evaluated atomically in
//!   one Lua script (`EVALSHA`, reloaded after a Redis restart), on Redis
//!   server time, so nodes' clocks do not matter. When Redis cannot be
//!   reached it grants from a conservative local share of the quota (the
//!   quota divided by the number of nodes), never unlimited.
//! * [`PermitFeeder`] drives a `wsnova-tokio` [`Client`](wsnova_tokio::Client):
//!   it reads what each shared class needs, obtains permits from the limiter
//!   and grants them to the session, whose core decides what leaves. The
//!   core stays sans-IO: the driver asks Redis, the core decides with the
//!   answer.
//!
//! Keys follow [`LimitKey`]'s scheme, e.g. `wsnova:rl:deribit:acct:alice:default`.
//! See `docs/cluster.md`, "Shared rate limits".

mod feeder;
mod key;
mod limiter;
mod share;

pub use feeder::{FeederConfig, PermitFeeder, SharedClass};
pub use key::{LimitKey, Scope};
pub use limiter::{Grant, LimiterConfig, SharedLimiter, Source};
pub use share::{LocalShare, Quota, QuotaError};
