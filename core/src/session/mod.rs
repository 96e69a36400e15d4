//! The sans-IO session: connection lifecycle, reconnection with backoff,
//! heartbeats, authentication, subscriptions, request correlation and rate
//! limiting, as one deterministic state machine over [`Wire`](crate::wire::Wire).
//!
//! A driver runs this loop (shown here against a scripted server, no sockets):
//!
//! ```
//! use std::time::{Duration, Instant};
//! use wsnova_core::session::{Echo, Event, Input, Output, Session, SessionConfig};
//!
//! let mut config = SessionConfig::new("ws://127.0.0.1:9001/")?;
//! config.seed = 7;
//! let mut now = Instant::now(); // a driver reads its clock in one place
//! let mut session = Session::new(config, Echo, now);
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
mod backoff;
mod codec;
mod config;
mod config_file;
mod core;
mod credentials;
mod event;
mod heartbeat;
mod json;
mod latency;
mod lifecycle;
mod machine;
mod outbound;
mod ratelimit;
mod requests;
mod retry;
mod sequence;
mod subscriptions;
mod telemetry;
mod timers;
mod validate;

use std::time::{Duration, Instant};

use serde::Serialize;
use statig::blocking::{IntoStateMachineExt, StateMachine};

pub use adapter::{
    Adapter, AsDynAdapter, AuthContext, Echo, Inbound, OutgoingRequest, Plain, RawRpcError,
    Sequence, classify_json_rpc, encode_json_rpc,
};
pub use backoff::{BackoffConfig, BackoffStrategy, Jitter};
pub use codec::{Codec, CodecError, Encoded};
pub use config::{HeartbeatConfig, SessionConfig};
pub use credentials::{AuthToken, Credentials, Secret};
pub use event::{
    CloseReason, DisconnectReason, Event, Initiator, Policy, RequestError, RequestId, RpcError,
};
pub use json::JsonText;
pub use latency::Latency;
pub use ratelimit::RateLimitConfig;
pub use validate::ConfigError;

use crate::wire::{CloseCode, WireError};
use core::Core;
use machine::{Ctx, Ev, Fsm};
use outbound::Payload;

/// What the driver reports. Each carries the `generation` of the dial it
/// belongs to; input from an older generation is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The TCP connection for `Output::Dial` is open.
    Connected {
        /// The dial's generation.
        generation: u64,
    },
    /// The TCP connection could not be opened.
    ConnectFailed {
        /// The dial's generation.
        generation: u64,
        /// The driver's error text.
        error: &'a str,
    },
    /// Bytes read from the socket.
    Bytes {
        /// The dial's generation.
        generation: u64,
        /// The bytes.
        data: &'a [u8],
    },
    /// The socket reached EOF or failed.
    Closed {
        /// The dial's generation.
        generation: u64,
    },
}

/// What the driver must do, or an event for the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open a TCP connection to `host:port` (TLS, if any, is done by the core).
    Dial {
        /// Tag every input about this connection with it.
        generation: u64,
        /// Host name or IP address to resolve and dial.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// Bytes are waiting in [`Session::pending_transmit`].
    Transmit {
        /// The connection they belong to.
        generation: u64,
    },
    /// Close this connection's socket after writing `flush` (best effort).
    CloseTransport {
        /// The connection to close.
        generation: u64,
        /// Last bytes for the peer, e.g. the close frame that fails the connection.
        flush: Vec<u8>,
    },
    /// Something for the application.
    Event(Event),
}

/// Where the session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Created; `connect` not called yet.
    Idle,
    /// Waiting for dial, TLS and upgrade.
    Connecting,
    /// Waiting for the auth answer.
    Authenticating,
    /// Waiting for setup and resubscribe answers.
    Restoring,
    /// Application traffic flows.
    Ready,
    /// Waiting for the server's close frame.
    Closing,
    /// Waiting before the next connection attempt.
    BackingOff,
    /// Ended for good.
    Closed,
}

/// Counters of one session, across reconnects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Reconnect attempts started.
    pub reconnects: u64,
    /// Data messages received.
    pub messages_in: u64,
    /// Data messages sent.
    pub messages_out: u64,
    /// Bytes received from sockets.
    pub bytes_in: u64,
    /// Bytes written to sockets.
    pub bytes_out: u64,
    /// The last ping round trip.
    pub last_rtt: Option<Duration>,
    /// Request round trips (sent to answered) over the last
    /// [`Latency::WINDOW`] answers; filled in by [`Session::stats`].
    pub request_latency: Latency,
    /// Ping round trips over the last [`Latency::WINDOW`] pongs; filled in
    /// by [`Session::stats`].
    pub ping_rtt: Latency,
}

