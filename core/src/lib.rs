//! The sans-IO core of wsnova.
//!
//! Everything here is a deterministic transformation of bytes, time and
//! commands: no sockets, no clocks, no threads, no async. Drivers
//! (`wsnova-tokio`, `wsnova-mio`) move bytes and time; this crate decides.
//!
//! - [`wire`]: the byte path of one connection — TLS (rustls as a byte
//!   transform), the HTTP upgrade (RFC 6455 §4) and framing (RFC 6455 §5).
//! - [`session`]: one logical connection across reconnects — lifecycle,
//!   backoff, heartbeats, auth, subscriptions, requests, rate limits — as a
//!   statig state machine over the wire. Start at [`Session`].
//! - [`record`]: record a session as JSON Lines (secrets redacted) and
//!   replay a recording in virtual time, reporting the first divergence.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod driver;

/// The types an application touches, whichever driver it runs on: both
/// drivers re-export exactly this set (`pub use wsnova_core::api::*`), so a
/// program needs only its driver's crate.
pub mod api {
    pub use crate::driver::{
        Builder, ConnectError, DEFAULT_EVENT_CAPACITY, LagPolicy, Status, SubscribeError,
    };
    pub use crate::session::{
        Adapter, BackoffConfig, CloseReason, Codec, ConfigError, Credentials, DisconnectReason,
        Event, HeartbeatConfig, Initiator, JsonText, Plain, RateClass, RateLimitConfig, RateLimits,
        RequestError, RequestId, RpcError, SessionConfig, SessionError, SessionState, Stats,
    };
    pub use crate::wire::{
        CloseCode, DeflateConfig, Limits, Message, PerMessageDeflate, RootCertStore, Text,
        WireError,
    };
}
pub mod record;
pub mod session;
pub mod wire;

pub use session::{Adapter, Event, Input, Output, Session, SessionConfig, SessionState};
pub use wire::{Message, Wire, WireConfig, WireError, WireEvent};
