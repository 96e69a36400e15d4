//! Settings a pool applies to every connection, present and future:
//! credentials, heartbeat and rate limits, changed live (as
//! [`Session::authenticate`], [`Session::set_heartbeat`] and
//! [`Session::set_rate_limits`] do for one connection).
//!
//! Each is written into the pool's copy of the configuration, from which
//! every later connection (a scale-out, a reconnect's replacement, a
//! rotation's successor) is made, and applied to every connection that is
//! not being closed by the pool.

use std::time::Instant;

use crate::session::{Adapter, Credentials, HeartbeatConfig, RateLimits, Session, SessionError};

use super::conn::Role;
use super::handle::Pool;
use super::status::{ConnStatus, PoolStatus};
use crate::driver::Status;

impl<A: Adapter + Clone> Pool<A> {
    /// Sets the credentials of every connection, present and future: the
    /// connections past their handshake authenticate now, the others (and
    /// every connection opened later) when they come up, and again after
    /// every reconnect.
    ///
    /// ```
    /// use std::time::Instant;
    /// use wsnova_core::pool::{Pool, PoolLimits};
    /// use wsnova_core::session::{Credentials, Plain, SessionConfig};
    /// let now = Instant::now();
    /// let mut pool = Pool::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, PoolLimits::default(), now);
    /// pool.connect(now)?;
    /// pool.authenticate(now, Credentials::new("id", "secret"))?;
    /// let conn = pool.conns().next().unwrap();
    /// assert!(!pool.session(conn).unwrap().is_authenticated()); // not connected yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authenticate(
        &mut self,
        now: Instant,
        credentials: Credentials,
    ) -> Result<(), SessionError> {
        self.check_open()?;
        self.config.credentials = Some(credentials.clone());
        for conn in self.conns.values_mut() {
            if conn.role != Role::Dismissed {
                // A session closed for good is about to leave the pool.
                let _ = conn.session.authenticate(now, credentials.clone());
            }
        }
        self.pump(now);
        Ok(())
    }

    /// Changes pings, the pong deadline and the idle timeout of every
    /// connection, present and future, without a reconnect. A heartbeat a
    /// session would refuse (a zero duration) is refused before anything
    /// changes.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use wsnova_core::pool::{Pool, PoolLimits};
    /// use wsnova_core::session::{Plain, SessionConfig};
    /// let now = Instant::now();
    /// let mut pool = Pool::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, PoolLimits::default(), now);
    /// pool.connect(now)?;
    /// let mut heartbeat = pool.heartbeat().clone();
    /// heartbeat.ping_interval = Some(Duration::from_secs(7));
    /// pool.set_heartbeat(now, heartbeat)?;
    /// let conn = pool.conns().next().unwrap();
    /// assert_eq!(pool.session(conn).unwrap().heartbeat(), &heartbeat);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_heartbeat(
        &mut self,
        now: Instant,
        heartbeat: HeartbeatConfig,
    ) -> Result<(), SessionError> {
        self.check_open()?;
        self.scratch(now).set_heartbeat(now, heartbeat)?;
        self.config.heartbeat = heartbeat;
        for conn in self.conns.values_mut() {
            if conn.role != Role::Dismissed {
                let _ = conn.session.set_heartbeat(now, heartbeat);
            }
        }
        self.pump(now);
        Ok(())
    }

    /// Changes the rate limits of every connection, present and future
    /// (each connection has its own buckets, as the service counts per
    /// connection), without a reconnect. An invalid limit is refused before
    /// anything changes.
    pub fn set_rate_limits(
        &mut self,
        now: Instant,
        limits: RateLimits,
    ) -> Result<(), SessionError> {
        self.check_open()?;
        self.scratch(now).set_rate_limits(now, limits.clone())?;
        self.config.rate_limits = limits.clone();
        for conn in self.conns.values_mut() {
            if conn.role != Role::Dismissed {
                let _ = conn.session.set_rate_limits(now, limits.clone());
            }
        }
        self.pump(now);
        Ok(())
    }

    /// Tells every connection, present and future, that the driver stopped
    /// (or resumed) reading their sockets because an event consumer under
    /// `LagPolicy::Backpressure` is full, as
    /// [`Session::set_reading_paused`] does for one: the deadlines only
    /// reading can meet (connect, pong, idle) wait, so a slow application
    /// never makes healthy connections look dead.
    pub fn set_reading_paused(&mut self, now: Instant, paused: bool) {
        if paused == self.reading_paused {
            return;
        }
        self.reading_paused = paused;
        for conn in self.conns.values_mut() {
            conn.session.set_reading_paused(now, paused);
        }
        self.pump(now);
    }

    /// Whether reading is paused for a full consumer.
    pub fn is_reading_paused(&self) -> bool {
        self.reading_paused
    }

    /// The heartbeat every new connection starts with.
    pub fn heartbeat(&self) -> &HeartbeatConfig {
        &self.config.heartbeat
    }

    /// The rate limits every new connection starts with.
    pub fn rate_limits(&self) -> &RateLimits {
        &self.config.rate_limits
    }

    /// A session that is never connected, to check a change against the
    /// same rules every connection applies before any connection sees it.
    fn scratch(&self, now: Instant) -> Session<A> {
        Session::new(self.config.clone(), self.adapter.clone(), now)
    }
}

impl<A: Adapter + Clone> Pool<A> {
    /// The pool's state right now.
    pub fn status(&self) -> PoolStatus {
        let connections = self
            .conns
            .iter()
            .map(|(id, c)| ConnStatus {
                conn: *id,
                role: c.role,
                status: Status::of(&c.session),
            })
            .collect();
        PoolStatus {
            connections,
            desired: self.assign.desired().iter().cloned().collect(),
            confirmed: self.confirmed.iter().cloned().collect(),
            duplicates_dropped: self.delivery.duplicates_dropped,
            closed: self.closed,
        }
    }
}
