//! Many connections as one: a [`Pool`] runs N [`Session`](crate::Session)s
//! to one service as one logical client, sans-IO like a session.
//!
//! - **Sharding within limits**: subscriptions are spread over connections
//!   within the service's per-connection limits, declared as data
//!   ([`PoolLimits`]): streams per connection, (un)subscribe messages per
//!   second, new connections per window. Connections are opened as needed
//!   and closed when empty (one is kept for requests).
//! - **One event stream**: events of all connections come out of
//!   [`Pool::poll_output`] as [`PoolOutput::Event`], each tagged with the
//!   connection it came from (for diagnostics); notifications keep their
//!   channel name. `Subscribed`/`Unsubscribed` speak for the pool: a channel
//!   moved or rotated to another connection is not reported again.
//! - **Failover**: when a connection is lost, its channels move at once to
//!   other connections with room; the rest stay with it and come back with
//!   its reconnect, under the session's usual backoff.
//! - **Make-before-break rotation**: a connection that reaches
//!   `connection_lifetime - rotation_margin` gets a replacement, which
//!   subscribes the same channels; delivery switches channel by channel
//!   once they are confirmed there, deduplicated by the stream's own update
//!   ids ([`Adapter::update_id`](crate::session::Adapter::update_id)); then the
//!   old connection is closed. See [`delivery`] for streams without ids.
//! - **Requests** go to the `Ready` connection with the least load.
//!
//! A driver runs it like a session, with every input and output tagged by
//! [`ConnId`]:
//!
//! ```
//! use std::time::Instant;
//! use wsnova_core::pool::{Pool, PoolLimits, PoolOutput};
//! use wsnova_core::session::{Plain, SessionConfig};
//!
//! let now = Instant::now();
//! let config = SessionConfig::new("ws://127.0.0.1:9001/")?;
//! let mut pool = Pool::new(config, Plain, PoolLimits::default(), now);
//! pool.connect(now)?;
//! while let Some(output) = pool.poll_output() {
//!     match output {
//!         PoolOutput::Dial { conn, generation, host, port } => {
//!             // open a socket for `conn`; report with
//!             // pool.handle_input(now, conn, Input::Connected { generation })
//!             let _ = (conn, generation, host, port);
//!         }
//!         PoolOutput::Transmit { conn, .. } => {
//!             let n = pool.pending_transmit(conn).len(); // write them
//!             pool.advance_transmit(conn, n);
//!         }
//!         PoolOutput::CloseTransport { .. } => {}
//!         PoolOutput::Event { .. } => {}
//!     }
//! }
//! assert_eq!(pool.conns().count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod assign;
#[cfg(test)]
mod assign_tests;
mod conn;
pub mod delivery;
mod handle;
mod limits;
mod live;
#[cfg(test)]
mod live_tests;
mod options;
mod output;
mod rotation;
mod route;
mod settle;
mod status;
#[cfg(test)]
mod tests;

pub use assign::Assignment;
pub use conn::Role;
pub use handle::Pool;
pub use limits::{PoolLimits, Window};
pub use options::PoolOptions;
pub use output::{ConnId, PoolOutput};
pub use status::{ConnStatus, PoolStatus};
