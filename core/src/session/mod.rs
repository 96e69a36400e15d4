//! The sans-IO session: connection lifecycle, reconnection with backoff,
//! heartbeats, authentication, subscriptions, request correlation and rate
//! limiting, as one deterministic state machine over [`Wire`](crate::wire::Wire).
//!
//! A driver runs this loop (shown here against a scripted server, no sockets):
//!
//! ```
//! use std::time::{Duration, Instant};
//! use wsnova_core::session::{Plain, Event, Input, Output, Session, SessionConfig};
//!
//! let mut config = SessionConfig::new("ws://127.0.0.1:9001/")?;
//! config.seed = 7;
//! let mut now = Instant::now(); // a driver reads its clock in one place
//! let mut session = Session::new(config, Plain, now);
//! session.connect(now)?;
//! let mut server = Vec::new(); // what a socket would carry
//! loop {
//!     // 1. drain outputs after every input or command
//!     while let Some(output) = session.poll_output() {
//!         match output {
//!             Output::Dial { generation, .. } => {
//!                 // open a TCP connection, then:
//!                 session.handle_input(now, Input::Connected { generation });
//!             }
//!             Output::Transmit { .. } => {}
//!             Output::CloseTransport { .. } => { /* close the socket */ }
//!             Output::Event(Event::Connected) => {
//!                 session.send_text(now, "hello")?;
//!             }
//!             Output::Event(Event::Ready) => break,
//!             Output::Event(_) => {}
//!         }
//!     }
//!     // 2. write what is pending; 3. sleep until poll_timeout or socket input
//!     let n = session.pending_transmit().len();
//!     server.extend_from_slice(session.pending_transmit());
//!     session.advance_transmit(n);
//!     if session.state() == wsnova_core::session::SessionState::Ready { break; }
//!     let key = std::str::from_utf8(&server).unwrap().lines()
//!         .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap().to_owned();
//!     let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
//!     let reply = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
//!                          Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
//!     now += Duration::from_millis(5);
//!     session.handle_input(now, Input::Bytes { generation: 1, data: reply.as_bytes() });
//!     if let Some(deadline) = session.poll_timeout() {
//!         assert!(deadline > now);
//!     }
//! }
//! assert_eq!(session.state(), wsnova_core::session::SessionState::Ready);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod adapter;
mod auth;
mod backoff;
mod batches;
mod channels;
mod codec;
mod commands;
mod config;
mod config_file;
mod core;
mod credentials;
mod env;
mod error;
mod event;
#[cfg(test)]
mod footprint;
mod handle;
mod heartbeat;
mod inbound;
mod io;
mod json;
mod json_rpc;
mod latency;
mod live;
mod machine;
mod messages;
mod outbound;
mod outbox;
mod queue;
mod rate_classes;
mod rate_limits;
mod ratelimit;
mod reconnect;
mod requests;
mod retry;
mod sequence;
mod shared_budget;
mod shared_permits;
mod state;
mod stats;
mod stop;
mod subscribe_limits;
mod subscriptions;
mod tap;
mod telemetry;
mod timers;
mod transport;
mod validate;

pub use adapter::{Adapter, AsDynAdapter, AuthContext, Plain, Sequence};
pub use backoff::{BackoffConfig, BackoffStrategy, Jitter};
pub use codec::{Codec, CodecError, Encoded};
pub use config::{HeartbeatConfig, SessionConfig};
pub use config_file::parse_duration;
pub use credentials::{AuthToken, Credentials, Secret};
pub use error::SessionError;
pub use event::{
    CloseReason, DisconnectReason, Event, Initiator, Policy, RequestError, RequestId, RpcError,
};
pub use handle::{BoxedSession, Session};
pub use io::{Input, Output};
pub use json::JsonText;
pub use json_rpc::{classify_json_rpc, encode_json_rpc};
pub use latency::Latency;
pub use messages::{Inbound, OutgoingRequest, RawRpcError};
pub use rate_classes::{Charge, RateClass, RateLimits};
pub use ratelimit::RateLimitConfig;
pub use shared_budget::PermitDemand;
pub use state::SessionState;
pub use stats::Stats;
pub use stop::StopPolicy;
pub use subscribe_limits::SubscribeLimits;
pub use tap::{Call, Tap};
pub use validate::ConfigError;
