//! Settings changed on a live session, without a reconnect: the commands
//! an operator's hot reload uses (`wsnova run FILE`). Each checks the new
//! value as [`SessionConfig::validate`](super::SessionConfig::validate)
//! would, and a refused value changes nothing.

use std::time::Instant;

use super::adapter::Adapter;
use super::config::HeartbeatConfig;
use super::error::SessionError;
use super::handle::Session;
use super::tap::Call;

impl<A: Adapter + ?Sized> Session<A> {
    /// The heartbeat settings in force.
    pub fn heartbeat(&self) -> &HeartbeatConfig {
        &self.core.env.config.heartbeat
    }

    /// Changes pings, the pong deadline and the idle timeout at `now`,
    /// on the current connection and every later one, without a
    /// reconnect. On an open connection: the next ping goes within the new
    /// interval (no later than it was due), none when pings are turned off;
    /// unanswered pings are awaited under the new pong timeout (counted
    /// from when each was sent, so a shorter one may count one lost at the
    /// next `handle_timeout`); the idle timeout runs afresh from `now`.
    /// Zero durations are refused with [`SessionError::Config`], as in a
    /// configuration.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use wsnova_core::session::{HeartbeatConfig, Plain, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, now);
    /// let faster = HeartbeatConfig { ping_interval: Some(Duration::from_secs(1)), ..HeartbeatConfig::default() };
    /// session.set_heartbeat(now, faster)?;
    /// assert_eq!(session.heartbeat().ping_interval, Some(Duration::from_secs(1)));
    /// let zero = HeartbeatConfig { ping_interval: Some(Duration::ZERO), ..faster };
    /// assert!(session.set_heartbeat(now, zero).is_err());
    /// assert_eq!(session.heartbeat(), &faster, "a refused value changes nothing");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_heartbeat(
        &mut self,
        now: Instant,
        heartbeat: HeartbeatConfig,
    ) -> Result<(), SessionError> {
        self.recorded(now, Call::Heartbeat(&heartbeat), |s| {
            s.command(now)?;
            let mut candidate = s.core.env.config.clone();
            candidate.heartbeat = heartbeat;
            candidate.validate()?;
            let open = s.state().is_open();
            let core = &mut s.core;
            core.heartbeat.reconfigure(&mut core.env, heartbeat, open);
            Ok(())
        })
    }
}
