//! The wsnova test kit.
//!
//! Reusable helpers for wsnova's unit and integration tests. Everything here
//! is built on implementations that are independent of wsnova itself
//! (tungstenite, tokio-tungstenite, rustls, rcgen, Python's `websockets`), so
//! a test that passes against these peers says something about
//! interoperability, not just about agreement with ourselves.
//!
//! * [`bad_server`] — a misbehaving WebSocket server on raw TCP (invalid
//!   frames, oversized messages, refusals, garbage) that reports what the
//!   client sent back.
//! * [`hostile`] — the hostile-server kit: never-answering, slow, huge or
//!   wrong upgrades, `Retry-After`, half-open, ping floods while never
//!   reading, fragment storms, resets; and a child-process client runner
//!   that reports events and peak RSS.
//! * [`binance`] — a mock Binance: market streams (raw and combined) with a
//!   sequenced depth stream whose book a test can read, the WebSocket API
//!   with verified HMAC and Ed25519 signatures, and Binance's limits and
//!   faults (lifetime cut, 5 messages per second, 1024 streams, pings with
//!   a pong deadline, dropped or reordered depth events, refused or slow
//!   subscriptions).
//! * [`certs`] — a throw-away PKI: a self-signed CA and a server certificate
//!   it signed, ready-made rustls configs.
//! * [`echo_server`] — a real WebSocket echo server (plain or TLS) on an
//!   ephemeral localhost port, on its own thread.
//! * [`mem_peer`] — a sans-IO, in-memory WebSocket *server* peer for
//!   deterministic tests, plus hand-made frame and handshake builders.
//! * [`blocking`] — a [`Wire`](wsnova_core::wire::Wire) over a blocking
//!   `std::net::TcpStream`, for smoke tests and the first example.
//! * [`msgpack_server`] — a JSON-RPC server speaking MessagePack in binary
//!   messages (tokio-tungstenite), for the MessagePack codec.
//! * [`packages`] — the Debian packages those servers come from, installed
//!   with `apt-get` when missing.
//! * [`proxies`] — real proxy servers as child processes on ephemeral
//!   ports: `tinyproxy` (HTTP CONNECT) and `microsocks` (SOCKS5), with or
//!   without credentials.
//! * [`python`] — Python's `websockets` as an independent server: finds or
//!   makes a venv with it and runs fixture scripts as child processes.
//! * [`redis`] — a real `redis-server` as a child process on an ephemeral
//!   port, stopped and restarted on request (the cluster tests).
//! * [`sim`] — the simulation harness: a wsnova session against a fake
//!   JSON-RPC exchange in virtual time, with faults.
//! * [`deflate_peer`] — a scripted permessage-deflate server in memory
//!   (compresses, fragments, inflates what the client sent).
//! * [`fuzz_kit`] — what the fuzz targets share (a wire before and after a
//!   valid upgrade, input fed in socket-sized chunks).
//! * [`wire_pair`] — wsnova's [`Wire`](wsnova_core::wire::Wire) wired in
//!   memory to the [`MemPeer`], optionally through a rustls server.

#[cfg(feature = "net")]
pub mod bad_server;
#[cfg(feature = "net")]
pub mod binance;
pub mod blocking;
#[cfg(feature = "net")]
pub mod certs;
#[cfg(feature = "net")]
pub mod conformance;
pub mod deflate_peer;
#[cfg(feature = "net")]
pub mod deribit;
#[cfg(feature = "net")]
pub mod echo_server;
pub mod fuzz_kit;
pub mod hostile;
pub mod mem_peer;
#[cfg(feature = "net")]
pub mod msgpack_server;
pub mod packages;
pub mod proxies;
#[cfg(feature = "net")]
pub mod python;
pub mod redis;
pub mod sim;
pub mod wire_pair;

#[cfg(feature = "net")]
pub use certs::TestPki;
#[cfg(feature = "net")]
pub use echo_server::EchoServer;
pub use mem_peer::{MemDuplex, MemPeer};
