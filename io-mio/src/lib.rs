//! The mio driver for wsnova.
//!
//! Two ways to run the sans-IO [`Session`](wsnova_core::session::Session):
//!
//! - **[`EventLoop`]**: one thread and one `mio::Poll` serving many
//!   connections (a slab of them, deadlines in a heap), with a blocking,
//!   cloneable [`Handle`] per connection usable from any thread and a
//!   bounded [`Events`] queue per consumer (or a callback). The handle has
//!   the operations of the tokio driver's `Client`: `send_text`,
//!   `send_json`, `request`, `subscribe`, `authenticate`, `ping`, `status`,
//!   `close`.
//! - **[`Connection`]**: the embedding API for applications that already
//!   run a mio loop. Register it with your `Registry` under a token you
//!   choose, call [`on_event`](Connection::on_event) and
//!   [`on_timeout`](Connection::on_timeout), sleep until
//!   [`next_timeout`](Connection::next_timeout), and take events with
//!   [`poll_event`](Connection::poll_event). `examples/embedded.rs` drives
//!   two connections and a listener of its own in one loop.
//!
//! ```no_run
//! use wsnova_core::session::{Echo, Event, SessionConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let event_loop = wsnova_mio::EventLoop::new()?;
//! let config = SessionConfig::new("ws://127.0.0.1:9001/")?;
//! let (handle, events) = event_loop.connect(config, Echo)?;
//! handle.send_text("hello")?;
//! for event in events {
//!     if let Event::Message(m) = event {
//!         println!("{m:?}");
//!         break;
//!     }
//! }
//! println!("rtt {:?}", handle.ping()?);
//! handle.close()?;
//! # Ok(()) }
//! ```
//!
//! This crate only moves bytes and time: it dials (non-blocking connect;
//! host names resolved on a [`Resolver`] thread, never on the loop), reads
//! until `WouldBlock` (edge-triggered), writes what the core queued as far
//! as the socket takes it, and sleeps until the core's next deadline. TLS,
//! framing, reconnection, heartbeats, auth, subscriptions and rate limits
//! all happen in the core.
//!
//! Events go to every consumer through a bounded queue each; what happens
//! when one falls behind is the [`LagPolicy`]. Responses to
//! [`Handle::request`] and pongs for [`Handle::ping`] go to their callers.

mod builder;
mod connection;
mod event_loop;
mod events;
mod handle;
mod resolver;
mod route;

use std::time::Instant;

pub use builder::{Builder, ConnectError};
pub use connection::{Connection, DEFAULT_EVENT_CAPACITY, Status};
pub use event_loop::EventLoop;
pub use events::{Events, LagPolicy};
pub use handle::Handle;
pub use resolver::Resolver;

/// The mio this crate is built with, so an embedding loop's `Poll`,
/// `Registry` and `Event` are the types [`Connection`] takes.
pub use mio;

/// The one place this driver reads the clock.
pub(crate) fn now() -> Instant {
    Instant::now()
}
