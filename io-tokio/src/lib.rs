//! The tokio driver for wsnova.
//!
//! One task per connection owns the socket and the sans-IO
//! [`Session`](wsnova_core::session::Session): it reads the clock in one
//! place, sleeps until the session's next deadline, writes everything the
//! session queued in as few syscalls as possible and keeps reading while
//! writing. TLS, framing, reconnection, heartbeats, auth, subscriptions and
//! rate limits all happen in the core; this crate only moves bytes and time.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use wsnova_core::session::{Echo, Event, SessionConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionConfig::new("ws://127.0.0.1:9001/")?;
//! let (client, mut events) = wsnova_tokio::connect(config, Echo).await?;
//! client.send_text("hello").await?;
//! while let Some(event) = events.next().await {
//!     if let Event::Message(m) = event {
//!         println!("{:?}", m);
//!         break;
//!     }
//! }
//! client.close().await?;
//! # Ok(()) }
//! ```
//!
//! Events go to every consumer ([`Events`], more from [`Client::events`])
//! through a bounded queue each; what happens when one falls behind is the
//! [`LagPolicy`]. Responses to [`Client::request`] go to the caller that
//! awaits them, not to the event streams.

mod builder;
mod client;
mod driver;
mod events;
mod shared;

pub use builder::{Builder, ConnectError, connect};
pub use client::{Client, Status};
pub use events::{Events, LagPolicy};
