//! The application's commands on a [`Session`]: connect, send, request,
//! subscribe, authenticate, ping, close, and the driver's read pause. Each
//! runs at `now`, is told to the session's [`Tap`](super::Tap) (if any)
//! with its result, and leaves outputs to drain.

use std::time::Instant;

use serde::Serialize;

use super::adapter::Adapter;
use super::core::link_of;
use super::credentials::Credentials;
use super::error::SessionError;
use super::event::RequestId;
use super::handle::Session;
use super::machine::State;
use super::messages::OutgoingRequest;
use super::outbox::Ev;
use super::queue::Payload;
use super::state::SessionState;
use super::tap::Call;
use crate::wire::CloseCode;

impl<A: Adapter + ?Sized> Session<A> {
    // ---- commands -----------------------------------------------------

    /// Starts connecting (from `Idle`; a no-op otherwise).
    ///
    /// Fails with [`SessionError::Config`] before anything is dialled when
    /// [`SessionConfig::validate`](super::SessionConfig::validate) finds a mistake
    /// (`tests/tests/config_fail_fast.rs` shows each).
    pub fn connect(&mut self, now: Instant) -> Result<(), SessionError> {
        self.recorded(now, Call::Connect, |s| {
            s.command(now)?;
            s.core.env.config.validate()?;
            s.core.env.out.raise(Ev::Connect);
            s.pump();
            Ok(())
        })
    }

    /// Sends a text message once ready (queued until then).
    pub fn send_text(&mut self, now: Instant, text: &str) -> Result<(), SessionError> {
        self.recorded(now, Call::SendText(text), |s| {
            s.command(now)?;
            if s.send_direct(Some(text), &[]) {
                return Ok(());
            }
            s.send_message(Payload::Text(text.to_owned()))
        })
    }

    /// Sends a binary message once ready (queued until then).
    pub fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), SessionError> {
        self.recorded(now, Call::SendBinary(data), |s| {
            s.command(now)?;
            if s.send_direct(None, data) {
                return Ok(());
            }
            s.send_message(Payload::Binary(data.to_vec()))
        })
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
    ///
    /// A tapped (recorded) session always answers `false`: a command
    /// without a time could not be replayed at its time.
    pub fn try_send_text_direct(&mut self, text: &str) -> bool {
        self.tap.is_none() && self.send_direct(Some(text), &[])
    }

    /// [`try_send_text_direct`](Self::try_send_text_direct) for a binary message.
    pub fn try_send_binary_direct(&mut self, data: &[u8]) -> bool {
        self.tap.is_none() && self.send_direct(None, data)
    }

    fn send_direct(&mut self, text: Option<&str>, data: &[u8]) -> bool {
        let ready = self.is_ready();
        self.core.send_direct(ready, text, data)
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
        self.recorded(now, Call::Request { method, params }, |s| {
            s.command(now)?;
            let request = OutgoingRequest::new(method, params);
            let phase = s.state();
            let id = link_of!(s.core, s.adapter.as_dyn(), phase).send_user_request(request);
            s.pump();
            Ok(id)
        })
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
        self.recorded(now, Call::Subscribe(channels), |s| {
            s.command(now)?;
            let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
            let phase = s.state();
            let mut link = link_of!(s.core, s.adapter.as_dyn(), phase);
            s.core.subs.subscribe(&mut link, &channels);
            s.pump();
            Ok(())
        })
    }

    /// Removes channels from the desired set and unsubscribes confirmed ones.
    pub fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        self.recorded(now, Call::Unsubscribe(channels), |s| {
            s.command(now)?;
            let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
            let phase = s.state();
            let mut link = link_of!(s.core, s.adapter.as_dyn(), phase);
            s.core.subs.unsubscribe(&mut link, &channels);
            s.pump();
            Ok(())
        })
    }

    /// Sets the credentials; authenticates now when connected, and after every reconnect.
    pub fn authenticate(
        &mut self,
        now: Instant,
        credentials: Credentials,
    ) -> Result<(), SessionError> {
        let client_id = credentials.client_id.clone();
        self.recorded(
            now,
            Call::Authenticate {
                client_id: &client_id,
            },
            |s| {
                s.command(now)?;
                s.core.env.config.credentials = Some(credentials);
                let phase = s.state();
                if phase.is_past_auth() {
                    s.core
                        .auth
                        .start(&mut link_of!(s.core, s.adapter.as_dyn(), phase));
                }
                s.pump();
                Ok(())
            },
        )
    }

    /// Sends a WebSocket ping; `Event::Pong { rtt }` follows.
    pub fn ping(&mut self, now: Instant) -> Result<(), SessionError> {
        self.recorded(now, Call::Ping, |s| {
            s.command(now)?;
            let phase = s.state();
            if !s.core.ping(phase) {
                return Err(SessionError::NotConnected);
            }
            Ok(())
        })
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
        let code = u16::from(code);
        self.recorded(now, Call::Close { code, reason }, |s| {
            s.command(now)?;
            // Refused here, before anything changes (RFC 6455 §7.4.1).
            crate::wire::check_close(code, reason)?;
            s.core.env.out.raise(Ev::Close {
                code,
                reason: reason.to_owned(),
            });
            s.pump();
            Ok(())
        })
    }

    /// Runs a command's `body`, then tells the tap (if any) how it went.
    pub(super) fn recorded<T>(
        &mut self,
        now: Instant,
        call: Call<'_>,
        body: impl FnOnce(&mut Self) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        let result = body(self);
        self.tell(now, call, &result);
        result
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
        self.tell(now, Call::ReadingPaused(paused), &Ok(()));
    }
}
