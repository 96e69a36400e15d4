//! The driver kit: what both drivers (`wsnova-tokio`, `wsnova-mio`) share
//! around a [`Session`](crate::session::Session), so each stays a thin
//! loop that moves bytes and time. Applications use the drivers' own
//! front doors; this module is for driver authors (and the drivers
//! re-export what users touch).
//!
//! - [`Builder`]: the one options builder of both drivers (session
//!   configuration, event capacity, [`LagPolicy`]).
//! - [`Waiters`]: who waits for what — a request's outcome, a
//!   subscription's confirmation, a pong, the first `Ready`, the close —
//!   answered from the session's events over the driver's own one-shot
//!   channel ([`ReplyChannel`]).
//! - [`EventQueue`]: one consumer's bounded queue and its lag policy.
//! - [`Status`] and [`ConnectError`]: what both drivers report.
//! - [`HappyEyeballs`] and [`sort_addresses`]: which address to dial next
//!   and when (RFC 8305), for both drivers' dialing.
//! - [`encode_params`]: `request`'s params, serialized once for both drivers.
//! - [`RecordTo`]: where a driver records its session (`Builder::record`).

mod builder;
mod event_queue;
mod eyeballs;
mod lag_policy;
mod params;
mod recording;
mod status;
mod waiters;

pub use builder::{Builder, entropy_seed};
pub use event_queue::EventQueue;
pub use eyeballs::{CONNECTION_ATTEMPT_DELAY, HappyEyeballs, sort_addresses};
pub use lag_policy::{DEFAULT_EVENT_CAPACITY, LagPolicy};
pub use params::{check_raw_params, encode_params};
pub use recording::{RECORD_BUFFER, RecordTo};
pub use status::{ConnectError, ConnectFailure, Status};
pub use waiters::{Reply, ReplyChannel, SubscribeError, Waiters};
