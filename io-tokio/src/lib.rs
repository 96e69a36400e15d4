//! The tokio driver for wsnova, and the one crate a tokio application
//! depends on: it re-exports the core types you touch and the platform
//! adapters (feature `adapters`, on by default), with a [`prelude`].
//!
//! A complete program (`examples/tokio_quickstart.rs`, run in CI against the
//! test kit's mock exchange): connect, send, request with a timeout,
//! subscribe and await the confirmation, read events.
//!
#![doc = concat!("```no_run\n", include_str!("../examples/tokio_quickstart.rs"), "\n```")]
//!
//! One task per connection owns the socket and the sans-IO
//! [`Session`](wsnova_core::session::Session): it reads the clock in one
//! place, sleeps until the session's next deadline, writes everything the
//! session queued in as few syscalls as possible and keeps reading while
//! writing. TLS, framing, reconnection, heartbeats, auth, subscriptions and
//! rate limits all happen in the core; this crate only moves bytes and time.
//!
//! Events go to every consumer ([`Events`], more from [`Client::events`])
//! through a bounded queue each; what happens when one falls behind is the
//! [`LagPolicy`]. Responses to [`Client::request`] go to the caller that
//! awaits them, not to the event streams. The [`Events`] that [`connect`]
//! returns begin with the first `Connected` and `Ready` (see [`connect`]).

mod builder;
mod client;
mod dial;
mod driver;
mod events;
mod pool_client;
mod pool_driver;
mod rate_permits;
mod shared;

pub use builder::{Connect, connect, spawn_without_waiting};
pub use client::Client;
pub use events::Events;
pub use pool_client::PoolClient;
/// The core types an application touches (the same set in both drivers).
pub use wsnova_core::api::*;

/// The sans-IO core, for what the re-exports above leave out (writing an
/// adapter, driving a session by hand).
pub use wsnova_core as core;

/// The platform adapters: `JsonRpc`, `Deribit`, `Binance` (feature `adapters`).
#[cfg(feature = "adapters")]
pub use wsnova_adapters as adapters;

/// What most programs need: `use wsnova_tokio::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "adapters")]
    pub use crate::adapters::{Binance, Deribit, JsonRpc};
    pub use crate::{
        Builder, Client, Connect, Credentials, Event, Events, LagPolicy, Message, Plain,
        SubscribeError,
    };
}
