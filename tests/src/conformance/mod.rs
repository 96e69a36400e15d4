//! One driver conformance suite for every wsnova driver.
//!
//! The scenarios in [`scenarios`] are written once, against a small
//! blocking interface: a [`DriverUnderTest`] that connects and a [`Conn`]
//! that sends, requests, subscribes, pings, reads events, reports its
//! status and closes. A driver takes part by implementing the two traits
//! (the tokio driver by blocking on a runtime, the mio driver as a thin
//! wrapper over its blocking `Handle`/`Events`); the
//! [`conformance_tests!`](crate::conformance_tests) macro then instantiates
//! every scenario as a `#[test]` for it, each bounded in time by
//! [`run_bounded`]. A test that exists for one driver exists for all.
//!
//! The drivers themselves are not dependencies of this library (only of
//! its tests), so the implementations live next to the macro call, in
//! `tests/tests/conformance.rs`. The Deribit adapter is chosen by
//! [`AdapterKind`] for the same reason: the driver implementation builds it.
//!
//! ```ignore
//! wsnova_tests::conformance_tests!(tokio_ => TokioDriver, mio_ => MioDriver);
//! // tokio_::echo_text, mio_::echo_text, tokio_::server_kill_reconnects, ...
//! ```

pub mod scenarios;

use std::time::Duration;

use wsnova_core::session::{
    CloseReason, DisconnectReason, Event, RequestError, SessionConfig, SessionError,
};
use wsnova_core::wire::CloseCode;

/// Bound of one whole scenario (each single wait inside is bounded by [`STEP`]).
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

/// Bound of one single wait in a scenario (an event, a request, a report).
pub const STEP: Duration = Duration::from_secs(10);

/// Which adapter a connection runs with; the driver implementation builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterKind {
    /// `wsnova_core::session::Plain`: every message is a plain message.
    Plain,
    /// `wsnova_adapters::deribit::Deribit::new()`: JSON-RPC, auth, channels.
    Deribit,
}

/// Everything a driver needs to make one connection.
#[derive(Debug, Clone)]
pub struct ConnectParams {
    /// URL, roots, credentials, backoff, timeouts: the session configuration.
    pub config: SessionConfig,
    /// The adapter to run the session with.
    pub adapter: AdapterKind,
    /// Keep retrying when the first attempt fails instead of failing `connect`.
    pub retry_initial: bool,
}

impl ConnectParams {
    /// Defaults for `url` with the [`Plain`](AdapterKind::Plain) adapter.
    ///
    /// # Panics
    ///
    /// If `url` is not a valid WebSocket URL.
    pub fn echo(url: &str) -> ConnectParams {
        ConnectParams {
            config: SessionConfig::new(url).expect("a valid URL"),
            adapter: AdapterKind::Plain,
            retry_initial: false,
        }
    }
}

/// Why a driver gave no connection (the drivers' `ConnectError`s, unified).
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectFailure {
    /// The first attempt failed (no retry was asked for).
    Failed(DisconnectReason),
    /// The session closed before it was ever ready.
    Closed(CloseReason),
    /// Anything else (configuration, a stopped loop), described.
    Other(String),
}

/// Why [`Conn::next_event`] gave no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Nothing arrived within the timeout.
    Timeout,
    /// The stream ended (after `Event::Closed`).
    Ended,
}

/// A snapshot of a connection's state: both drivers report the core's.
pub use wsnova_core::driver::Status;

/// One connection of a driver under test, with its (first) event consumer.
/// Every call blocks until the driver has answered.
pub trait Conn: Send {
    /// Sends a text message.
    fn send_text(&self, text: &str) -> Result<(), SessionError>;
    /// Sends a binary message.
    fn send_binary(&self, data: &[u8]) -> Result<(), SessionError>;
    /// Sends a JSON-RPC request and waits for its outcome: the raw result.
    fn request(&self, method: &str, params: &serde_json::Value) -> Result<String, RequestError>;
    /// Adds channels to the subscription set.
    fn subscribe(&self, channels: &[&str]) -> Result<(), SessionError>;
    /// Pings and waits for the pong: the round-trip time.
    fn ping(&self) -> Result<Duration, SessionError>;
    /// The next event of the connection's consumer, waiting at most `timeout`.
    fn next_event(&mut self, timeout: Duration) -> Result<Event, Wait>;
    /// The connection's state right now.
    fn status(&self) -> Status;
    /// Closes with `code` and `reason` and waits until closed.
    fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), SessionError>;
    /// Closes normally (1000) and waits until closed.
    fn close(&self) -> Result<(), SessionError> {
        self.close_with(CloseCode::NORMAL, "")
    }
}

/// A driver: makes connections and waits until they are ready (or failed).
pub trait DriverUnderTest {
    /// A short name for messages ("tokio", "mio").
    fn name(&self) -> &'static str;
    /// Connects with `params`; returns once the session is `Ready`, or the
    /// first attempt's failure (with `retry_initial`: once it gave up).
    fn connect(&self, params: ConnectParams) -> Result<Box<dyn Conn>, ConnectFailure>;
}

/// Runs `scenario` on its own thread and fails if it panics or is not done
/// within `limit` (a hung scenario is left behind, the test fails).
///
/// # Panics
///
/// If the scenario panics (with its message) or times out.
pub fn run_bounded(name: &str, limit: Duration, scenario: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("conformance-{name}"))
        .spawn(move || {
            scenario();
            let _ = done_tx.send(());
        })
        .expect("spawn the scenario thread");
    match done_rx.recv_timeout(limit) {
        Ok(()) => thread.join().expect("the scenario finished"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // It panicked: surface the panic as this test's.
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("scenario {name}: not done within {limit:?}")
        }
    }
}

/// Instantiates every scenario of [`scenarios`] for each driver: for
/// `conformance_tests!(tokio_ => TokioDriver, mio_ => MioDriver)`, a module
/// `tokio_` and a module `mio_`, each with one `#[test]` per scenario
/// (`tokio_::echo_text`, `mio_::echo_text`, ...) that builds the driver
/// with `Default` and runs the scenario under [`run_bounded`].
#[macro_export]
macro_rules! conformance_tests {
    ($($prefix:ident => $driver:ty),+ $(,)?) => {
        $(
            $crate::conformance_tests!(@driver $prefix, $driver;
                echo_text,
                echo_binary,
                echo_one_mib,
                ping_rtt,
                ping_fails_when_the_connection_is_lost,
                close_with_code,
                invalid_close_code_is_refused,
                server_close_1001_reconnects,
                server_kill_reconnects,
                tls_echo,
                tls_wrong_ca_fails_connect,
                tls_wrong_ca_with_retries_stops_after_one_attempt,
                bad_invalid_utf8_closes_with_1007,
                bad_oversized_message_closes_with_1009,
                bad_garbage_handshake_fails_connect,
                python_echo,
                python_server_close_4000_reconnects,
                deribit_auth_subscribe_request_and_recover_from_a_drop,
            );
        )+
    };
    (@driver $prefix:ident, $driver:ty; $($scenario:ident),+ $(,)?) => {
        #[allow(non_snake_case)]
        mod $prefix {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $scenario() {
                    $crate::conformance::run_bounded(
                        stringify!($scenario),
                        $crate::conformance::SCENARIO_LIMIT,
                        || {
                            let driver = <$driver as ::core::default::Default>::default();
                            $crate::conformance::scenarios::$scenario(&driver)
                        },
                    );
                }
            )+
        }
    };
}
