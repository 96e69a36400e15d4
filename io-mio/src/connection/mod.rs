//! The embedding API: one session, its socket and its token, driven by the
//! owner's `mio::Poll`.

mod io;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use mio::{Registry, Token};
use serde::Serialize;
use wsnova_core::driver::{Builder, ConnectError, Status, check_raw_params, encode_params};
use wsnova_core::session::{
    Adapter, BoxedSession, Credentials, Event, HeartbeatConfig, RateLimits, RequestError,
    RequestId, Session, SessionError, SessionState,
};
use wsnova_core::wire::CloseCode;

use crate::link::Link;
use crate::now;
use crate::resolver::Resolver;

/// The environment variables the core's proxy settings read (in any case).
const PROXY_VARS: [&str; 4] = ["http_proxy", "https_proxy", "all_proxy", "no_proxy"];

/// The session as a command sees it.
type Dyn = Session<dyn Adapter>;

/// One logical WebSocket connection (across reconnects) for a mio loop you
/// run yourself: a [`Session`] plus its `mio::net::TcpStream`, registered
/// with your [`Registry`] under the [`Token`] you chose.
///
/// Drive it with three calls: [`handle_event`](Self::handle_event) for every mio
/// event with its token, [`handle_timeout`](Self::handle_timeout) once
/// [`poll_timeout`](Self::poll_timeout) has passed, and — if it resolves
/// host names with a [`Resolver`] — [`handle_resolved`](Self::handle_resolved).
/// After each, drain [`poll_event`](Self::poll_event). Commands
/// ([`send_text`](Self::send_text), [`request`](Self::request), …) write
/// to the socket at once when they can; [`feed_text`](Self::feed_text) and
/// [`feed_binary`](Self::feed_binary) only frame, and
/// [`flush`](Self::flush) writes the burst in one go.
///
/// Reading is edge-triggered and fair: a call reads until `WouldBlock`, or
/// stops after a bounded number of reads (or when the event queue is full)
/// and then reports `poll_timeout() <= now` so the loop comes back to it.
///
/// See `examples/embedded.rs` for a loop driving two connections and a
/// socket of its own.
pub struct Connection {
    session: BoxedSession,
    /// Its sockets, registered under its token.
    link: Link,
    /// Addresses to dial instead of resolving (`with_address`, `Builder::addresses`).
    addresses: Vec<SocketAddr>,
    /// `host:port` to dial instead of the URL's.
    dial_to: Option<(String, u16)>,
    /// Why `connect` must refuse, found when the options were taken.
    invalid: Option<Box<ConnectError>>,
    resolver: Option<Resolver>,
    events: VecDeque<Event>,
    event_capacity: usize,
    paused: bool,
    /// What the session was last told: reading stopped (paused by the
    /// application or the event queue full).
    reading_paused: bool,
    /// The time of the last input or command.
    now: Instant,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("token", &self.link.token())
            .field("state", &self.session.state())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection in `Idle`, registering its sockets with `registry` under
    /// `token`; nothing happens until [`connect`](Self::connect). `options`
    /// is a URL's [`Builder`] or a `SessionConfig`; its event capacity
    /// bounds the events waiting for [`poll_event`](Self::poll_event).
    /// Share one registry between connections:
    /// `Arc::new(poll.registry().try_clone()?)`.
    ///
    /// A `seed` of 0 is replaced by one from the process's entropy.
    pub fn new<A: Adapter>(
        options: impl Into<Builder>,
        adapter: A,
        registry: Arc<Registry>,
        token: Token,
    ) -> Connection {
        let options = options.into();
        let invalid = options.validate().err();
        let dial_to = options
            .dial_override()
            .map(|(host, port)| (host.to_owned(), port));
        let now = now();
        // The one place this driver reads the environment (proxy variables):
        // only those reach the core, which would otherwise look at every
        // variable of the process (a quarter of the loop's work when
        // opening thousands of connections).
        let env = std::env::vars_os().filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            let wanted = PROXY_VARS.iter().any(|p| p.eq_ignore_ascii_case(&k));
            wanted.then_some(())?;
            Some((k, v.into_string().ok()?))
        });
        let (config, invalid) = match options.session_config_with_env(env) {
            Ok(config) => (config, invalid),
            Err(err) => (options.session_config(), invalid.or(Some(err))),
        };
        // Time zero of the recording is the session's: a replay starts both at once.
        let recorder = options
            .recording()
            .map(|to| to.recorder(&config, now, |path| std::fs::File::create(path)))
            .transpose();
        let invalid = invalid.or_else(|| recorder.as_ref().err().cloned());
        let mut session: BoxedSession = Box::new(Session::new(config, adapter, now));
        if let Ok(Some(recorder)) = recorder {
            session.set_tap(recorder);
        }
        if let Ok(since_epoch) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
        {
            // The core has no clock; signed auth needs the wall-clock time.
            session.set_unix_time(now, since_epoch.as_millis() as u64);
        }
        Connection {
            session,
            link: Link::new(registry, token),
            addresses: options.address_override().to_vec(),
            dial_to,
            invalid: invalid.map(Box::new),
            resolver: None,
            events: VecDeque::new(),
            event_capacity: options.capacity().max(1),
            paused: false,
            reading_paused: false,
            now,
        }
    }

    /// Dials `addr` instead of resolving the URL's host (which still names
    /// the server for TLS and the `Host` header). Several addresses race
    /// (Happy Eyeballs) when given with `Builder::addresses`.
    pub fn with_address(mut self, addr: SocketAddr) -> Self {
        self.addresses = vec![addr];
        self
    }

    /// Resolves host names with `resolver` (off the loop thread). Without
    /// one (and without [`with_address`](Self::with_address)), only URLs
    /// naming an IP address can be dialed.
    pub fn with_resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// The token its sockets are registered under.
    pub fn token(&self) -> Token {
        self.link.token()
    }

    /// Starts connecting (from `Idle`; a no-op otherwise). Fails at once,
    /// dialling nothing, on an invalid option, or when the URL names a host
    /// that this connection has no way to resolve (no [`Resolver`], no
    /// address): retrying could never help.
    pub fn connect(&mut self) -> Result<(), ConnectError> {
        if let Some(invalid) = self.invalid.as_deref().cloned() {
            return Err(invalid);
        }
        if self.addresses.is_empty() && self.resolver.is_none() {
            let host = match &self.dial_to {
                Some((host, _)) => host.clone(),
                None => self.session.dial_target().0.to_owned(),
            };
            if host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_err()
            {
                return Err(ConnectError::InvalidOption(format!(
                    "cannot resolve host {host:?} without a Resolver: \
                     give the connection one (with_resolver) or an address (with_address)"
                )));
            }
        }
        self.command(|s, now| s.connect(now))
            .map_err(|e| ConnectError::InvalidOption(e.to_string()))
    }

    // ---- driving ------------------------------------------------------

    /// Handles a mio event; events for other tokens are ignored.
    pub fn handle_event(&mut self, event: &mio::event::Event) {
        if event.token() != self.link.token() {
            return;
        }
        self.now = now();
        self.on_ready(event);
    }

    /// Acts on every deadline due at `now` and continues reading a socket
    /// left readable. Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.link.advance_race(now, &mut self.session);
        self.session.handle_timeout(now);
        self.pump();
        self.read();
    }

    /// Takes the [`Resolver`]'s answer, if one is waiting, and dials.
    pub fn handle_resolved(&mut self) {
        self.now = now();
        self.link.handle_resolved(self.now, &mut self.session);
        self.pump();
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due. A time not after
    /// the last call means "as soon as possible" (a socket left readable).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut session = self.session.poll_timeout();
        if let Some(at) = self.link.poll_timeout() {
            session = Some(session.map_or(at, |s| s.min(at)));
        }
        if self.wants_read() {
            return Some(session.map_or(self.now, |at| at.min(self.now)));
        }
        session
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if self.events.is_empty()
            && self.events.capacity() > 0
            && event.as_ref().is_some_and(Event::is_lifecycle)
        {
            // The last of a burst of lifecycle events (connecting, ready,
            // subscribed): give the queue's memory back, so an idle
            // connection holds none. Messages and responses keep it for the
            // next ones (no allocation per message).
            self.events = VecDeque::new();
        }
        self.sync_reading_paused();
        event
    }

    /// Stops (`true`) or resumes reading the socket, e.g. while the
    /// application's own queue is full. After resuming, call
    /// [`handle_timeout`](Self::handle_timeout) when [`poll_timeout`](Self::poll_timeout) says so.
    ///
    /// While reading is stopped, for this reason or because the event queue
    /// is full, the session suspends the deadlines only reading can meet
    /// (connect, pong, idle): a slow application never makes a healthy
    /// connection look dead.
    pub fn pause_reading(&mut self, paused: bool) {
        self.paused = paused;
        self.sync_reading_paused();
    }

    /// Tells the session when reading stops or resumes for the application's sake.
    fn sync_reading_paused(&mut self) {
        let paused = self.paused || self.events.len() >= self.event_capacity;
        if paused != self.reading_paused {
            self.reading_paused = paused;
            self.now = now();
            self.session.set_reading_paused(self.now, paused);
        }
    }

    /// `true` once the session is closed, its socket released and every
    /// event taken: the connection can be dropped.
    pub fn is_finished(&self) -> bool {
        self.session.state() == SessionState::Closed
            && self.link.is_idle()
            && self.events.is_empty()
    }

    /// Bytes framed but not yet accepted by the socket.
    pub fn pending_bytes(&self) -> usize {
        self.session.pending_transmit_len()
    }

    // ---- getters ------------------------------------------------------

    /// Where the session is in its life.
    pub fn state(&self) -> SessionState {
        self.session.state()
    }

    /// The generation of the current (or last) dial.
    pub fn generation(&self) -> u64 {
        self.session.generation()
    }

    /// The connection's state right now.
    pub fn status(&self) -> Status {
        Status::of(&self.session)
    }

    // ---- commands -----------------------------------------------------

    /// Runs a session command at the current time, then writes what it framed.
    fn command<T>(
        &mut self,
        f: impl FnOnce(&mut Dyn, Instant) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        self.now = now();
        let result = f(&mut self.session, self.now);
        self.pump();
        result
    }

    /// Sends a text message: [`feed_text`](Self::feed_text), then
    /// [`flush`](Self::flush) (one write for it and everything fed before).
    /// Queued in the session until ready.
    pub fn send_text(&mut self, text: &str) -> Result<(), SessionError> {
        self.feed_text(text)?;
        self.flush();
        Ok(())
    }

    /// Sends a binary message: [`feed_binary`](Self::feed_binary), then
    /// [`flush`](Self::flush).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SessionError> {
        self.feed_binary(data)?;
        self.flush();
        Ok(())
    }

    /// Frames a text message into the session's outgoing buffer without
    /// writing it: a burst of fed messages leaves in one `write` at
    /// [`flush`](Self::flush), or earlier when this connection next handles
    /// an event or a timeout (which always write what waits). Queued in the
    /// session until ready, as [`send_text`](Self::send_text).
    ///
    /// ```no_run
    /// # fn demo(conn: &mut wsnova_mio::Connection) -> Result<(), wsnova_mio::SessionError> {
    /// for i in 0..100 {
    ///     conn.feed_text(&format!("order {i}"))?;
    /// }
    /// conn.flush(); // one syscall for the hundred frames
    /// # Ok(()) }
    /// ```
    pub fn feed_text(&mut self, text: &str) -> Result<(), SessionError> {
        // Framed at once when ready and nothing waits ahead: no clock read.
        if self.session.try_send_text_direct(text) {
            return Ok(());
        }
        self.queue(|s, now| s.send_text(now, text))
    }

    /// Frames a binary message without writing it (see [`feed_text`](Self::feed_text)).
    pub fn feed_binary(&mut self, data: &[u8]) -> Result<(), SessionError> {
        if self.session.try_send_binary_direct(data) {
            return Ok(());
        }
        self.queue(|s, now| s.send_binary(now, data))
    }

    /// Writes everything fed so far as far as the socket takes it, in as
    /// few `write`s as the socket allows. What it does not take yet waits
    /// for the socket's next writable event (see
    /// [`pending_bytes`](Self::pending_bytes)); nothing is lost or reordered.
    pub fn flush(&mut self) {
        self.pump();
    }

    /// Runs a session command that may queue a message, applying its
    /// outputs but writing nothing.
    fn queue(
        &mut self,
        f: impl FnOnce(&mut Dyn, Instant) -> Result<(), SessionError>,
    ) -> Result<(), SessionError> {
        self.now = now();
        let result = f(&mut self.session, self.now);
        self.apply_outputs();
        result
    }

    /// Serializes `value` and sends it as a text message.
    pub fn send_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SessionError> {
        let text =
            serde_json::to_string(value).map_err(|e| SessionError::InvalidParams(e.to_string()))?;
        self.send_text(&text)
    }

    /// Sends a request; exactly one outcome follows as an event:
    /// `Event::Response` or `Event::RequestFailed` (after the configured
    /// request timeout at the latest). `params` is any serializable object
    /// or array; `&()` sends none. JSON text goes through
    /// [`request_raw`](Self::request_raw).
    pub fn request<P: Serialize + ?Sized>(
        &mut self,
        method: &str,
        params: &P,
    ) -> Result<RequestId, SessionError> {
        let params = encode_params(params).map_err(invalid_params)?;
        self.command(|s, now| s.request(now, method, &params))
    }

    /// [`request`](Self::request) with params given as JSON text (an object
    /// or an array; empty for none), checked before it is sent.
    pub fn request_raw(&mut self, method: &str, params: &str) -> Result<RequestId, SessionError> {
        let params = check_raw_params(params).map_err(invalid_params)?;
        self.command(|s, now| s.request(now, method, &params))
    }

    /// Adds channels to the subscription set (replayed after every reconnect).
    pub fn subscribe(&mut self, channels: &[&str]) -> Result<(), SessionError> {
        self.command(|s, now| s.subscribe(now, channels))
    }

    /// Removes channels from the subscription set.
    pub fn unsubscribe(&mut self, channels: &[&str]) -> Result<(), SessionError> {
        self.command(|s, now| s.unsubscribe(now, channels))
    }

    /// Sets credentials and authenticates (now if connected, and after every reconnect).
    pub fn authenticate(&mut self, credentials: Credentials) -> Result<(), SessionError> {
        self.command(|s, now| s.authenticate(now, credentials))
    }

    /// Changes pings, the pong deadline and the idle timeout on the live
    /// connection and every later one, without a reconnect (see
    /// `Session::set_heartbeat`); zero durations are refused.
    pub fn set_heartbeat(&mut self, heartbeat: HeartbeatConfig) -> Result<(), SessionError> {
        self.command(|s, now| s.set_heartbeat(now, heartbeat))
    }

    /// Changes the rate limits live, without a reconnect (see
    /// `Session::set_rate_limits`: each class keeps its current tokens, capped
    /// at the new capacity); an invalid limit is refused and changes nothing.
    pub fn set_rate_limits(&mut self, limits: RateLimits) -> Result<(), SessionError> {
        self.command(|s, now| s.set_rate_limits(now, limits))
    }

    /// Sends a WebSocket ping; `Event::Pong { rtt }` follows.
    pub fn ping(&mut self) -> Result<(), SessionError> {
        self.command(|s, now| s.ping(now))
    }

    /// Closes for good: a close handshake if connected, no reconnect ever;
    /// `Event::Closed` follows. An invalid code or reason is refused.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        self.command(|s, now| s.close(now, code, reason))
    }
}

/// Params refused before anything was sent.
fn invalid_params(error: RequestError) -> SessionError {
    match error {
        RequestError::Rejected(e) => SessionError::InvalidParams(e.message),
        other => SessionError::InvalidParams(other.to_string()),
    }
}
