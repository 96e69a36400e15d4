//! [`Session`]: the application's handle on one logical connection, and
//! the run loop between its input, the lifecycle machine and the concerns.

use std::time::Instant;

use statig::blocking::{IntoStateMachineExt, StateMachine};

use super::adapter::Adapter;
use super::config::SessionConfig;
use super::core::Core;
use super::error::SessionError;
use super::io::{Input, Output};
use super::machine::{self, Ctx, Fsm};
use super::state::SessionState;
use super::stats::Stats;
use super::tap::{Call, Tap};

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
/// then sleep until `poll_timeout`. See the [module docs](crate::session) for the loop.
///
/// `A` may be unsized: a `Box<Session<MyAdapter>>` coerces to a
/// [`BoxedSession`] (`Box<Session<dyn Adapter>>`), which drivers hold so
/// that their handles are not generic over the adapter; every method works
/// on both.
///
/// ```
/// use std::time::Instant;
/// use wsnova_core::session::{BoxedSession, Plain, Session, SessionConfig, SessionState};
/// let config = SessionConfig::new("ws://127.0.0.1:9001/")?;
/// let session: BoxedSession = Box::new(Session::new(config, Plain, Instant::now()));
/// assert_eq!(session.state(), SessionState::Idle);
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
pub struct Session<A: Adapter + ?Sized> {
    pub(super) core: Core,
    pub(super) fsm: StateMachine<Fsm>,
    /// Told every input, command and output (recording), if set.
    pub(super) tap: Option<Box<dyn Tap>>,
    // Last, so that `Session<A>` can be unsized to `Session<dyn Adapter>`.
    pub(super) adapter: A,
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
            fsm: Fsm::default().state_machine(),
            tap: None,
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
        self.core.env.config.connection_name()
    }

    /// Where it connects (or last connected) to: the URL's scheme, host,
    /// port and path — the primary URL's, or a failover URL's after an
    /// attempt failed (see [`SessionConfig::failover`](super::SessionConfig::failover)).
    pub fn endpoint(&self) -> &crate::wire::Endpoint {
        self.core.transport.endpoint()
    }

    /// What the driver dials for the current endpoint: its proxy's host and
    /// port when it has one, else the endpoint's.
    pub fn dial_target(&self) -> (&str, u16) {
        self.core.transport.dial_target()
    }

    /// The subprotocol the server selected for the current connection (one of
    /// those offered with [`WireConfig::subprotocol`](crate::wire::WireConfig::subprotocol));
    /// `None` while not connected or when the server selected none. Read it
    /// on `Event::Connected`; it is cleared when the connection is lost
    /// (`tests/tests/session_subprotocol.rs` shows it).
    pub fn subprotocol(&self) -> Option<&str> {
        self.core
            .transport
            .wire
            .as_ref()
            .and_then(|wire| wire.subprotocol())
    }

    /// The permessage-deflate (RFC 7692) parameters agreed, if any.
    pub fn compression(&self) -> Option<&crate::wire::PerMessageDeflate> {
        self.core.transport.wire.as_ref()?.compression()
    }

    /// The adapter.
    pub fn adapter(&self) -> &A {
        &self.adapter
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.core.env.out.meters.snapshot()
    }

    /// Channels the application wants.
    pub fn desired_subscriptions(&self) -> impl Iterator<Item = &str> {
        self.core
            .subs
            .channels()
            .desired()
            .iter()
            .map(String::as_str)
    }

    /// Channels the server confirmed on the current connection.
    pub fn confirmed_subscriptions(&self) -> impl Iterator<Item = &str> {
        self.core
            .subs
            .channels()
            .confirmed()
            .iter()
            .map(String::as_str)
    }

    /// Whether the current connection is authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.core.auth.is_authenticated()
    }

    /// Requests without an outcome yet (queued or in flight).
    pub fn pending_requests(&self) -> usize {
        self.core.requests.len()
    }

    /// The generation of the current (or last) dial.
    pub fn generation(&self) -> u64 {
        self.core.transport.generation()
    }

    /// Tells the session the wall-clock time (milliseconds since the Unix
    /// epoch) at `now`, for adapters that sign auth requests with a
    /// timestamp. The core has no clock: drivers call this once.
    pub fn set_unix_time(&mut self, now: Instant, unix_ms: u64) {
        self.core.auth.set_unix_time(now, unix_ms);
        self.tell(now, Call::UnixTime(unix_ms), &Ok(()));
    }

    /// Tokens of the default rate-limit class at `now`; `None`: unlimited.
    pub fn rate_limit_tokens(&mut self, now: Instant) -> Option<u64> {
        self.rate_limit_tokens_of(super::RateClass::DEFAULT, now)
    }

    /// Failed connection attempts in the current streak.
    pub fn failed_attempts(&self) -> u32 {
        self.core.reconnect.attempts()
    }

    // ---- input --------------------------------------------------------

    /// Feeds what the driver saw. Input of an older generation is ignored.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        if let Some(tap) = self.tap.as_mut() {
            tap.input(now, &input);
        }
        self.core.env.now = now;
        let phase = self.state();
        self.core.handle_input(input, phase);
        self.pump();
    }

    /// Reads socket bytes straight into the connection's own buffer: the
    /// same as [`handle_input`](Self::handle_input) with
    /// [`Input::Bytes`], without its copy. `read` appends what the socket
    /// holds to the buffer it is given (there is room for at least one
    /// read; it must not remove anything) and its result is handed back;
    /// what it appended is then decoded as `Input::Bytes` would be. An
    /// empty read (EOF, would block, an error) changes nothing.
    ///
    /// `None`, without calling `read`, when the bytes must go through
    /// `Input::Bytes` instead: over TLS, while a proxy tunnel opens, when
    /// recording, and for a socket of an older `generation`.
    ///
    /// ```
    /// use std::time::Instant;
    /// use wsnova_core::session::{Plain, Session, SessionConfig};
    /// let mut session = Session::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, Instant::now());
    /// // No socket yet: nothing to read into.
    /// assert!(session.read_into(Instant::now(), 1, |_buf| ()).is_none());
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn read_into<R>(
        &mut self,
        now: Instant,
        generation: u64,
        read: impl FnOnce(&mut bytes::BytesMut) -> R,
    ) -> Option<R> {
        let transport = &mut self.core.transport;
        if self.tap.is_some() || !transport.is_current(generation) {
            return None;
        }
        let buf = transport.wire.as_mut()?.read_buffer()?;
        let before = buf.len();
        let result = read(buf);
        debug_assert!(buf.len() >= before, "read_into: the read removed bytes");
        let n = buf.len().saturating_sub(before);
        if n > 0 {
            self.core.env.now = now;
            let phase = self.state();
            self.core.on_read(n, phase);
            self.pump();
        }
        Some(result)
    }

    /// Acts on every timer and request deadline due at `now`. Calling it
    /// early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = self.tap.is_some() && self.poll_timeout().is_some_and(|at| at <= now);
        if let Some(tap) = self.tap.as_mut().filter(|_| due) {
            tap.timeout(now);
        }
        self.core.env.now = now;
        while let Some(timer) = self.core.env.timers.pop_expired(now) {
            let phase = self.state();
            self.core.on_timer(self.adapter.as_dyn(), timer, phase);
            self.pump();
        }
        let hold_control = self.core.heartbeat.reading_paused();
        while let Some((id, purpose)) = self.core.requests.pop_expired(now, hold_control) {
            let phase = self.state();
            self.core
                .on_request_expired(self.adapter.as_dyn(), id, purpose, phase);
            self.pump();
        }
    }

    // ---- output -------------------------------------------------------

    /// The next thing to do or report.
    pub fn poll_output(&mut self) -> Option<Output> {
        let output = self
            .core
            .env
            .out
            .pop_output()
            .or_else(|| self.core.transport.poll_transmit_announcement())?;
        if let Some(tap) = self.tap.as_mut() {
            tap.output(&output);
        }
        Some(output)
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due; `None` when nothing is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timers = self.core.env.timers.next();
        let hold_control = self.core.heartbeat.reading_paused();
        let requests = self.core.requests.next_deadline(hold_control);
        timers.into_iter().chain(requests).min()
    }

    /// Bytes to write to the current socket (many messages, one write).
    pub fn pending_transmit(&mut self) -> &[u8] {
        self.core.transport.pending_transmit()
    }

    /// Bytes waiting for the socket, unsealed (`&self`): for a driver's high-water mark.
    pub fn pending_transmit_len(&self) -> usize {
        self.core.transport.pending_len()
    }

    /// Records that the socket accepted `n` bytes of [`pending_transmit`](Self::pending_transmit).
    pub fn advance_transmit(&mut self, n: usize) {
        let core = &mut self.core;
        if let Some(tap) = self.tap.as_mut() {
            let generation = core.transport.generation();
            let pending = core.transport.pending_transmit();
            tap.written(generation, &pending[..n.min(pending.len())]);
        }
        core.transport.advance_transmit(&mut core.env.out, n);
    }

    /// Runs lifecycle events raised by mechanisms, and the wire's events, until quiet.
    pub(super) fn pump(&mut self) {
        self.run();
        self.core.update_levels();
    }

    fn run(&mut self) {
        loop {
            while let Some(ev) = self.core.env.out.pop_followup() {
                let mut ctx = Ctx {
                    core: &mut self.core,
                    adapter: self.adapter.as_dyn(),
                };
                self.fsm.handle_with_context(&ev, &mut ctx);
            }
            let phase = self.state();
            if !self.core.step_wire(self.adapter.as_dyn(), phase)
                && !self.core.env.out.has_followups()
            {
                break;
            }
        }
    }
}

