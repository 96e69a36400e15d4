//! The sans-IO core of wsnova.
//!
//! Everything here is a deterministic transformation of bytes, time and
//! commands: no sockets, no clocks, no threads, no async. Drivers
//! (`wsnova-tokio`, `wsnova-mio`) move bytes and time; this crate decides.
//!
//! - [`wire`]: the byte path of one connection — TLS (rustls as a byte
//!   transform), the HTTP upgrade (RFC 6455 §4) and framing (RFC 6455 §5).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod wire;

pub use wire::{Message, Wire, WireConfig, WireError, WireEvent};