/// A command the session cannot take.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session has closed.
    #[error("the session is closed")]
    Closed,
    /// The queue for messages waiting to be sent is full.
    #[error("the send queue is full")]
    QueueFull,
    /// There is no open WebSocket to do this on.
    #[error("not connected")]
    NotConnected,
    /// The params could not be serialized.
    #[error("invalid request params: {0}")]
    InvalidParams(String),
    /// The wire refused (e.g. an invalid close code).
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The configuration has a mistake that cannot work (see
    /// [`SessionConfig::validate`]); `connect` found it before dialling.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
}

/// One logical connection to a service, across any number of reconnects.
///
/// Methods come in four groups: **getters** ([`state`](Self::state),
/// [`stats`](Self::stats), subscriptions, auth); **input**
/// ([`handle_input`](Self::handle_input), [`handle_timeout`](Self::handle_timeout));
/// **commands** ([`connect`](Self::connect), [`request`](Self::request),
/// [`subscribe`](Self::subscribe), [`close`](Self::close), …); and
/// **output** ([`poll_output`](Self::poll_output),
/// [`pending_transmit`](Self::pending_transmit), [`poll_timeout`](Self::poll_timeout)).
/// After every input or command, drain `poll_output`, write `pending_transmit`,
/// then sleep until `poll_timeout`. See the [module docs](self) for the loop.
///
/// `A` may be unsized: a `Box<Session<MyAdapter>>` coerces to a
/// [`BoxedSession`] (`Box<Session<dyn Adapter>>`), which drivers hold so
/// that their handles are not generic over the adapter; every method works
/// on both.
///
/// ```
/// use std::time::Instant;
/// use wsnova_core::session::{BoxedSession, Echo, Session, SessionConfig, SessionState};
/// let config = SessionConfig::new("ws://127.0.0.1:9001/")?;
/// let session: BoxedSession = Box::new(Session::new(config, Echo, Instant::now()));
/// assert_eq!(session.state(), SessionState::Idle);
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
pub struct Session<A: Adapter + ?Sized> {
    core: Core,
    fsm: StateMachine<Fsm>,
    // Last, so that `Session<A>` can be unsized to `Session<dyn Adapter>`.
    adapter: A,
}

/// A session of any adapter, as drivers hold it.
pub type BoxedSession = Box<Session<dyn Adapter>>;

impl<A: Adapter> Session<A> {
    /// A session in `Idle`; nothing happens until [`connect`](Self::connect).
    pub fn new(config: SessionConfig, adapter: A, now: Instant) -> Self {
        let core = Core::new(config, &adapter, now);
        Session {
            adapter,
            core,
            fsm: Fsm.state_machine(),
        }
    }
}

impl<A: Adapter + ?Sized> Session<A> {
    // ---- getters ------------------------------------------------------

    /// Where the session is in its life.
    pub fn state(&self) -> SessionState {
        machine::session_state(self.fsm.state())
    }

    /// The `connection` label of this session's metrics (see
    /// [`SessionConfig::connection_name`]).
    pub fn connection_name(&self) -> &str {
        self.core.config.connection_name()
    }

    /// Where it connects to: the URL's scheme, host, port and path.
    pub fn endpoint(&self) -> &crate::wire::Endpoint {
        self.core.config.wire.endpoint()
    }

    /// The adapter.
    pub fn adapter(&self) -> &A {
        &self.adapter
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        Stats {
            request_latency: self.core.request_window.summary(),
            ping_rtt: self.core.ping_window.summary(),
            ..self.core.stats
        }
    }

    /// Channels the application wants.
    pub fn desired_subscriptions(&self) -> impl Iterator<Item = &str> {
        self.core.subs.desired().iter().map(String::as_str)
    }

    /// Channels the server confirmed on the current connection.
    pub fn confirmed_subscriptions(&self) -> impl Iterator<Item = &str> {
        self.core.subs.confirmed().iter().map(String::as_str)
    }