/// The tap (see [`Tap`]).
impl<A: Adapter + ?Sized> Session<A> {
    /// Puts `tap` on the session (replacing any other): from now on it is
    /// told every input, command and output. Drivers put a recorder
    /// ([`crate::record::Recorder`]) here when asked to record.
    pub fn set_tap(&mut self, tap: Box<dyn Tap>) {
        self.tap = Some(tap);
    }

    /// Takes the tap off the session.
    pub fn take_tap(&mut self) -> Option<Box<dyn Tap>> {
        self.tap.take()
    }

    /// Whether a tap is on.
    pub fn is_tapped(&self) -> bool {
        self.tap.is_some()
    }

    /// Tells the tap (if any) about a command and its result.
    pub(super) fn tell<T>(
        &mut self,
        now: Instant,
        call: Call<'_>,
        result: &Result<T, SessionError>,
    ) {
        if let Some(tap) = self.tap.as_mut() {
            tap.command(now, &call, result.as_ref().map(|_| ()));
        }
    }
}

impl<A: Adapter + std::fmt::Debug + ?Sized> std::fmt::Debug for Session<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("state", &self.state())
            .field("generation", &self.core.transport.generation())
            .field("adapter", &&self.adapter)
            .field("stats", &self.core.env.out.meters.stats)
            .finish()
    }
}
