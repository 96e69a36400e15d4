//! The mio driver for wsnova, and the one crate a mio application depends
//! on: it re-exports the core types you touch and the platform adapters
//! (feature `adapters`, on by default), with a [`prelude`].
//!
//! A complete program (`examples/mio_quickstart.rs`, run in CI against the
//! test kit's mock exchange): connect, send, request with a timeout,
//! subscribe and wait for the confirmation, read events.
//!
#![doc = concat!("```no_run\n", include_str!("../examples/mio_quickstart.rs"), "\n```")]
//!
//! Two ways to run the sans-IO [`Session`](wsnova_core::session::Session):
//!
//! - **[`EventLoop`]**: one thread and one `mio::Poll` serving many
//!   connections (a slab of them, deadlines in a heap), with a blocking,
//!   cloneable [`Handle`] per connection usable from any thread and a
//!   bounded [`Events`] queue per consumer (or a callback). The handle has
//!   the verbs of the tokio driver's `Client`, with the same meaning:
//!   `send_text`, `request` / `request_timeout` / `request_raw`,
//!   `subscribe` (waits for the confirmation) / `subscribe_nowait`,
//!   `authenticate`, `ping`, `status`, `events`, `close`. Its sends
//!   (`send_*`, `feed_*`, `flush`) do not wait for the loop: they stage the
//!   message in a batch the loop drains in one wake-up and writes once
//!   (see [`Handle`] for what a sender learns and when).
//! - **[`Connection`]**: the embedding API for applications that already
//!   run a mio loop, with the core's verbs. Register it with your
//!   `Registry` under a token you choose, call
//!   [`handle_event`](Connection::handle_event) and
//!   [`handle_timeout`](Connection::handle_timeout), sleep until
//!   [`poll_timeout`](Connection::poll_timeout), and take events with
//!   [`poll_event`](Connection::poll_event). Batch sends with
//!   [`feed_text`](Connection::feed_text) and one
//!   [`flush`](Connection::flush) (one `write` for the burst).
//!   `examples/embedded.rs` drives two connections and a listener of its
//!   own in one loop; `examples/mio_pipeline.rs` measures throughput and
//!   latency (figures and method in the crate's `README.md`).
//! - **[`PoolHandle`]**: a core `Pool` (many connections to one service as
//!   one client: sharding within declared limits, failover, rotation) on an
//!   [`EventLoop`], started with [`EventLoop::connect_pool`], blocking,
//!   with `subscribe`, `unsubscribe`, `request`, `events`, `connections`
//!   and `close`. Each connection's socket gets a mio token of its own.
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
mod link;
mod outgoing;
mod pool_handle;
mod pool_loop;
mod pool_runner;
mod resolver;
mod route;

use std::time::Instant;

pub use builder::ConnectOn;
pub use connection::Connection;
pub use event_loop::EventLoop;
pub use events::Events;
pub use handle::Handle;
pub use pool_handle::PoolHandle;
pub use resolver::Resolver;
/// The core types an application touches (the same set in both drivers).
pub use wsnova_core::api::*;

/// The sans-IO core, for what the re-exports above leave out (writing an
/// adapter, driving a session by hand).
pub use wsnova_core as core;

/// The platform adapters: `JsonRpc`, `Deribit`, `Binance` (feature `adapters`).
#[cfg(feature = "adapters")]
pub use wsnova_adapters as adapters;

/// What most programs need: `use wsnova_mio::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "adapters")]
    pub use crate::adapters::{Binance, Deribit, JsonRpc};
    pub use crate::{
        Builder, ConnectOn, Credentials, Event, EventLoop, Events, Handle, LagPolicy, Message,
        Plain, PoolHandle, SubscribeError,
    };
}

/// The mio this crate is built with, so an embedding loop's `Poll`,
/// `Registry` and `Event` are the types [`Connection`] takes.
pub use mio;

/// The one place this driver reads the clock.
pub(crate) fn now() -> Instant {
    Instant::now()
}
