//! Support code for the wsnova benchmark.
//!
//! The benchmark itself is the `wsnova-bench` binary; the echo server it
//! measures against is the `echo_server` binary (and the same code, run by
//! `wsnova-bench --serve`). This library holds what both share and what is
//! worth unit-testing on its own: the RFC 6455 frame codec, the HTTP upgrade,
//! the server loops and the `/proc` readers.

pub mod frame;
pub mod server;
pub mod sys;
pub mod upgrade;
