//! The session behind a trait object: what both drivers hold, so their
//! handles are not generic over the adapter.

use std::time::Instant;

use super::{
    Adapter, Credentials, Input, Output, RequestId, Session, SessionError, SessionState, Stats,
};
use crate::wire::CloseCode;

/// A [`Session`] of any adapter behind a trait object, so drivers can hold
/// sessions without being generic over the adapter. Every method forwards
/// to the `Session` method of the same name.
///
/// ```
/// use std::time::Instant;
/// use wsnova_core::session::{DynSession, Echo, Session, SessionConfig, SessionState};
/// let config = SessionConfig::new("ws://127.0.0.1:9001/")?;
/// let session: Box<dyn DynSession> = Box::new(Session::new(config, Echo, Instant::now()));
/// assert_eq!(session.state(), SessionState::Idle);
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
#[allow(missing_docs)] // each method is the `Session` method of the same name
pub trait DynSession: Send {
    fn handle_input(&mut self, now: Instant, input: Input<'_>);
    fn handle_timeout(&mut self, now: Instant);
    fn connect(&mut self, now: Instant) -> Result<(), SessionError>;
    fn poll_output(&mut self) -> Option<Output>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn pending_transmit(&mut self) -> &[u8];
    fn advance_transmit(&mut self, n: usize);
    fn send_text(&mut self, now: Instant, text: &str) -> Result<(), SessionError>;
    fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), SessionError>;
    fn try_send_text_direct(&mut self, text: &str) -> bool;
    fn try_send_binary_direct(&mut self, data: &[u8]) -> bool;
    fn request(
        &mut self,
        now: Instant,
        method: &str,
        params: &str,
    ) -> Result<RequestId, SessionError>;
    fn subscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError>;
    fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError>;
    fn authenticate(&mut self, now: Instant, credentials: Credentials) -> Result<(), SessionError>;
    fn ping(&mut self, now: Instant) -> Result<(), SessionError>;
    fn close(&mut self, now: Instant, code: CloseCode, reason: &str) -> Result<(), SessionError>;
    fn state(&self) -> SessionState;
    fn stats(&self) -> Stats;
    fn desired(&self) -> Vec<String>;
    fn confirmed(&self) -> Vec<String>;
    fn is_authenticated(&self) -> bool;
    fn generation(&self) -> u64;
    fn set_reading_paused(&mut self, now: Instant, paused: bool);
}

impl<A: Adapter> DynSession for Session<A> {
    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        Session::handle_input(self, now, input)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Session::handle_timeout(self, now)
    }
    fn connect(&mut self, now: Instant) -> Result<(), SessionError> {
        Session::connect(self, now)
    }
    fn poll_output(&mut self) -> Option<Output> {
        Session::poll_output(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Session::poll_timeout(self)
    }
    fn pending_transmit(&mut self) -> &[u8] {
        Session::pending_transmit(self)
    }
    fn advance_transmit(&mut self, n: usize) {
        Session::advance_transmit(self, n)
    }
    fn send_text(&mut self, now: Instant, text: &str) -> Result<(), SessionError> {
        Session::send_text(self, now, text)
    }
    fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), SessionError> {
        Session::send_binary(self, now, data)
    }
    fn try_send_text_direct(&mut self, text: &str) -> bool {
        Session::try_send_text_direct(self, text)
    }
    fn try_send_binary_direct(&mut self, data: &[u8]) -> bool {
        Session::try_send_binary_direct(self, data)
    }
    fn request(
        &mut self,
        now: Instant,
        method: &str,
        params: &str,
    ) -> Result<RequestId, SessionError> {
        Session::request(self, now, method, params)
    }
    fn subscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        Session::subscribe(self, now, channels)
    }
    fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        Session::unsubscribe(self, now, channels)
    }
    fn authenticate(&mut self, now: Instant, credentials: Credentials) -> Result<(), SessionError> {
        Session::authenticate(self, now, credentials)
    }
    fn ping(&mut self, now: Instant) -> Result<(), SessionError> {
        Session::ping(self, now)
    }
    fn close(&mut self, now: Instant, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        Session::close(self, now, code, reason)
    }
    fn state(&self) -> SessionState {
        Session::state(self)
    }
    fn stats(&self) -> Stats {
        Session::stats(self)
    }
    fn desired(&self) -> Vec<String> {
        self.desired_subscriptions().map(str::to_owned).collect()
    }
    fn confirmed(&self) -> Vec<String> {
        self.confirmed_subscriptions().map(str::to_owned).collect()
    }
    fn is_authenticated(&self) -> bool {
        Session::is_authenticated(self)
    }
    fn generation(&self) -> u64 {
        Session::generation(self)
    }
    fn set_reading_paused(&mut self, now: Instant, paused: bool) {
        Session::set_reading_paused(self, now, paused)
    }
}