    /// Whether the current connection is authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.core.authenticated
    }

    /// Requests without an outcome yet (queued or in flight).
    pub fn pending_requests(&self) -> usize {
        self.core.requests.len()
    }

    /// The subprotocol the server selected for the current connection (one of
    /// those offered with [`WireConfig::subprotocol`](crate::wire::WireConfig::subprotocol));
    /// `None` while not connected or when the server selected none. Read it
    /// on `Event::Connected`; it is cleared when the connection is lost.
    ///
    /// ```
    /// use std::time::Instant;
    /// use wsnova_core::session::{Echo, Session, SessionConfig};
    /// let mut config = SessionConfig::new("ws://127.0.0.1:9001/")?;
    /// config.wire = config.wire.subprotocol("v2.json").subprotocol("v1.json");
    /// let session = Session::new(config, Echo, Instant::now());
    /// assert_eq!(session.subprotocol(), None); // not connected yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subprotocol(&self) -> Option<&str> {
        self.core.wire.as_ref().and_then(|wire| wire.subprotocol())
    }

    /// The generation of the current (or last) dial.
    pub fn generation(&self) -> u64 {
        self.core.generation
    }

    /// Tells the session the wall-clock time (milliseconds since the Unix
    /// epoch) at `now`, for adapters that sign auth requests with a
    /// timestamp. The core has no clock: drivers call this once.
    pub fn set_unix_time(&mut self, now: Instant, unix_ms: u64) {
        self.core.wall_clock = Some((now, unix_ms));
    }

    /// Whole rate-limit tokens available at `now`; `None` without a rate limit.
    pub fn rate_limit_tokens(&mut self, now: Instant) -> Option<u64> {
        self.core.bucket.as_mut().map(|b| b.available(now))
    }

    /// Failed connection attempts in the current streak.
    pub fn failed_attempts(&self) -> u32 {
        self.core.backoff.attempts()
    }

    // ---- input --------------------------------------------------------

    /// Feeds what the driver saw. Input of an older generation is ignored.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.core.now = now;
        match input {
            Input::Connected { generation }
                if self.core.is_current(generation) && self.core.wire.is_none() =>
            {
                self.core.on_transport_up();
            }
            Input::ConnectFailed { generation, error } if self.core.is_current(generation) => {
                let reason = DisconnectReason::ConnectFailed(error.to_owned());
                self.core
                    .followups
                    .push_back(Ev::Lost(reason, Initiator::Remote));
            }
            Input::Bytes { generation, data } if self.core.is_current(generation) => {
                self.core.on_bytes(data);
            }
            Input::Closed { generation } if self.core.is_current(generation) => {
                match self.core.wire.as_mut() {
                    Some(wire) => wire.handle_eof(),
                    None => {
                        let reason =
                            DisconnectReason::TransportClosed("closed while connecting".into());
                        self.core
                            .followups
                            .push_back(Ev::Lost(reason, Initiator::Remote));
                    }
                }
            }
            _ => {} // a late event from a dead socket
        }
        self.pump();
    }

    /// Acts on every timer and request deadline due at `now`. Calling it
    /// early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.core.now = now;
        while let Some(timer) = self.core.timers.pop_expired(now) {
            self.core.on_timer(self.adapter.as_dyn(), timer);
            self.pump();
        }
        let hold_control = self.core.reading_paused;
        while let Some((id, purpose)) = self.core.requests.pop_expired(now, hold_control) {
            self.core
                .on_request_expired(self.adapter.as_dyn(), id, purpose);
            self.pump();
        }
    }

    // ---- commands -----------------------------------------------------

    /// Starts connecting (from `Idle`; a no-op otherwise).
    ///
    /// Fails with [`SessionError::Config`] before anything is dialled when
    /// [`SessionConfig::validate`] finds a mistake.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use wsnova_core::session::{ConfigError, Echo, Session, SessionConfig, SessionError};
    /// let mut config = SessionConfig::new("ws://127.0.0.1:9001/")?;
    /// config.connect_timeout = Duration::ZERO;
    /// let now = Instant::now();
    /// let mut session = Session::new(config, Echo, now);
    /// let err = session.connect(now).unwrap_err();
    /// assert_eq!(err, SessionError::Config(ConfigError::ZeroDuration { field: "connect_timeout" }));
    /// assert_eq!(session.poll_output(), None); // nothing dialled
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect(&mut self, now: Instant) -> Result<(), SessionError> {
        self.command(now)?;
        self.core.config.validate()?;
        self.core.followups.push_back(Ev::Connect);
        self.pump();
        Ok(())
    }

    /// Sends a text message once ready (queued until then).
    pub fn send_text(&mut self, now: Instant, text: &str) -> Result<(), SessionError> {
        self.command(now)?;
        if self.core.send_direct(Some(text), &[]) {
            return Ok(());
        }
        self.send_message(Payload::Text(text.to_owned()))
    }

    /// Sends a binary message once ready (queued until then).
    pub fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), SessionError> {
        self.command(now)?;
        if self.core.send_direct(None, data) {
            return Ok(());
        }
        self.send_message(Payload::Binary(data.to_vec()))
    }

    /// Frames a text message into the transmit buffer at once when the
    /// session is ready and nothing is queued ahead of it; `false` (nothing
    /// done) otherwise, and then [`send_text`](Self::send_text) takes it.
    /// Nothing time-dependent happens on this path, so it needs no clock: a
    /// driver sending many small messages saves a clock read per message.
    ///
    /// ```
    /// use std::time::Instant;
    /// use wsnova_core::session::{Echo, Session, SessionConfig};
    /// let mut session = Session::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Echo, Instant::now());
    /// let text = "hello";
    /// if !session.try_send_text_direct(text) {
    ///     session.send_text(Instant::now(), text)?; // not ready yet: queued
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_send_text_direct(&mut self, text: &str) -> bool {
        self.core.send_direct(Some(text), &[])
    }

    /// [`try_send_text_direct`](Self::try_send_text_direct) for a binary message.
    pub fn try_send_binary_direct(&mut self, data: &[u8]) -> bool {
        self.core.send_direct(None, data)
    }

    fn send_message(&mut self, payload: Payload) -> Result<(), SessionError> {
        let queued = self.core.send_user_message(self.adapter.as_dyn(), payload);
        self.pump();
        if queued {
            Ok(())
        } else {
            Err(SessionError::QueueFull)
        }
    }

    /// Sends a request with `params` given as JSON text. Exactly one outcome
    /// follows: `Event::Response` or `Event::RequestFailed`.
    pub fn request(
        &mut self,
        now: Instant,
        method: &str,
        params: &str,
    ) -> Result<RequestId, SessionError> {
        self.command(now)?;
        let request = OutgoingRequest::new(method, params);
        let id = self.core.send_user_request(self.adapter.as_dyn(), request);
        self.pump();
        Ok(id)
    }

    /// [`request`](Self::request) with params serialized from any `Serialize`.
    pub fn request_json<P: Serialize + ?Sized>(
        &mut self,
        now: Instant,
        method: &str,
        params: &P,
    ) -> Result<RequestId, SessionError> {
        let params = serde_json::to_string(params)
            .map_err(|e| SessionError::InvalidParams(e.to_string()))?;
        self.request(now, method, &params)
    }

    /// Adds channels to the desired set; they are subscribed now if the
    /// connection is past authentication, else on the next restore.
    pub fn subscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        self.command(now)?;
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        self.core.subs.want(&channels);
        if matches!(self.state(), SessionState::Restoring | SessionState::Ready) {
            self.core.request_subscriptions(self.adapter.as_dyn());
        }
        self.pump();
        Ok(())
    }

    /// Removes channels from the desired set and unsubscribes confirmed ones.
    pub fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        self.command(now)?;
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        let confirmed = self.core.subs.unwant(&channels);
        if self.core.connected && !confirmed.is_empty() {
            self.core
                .request_unsubscribe(self.adapter.as_dyn(), confirmed);
        }
        self.pump();
        Ok(())
    }

    /// Sets the credentials; authenticates now when connected, and after every reconnect.
    pub fn authenticate(
        &mut self,
        now: Instant,
        credentials: Credentials,
    ) -> Result<(), SessionError> {
        self.command(now)?;
        self.core.config.credentials = Some(credentials);
        if matches!(self.state(), SessionState::Restoring | SessionState::Ready) {
            self.core.start_auth(self.adapter.as_dyn());
        }
        self.pump();
        Ok(())
    }

    /// Sends a WebSocket ping; `Event::Pong { rtt }` follows.
    pub fn ping(&mut self, now: Instant) -> Result<(), SessionError> {
        self.command(now)?;
        if !self.core.connected || !self.core.send_ping() {
            return Err(SessionError::NotConnected);
        }
        Ok(())
    }

    /// Closes for good: a close handshake if connected, no reconnect ever.
    ///
    /// A code an endpoint may not send (e.g. 1006) or a reason over 123 bytes
    /// is refused and changes nothing.
    pub fn close(
        &mut self,
        now: Instant,
        code: CloseCode,
        reason: &str,
    ) -> Result<(), SessionError> {
        self.command(now)?;
        let code = u16::from(code);
        // Refused here, before anything changes (RFC 6455 §7.4.1).
        if code != 1005 && !crate::wire::is_valid_wire_close_code(code) {
            return Err(WireError::InvalidCloseCode(code).into());
        }
        if reason.len() > 123 {
            return Err(WireError::ControlPayloadTooLong(reason.len() + 2).into());
        }
        self.core.followups.push_back(Ev::Close {
            code,
            reason: reason.to_owned(),
        });
        self.pump();
        Ok(())
    }

    fn command(&mut self, now: Instant) -> Result<(), SessionError> {
        if self.state() == SessionState::Closed {
            return Err(SessionError::Closed);
        }
        self.core.now = now;
        Ok(())
    }

    /// Tells the session whether the driver reads the socket. A driver that
    /// stops reading because the application's consumer is full
    /// (backpressure) says so here. While paused, the deadlines only reading
    /// can meet (connect, pong, idle) are suspended, so a slow consumer never
    /// makes a healthy connection look dead, and heartbeat pings wait; the
    /// core's own requests (auth, refresh, subscriptions) cannot expire
    /// meanwhile either. When reading resumes, time has stood still for all
    /// of those: each deadline moves on by the time spent paused (never
    /// further than a full period from `now`). The application's request
    /// deadlines keep running: they are its own bound.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use wsnova_core::session::{Echo, Input, Output, Session, SessionConfig};
    /// let mut config = SessionConfig::new("ws://127.0.0.1:9001/")?;
    /// config.connect_timeout = Duration::from_secs(5);
    /// let t0 = Instant::now();
    /// let mut session = Session::new(config, Echo, t0);
    /// session.connect(t0)?;
    /// let Some(Output::Dial { generation, .. }) = session.poll_output() else { panic!() };
    /// session.handle_input(t0, Input::Connected { generation });
    /// assert_eq!(session.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    ///
    /// session.set_reading_paused(t0, true); // the upgrade's answer cannot be read
    /// assert_eq!(session.poll_timeout(), None);
    /// let later = t0 + Duration::from_secs(60);
    /// session.set_reading_paused(later, false);
    /// assert_eq!(session.poll_timeout(), Some(later + Duration::from_secs(5)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_reading_paused(&mut self, now: Instant, paused: bool) {
        self.core.now = now;
        self.core.set_reading_paused(paused);
    }

    // ---- output -------------------------------------------------------

    /// The next thing to do or report.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.core
            .outputs
            .pop_front()
            .or_else(|| self.core.poll_transmit_announcement())
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due; `None` when nothing is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timers = self.core.timers.next();
        let requests = self.core.requests.next_deadline(self.core.reading_paused);
        timers.into_iter().chain(requests).min()
    }

    /// Bytes to write to the current socket (many messages, one write).
    pub fn pending_transmit(&mut self) -> &[u8] {
        match self.core.wire.as_mut() {
            Some(wire) => wire.pending_transmit(),
            None => &[],
        }
    }

    /// Records that the socket accepted `n` bytes of [`pending_transmit`](Self::pending_transmit).
    pub fn advance_transmit(&mut self, n: usize) {
        self.core.advance_transmit(n);
    }

    /// Runs lifecycle events raised by mechanisms, and the wire's events, until quiet.
    fn pump(&mut self) {
        self.run();
        self.core.update_levels();
    }

    fn run(&mut self) {
        loop {
            while let Some(ev) = self.core.followups.pop_front() {
                let mut ctx = Ctx {
                    core: &mut self.core,
                    adapter: self.adapter.as_dyn(),
                };
                self.fsm.handle_with_context(&ev, &mut ctx);
            }
            if !self.core.step_wire(self.adapter.as_dyn()) && self.core.followups.is_empty() {
                break;
            }
        }
    }
}

impl<A: Adapter + std::fmt::Debug + ?Sized> std::fmt::Debug for Session<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("state", &self.state())
            .field("generation", &self.core.generation)
            .field("adapter", &&self.adapter)
            .field("stats", &self.core.stats)
            .finish()
    }
}
