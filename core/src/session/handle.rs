//! [`Session`]: the application's handle on one logical connection, and
//! the run loop between its input, the lifecycle machine and the concerns.

use std::time::Instant;

use serde::Serialize;
use statig::blocking::{IntoStateMachineExt, StateMachine};

use super::adapter::{Adapter, OutgoingRequest};
use super::config::SessionConfig;
use super::core::{Core, link_of};
use super::credentials::Credentials;
use super::error::SessionError;
use super::event::RequestId;
use super::io::{Input, Output};
use super::machine::{self, Ctx, Fsm, State};
use super::outbox::Ev;
use super::queue::Payload;
use super::state::SessionState;
use super::stats::Stats;
use crate::wire::{CloseCode, WireError};

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
    fsm: StateMachine<Fsm>,
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
        self.core.env.now = now;
        let phase = self.state();
        self.core.handle_input(input, phase);
        self.pump();
    }

    /// Acts on every timer and request deadline due at `now`. Calling it
    /// early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
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

    // ---- commands -----------------------------------------------------

    /// Starts connecting (from `Idle`; a no-op otherwise).
    ///
    /// Fails with [`SessionError::Config`] before anything is dialled when
    /// [`SessionConfig::validate`] finds a mistake
    /// (`tests/tests/config_fail_fast.rs` shows each).
    pub fn connect(&mut self, now: Instant) -> Result<(), SessionError> {
        self.command(now)?;
        self.core.env.config.validate()?;
        self.core.env.out.raise(Ev::Connect);
        self.pump();
        Ok(())
    }

    /// Sends a text message once ready (queued until then).
    pub fn send_text(&mut self, now: Instant, text: &str) -> Result<(), SessionError> {
        self.command(now)?;
        if self.try_send_text_direct(text) {
            return Ok(());
        }
        self.send_message(Payload::Text(text.to_owned()))
    }

    /// Sends a binary message once ready (queued until then).
    pub fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), SessionError> {
        self.command(now)?;
        if self.try_send_binary_direct(data) {
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
    /// use wsnova_core::session::{Plain, Session, SessionConfig};
    /// let mut session = Session::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, Instant::now());
    /// let text = "hello";
    /// if !session.try_send_text_direct(text) {
    ///     session.send_text(Instant::now(), text)?; // not ready yet: queued
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_send_text_direct(&mut self, text: &str) -> bool {
        let ready = self.is_ready();
        self.core.send_direct(ready, Some(text), &[])
    }

    /// [`try_send_text_direct`](Self::try_send_text_direct) for a binary message.
    pub fn try_send_binary_direct(&mut self, data: &[u8]) -> bool {
        let ready = self.is_ready();
        self.core.send_direct(ready, None, data)
    }

    /// The machine is in `Ready` (a match on its state: no clock, no work).
    fn is_ready(&self) -> bool {
        matches!(self.fsm.state(), State::Ready {})
    }

    fn send_message(&mut self, payload: Payload) -> Result<(), SessionError> {
        let phase = self.state();
        let queued = self
            .core
            .send_message(self.adapter.as_dyn(), payload, phase);
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
        let phase = self.state();
        let id = link_of!(self.core, self.adapter.as_dyn(), phase).send_user_request(request);
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
        let phase = self.state();
        let mut link = link_of!(self.core, self.adapter.as_dyn(), phase);
        self.core.subs.subscribe(&mut link, &channels);
        self.pump();
        Ok(())
    }

    /// Removes channels from the desired set and unsubscribes confirmed ones.
    pub fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        self.command(now)?;
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        let phase = self.state();
        let mut link = link_of!(self.core, self.adapter.as_dyn(), phase);
        self.core.subs.unsubscribe(&mut link, &channels);
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
        self.core.env.config.credentials = Some(credentials);
        let phase = self.state();
        if phase.is_past_auth() {
            self.core
                .auth
                .start(&mut link_of!(self.core, self.adapter.as_dyn(), phase));
        }
        self.pump();
        Ok(())
    }

    /// Sends a WebSocket ping; `Event::Pong { rtt }` follows.
    pub fn ping(&mut self, now: Instant) -> Result<(), SessionError> {
        self.command(now)?;
        let phase = self.state();
        if !self.core.ping(phase) {
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
        self.core.env.out.raise(Ev::Close {
            code,
            reason: reason.to_owned(),
        });
        self.pump();
        Ok(())
    }

    pub(super) fn command(&mut self, now: Instant) -> Result<(), SessionError> {
        if self.state() == SessionState::Closed {
            return Err(SessionError::Closed);
        }
        self.core.env.now = now;
        Ok(())
    }

    /// Tells the session the driver stopped reading because the application's
    /// consumer is full (not because the server does not read: then every
    /// deadline runs). While paused, the deadlines only reading can meet
    /// (connect, pong, idle) and the core's own requests are suspended, so a
    /// slow consumer never makes a healthy connection look dead; pings wait.
    /// On resume each moves on by the time spent paused (never further than
    /// a full period from `now`). Application requests' deadlines keep running.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use wsnova_core::session::{Plain, Input, Output, Session, SessionConfig};
    /// let mut config = SessionConfig::new("ws://127.0.0.1:9001/")?;
    /// config.connect_timeout = Duration::from_secs(5);
    /// let t0 = Instant::now();
    /// let mut session = Session::new(config, Plain, t0);
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
        let core = &mut self.core;
        core.env.now = now;
        core.heartbeat
            .set_reading_paused(&mut core.env, &mut core.requests, paused);
    }

    // ---- output -------------------------------------------------------

    /// The next thing to do or report.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.core
            .env
            .out
            .pop_output()
            .or_else(|| self.core.transport.poll_transmit_announcement())
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
