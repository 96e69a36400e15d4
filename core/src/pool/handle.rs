//! [`Pool`]: the application's handle on many connections to one service,
//! and the driver's surface (input and output tagged by [`ConnId`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use crate::session::{
    Adapter, CloseReason, Input, RequestId, Session, SessionConfig, SessionError, SessionState,
};
use crate::wire::CloseCode;

use super::assign::Assignment;
use super::conn::{Conn, Role};
use super::delivery::Delivery;
use super::limits::{PoolLimits, Window};
use super::output::{ConnId, PoolOutput};

/// One logical client over many [`Session`]s to one service (see the
/// [module docs](super) for what it does and the run loop).
///
/// Methods come in the four groups of a session: **getters**
/// ([`conns`](Self::conns), [`session`](Self::session),
/// [`assignment`](Self::assignment)); **input**
/// ([`handle_input`](Self::handle_input), [`handle_timeout`](Self::handle_timeout));
/// **commands** ([`connect`](Self::connect), [`subscribe`](Self::subscribe),
/// [`request`](Self::request), [`close`](Self::close)); **output**
/// ([`poll_output`](Self::poll_output), [`pending_transmit`](Self::pending_transmit),
/// [`poll_timeout`](Self::poll_timeout)).
pub struct Pool<A: Adapter + Clone> {
    pub(super) config: SessionConfig,
    pub(super) adapter: A,
    pub(super) limits: PoolLimits,
    pub(super) conns: BTreeMap<ConnId, Conn<A>>,
    pub(super) next_conn: u64,
    pub(super) assign: Assignment,
    pub(super) delivery: Delivery,
    /// New connections (first dials and reconnects) in the current window.
    pub(super) opens: Window,
    /// A session's request id on its connection → the pool's id.
    pub(super) requests: HashMap<(ConnId, RequestId), RequestId>,
    pub(super) next_request: u64,
    /// Channels confirmed for the application (reported once).
    pub(super) confirmed: BTreeSet<String>,
    pub(super) out: VecDeque<PoolOutput>,
    pub(super) started: bool,
    /// Set by `close` (or a connection that stopped for good): why the pool ends.
    pub(super) closing: Option<CloseReason>,
    pub(super) closed: bool,
    /// The wall clock at an instant, for adapters that sign with it.
    pub(super) unix_time: Option<(Instant, u64)>,
    /// The driver stopped reading for a full consumer (see `set_reading_paused`).
    pub(super) reading_paused: bool,
}

impl<A: Adapter + Clone> Pool<A> {
    /// A pool with no connection yet; [`connect`](Self::connect) opens the
    /// first. Each connection is a [`Session`] with a copy of `config`
    /// (its seed offset by the connection's number, its name suffixed
    /// `#n`) and a clone of `adapter`.
    pub fn new(config: SessionConfig, adapter: A, limits: PoolLimits, _now: Instant) -> Self {
        let opens = Window::new(limits.max_new_connections, limits.per_window);
        Pool {
            config,
            adapter,
            limits,
            conns: BTreeMap::new(),
            next_conn: 1,
            assign: Assignment::default(),
            delivery: Delivery::default(),
            opens,
            requests: HashMap::new(),
            next_request: 1,
            confirmed: BTreeSet::new(),
            out: VecDeque::new(),
            started: false,
            closing: None,
            closed: false,
            unix_time: None,
            reading_paused: false,
        }
    }

    // ---- getters ------------------------------------------------------

    /// The limits it respects.
    pub fn limits(&self) -> &PoolLimits {
        &self.limits
    }

    /// Its connections, in id order (including ones being closed).
    pub fn conns(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.conns.keys().copied()
    }

    /// A connection's session.
    pub fn session(&self, conn: ConnId) -> Option<&Session<A>> {
        self.conns.get(&conn).map(|c| &c.session)
    }

    /// A connection's part in the pool.
    pub fn role(&self, conn: ConnId) -> Option<Role> {
        self.conns.get(&conn).map(|c| c.role)
    }

    /// Which channels are desired and where each is placed.
    pub fn assignment(&self) -> &Assignment {
        &self.assign
    }

    /// Channels confirmed for the application (on whichever connection).
    pub fn confirmed_channels(&self) -> impl Iterator<Item = &str> {
        self.confirmed.iter().map(String::as_str)
    }

    /// The connection whose updates of `channel` reach the application.
    pub fn delivering(&self, channel: &str) -> Option<ConnId> {
        self.delivery.source(channel)
    }

    /// Updates dropped because they were already delivered from another
    /// connection (during rotations).
    pub fn duplicates_dropped(&self) -> u64 {
        self.delivery.duplicates_dropped
    }

    /// Whether the pool has ended (its final `Closed` was emitted).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Tells every connection, present and future, the wall-clock time
    /// (milliseconds since the Unix epoch) at `now`, as
    /// [`Session::set_unix_time`] does for one.
    pub fn set_unix_time(&mut self, now: Instant, unix_ms: u64) {
        self.unix_time = Some((now, unix_ms));
        for conn in self.conns.values_mut() {
            conn.session.set_unix_time(now, unix_ms);
        }
    }

    // ---- input --------------------------------------------------------

    /// Feeds what the driver saw on `conn`'s socket. Input for a
    /// connection that is gone is ignored.
    pub fn handle_input(&mut self, now: Instant, conn: ConnId, input: Input<'_>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session.handle_input(now, input);
            self.pump(now);
        }
    }

    /// Runs every connection's due timers and the pool's own (rotations,
    /// budgets that free up). Calling it early does nothing.
    ///
    /// A lost connection's reconnect is a new connection too: while the
    /// connection window is full, its backoff timer is held until the
    /// window frees up (its queued requests' deadlines wait with it).
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.session.poll_timeout().is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            let backing_off = conn.session.state() == SessionState::BackingOff;
            if backing_off {
                if !self.opens.try_take(now) {
                    continue; // held: the window is full
                }
                conn.dial_counted = true;
            }
            conn.session.handle_timeout(now);
            if backing_off && conn.session.state() == SessionState::BackingOff {
                // Not the backoff timer after all: give the slot back.
                self.opens.cancel(now);
                conn.dial_counted = false;
            }
        }
        self.pump(now);
    }

    // ---- commands -----------------------------------------------------

    /// Starts: opens the first connection (more follow as subscriptions need them).
    pub fn connect(&mut self, now: Instant) -> Result<(), SessionError> {
        self.check_open()?;
        self.config.validate()?;
        self.started = true;
        self.pump(now);
        Ok(())
    }

    /// Adds channels to the desired set; they are placed on connections
    /// within the limits (opening connections as needed).
    pub fn subscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        self.check_open()?;
        self.assign.want(channels);
        self.pump(now);
        Ok(())
    }

    /// Removes channels from the desired set and unsubscribes them where placed.
    pub fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        self.check_open()?;
        for (conn, removed) in self.assign.unwant(channels) {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.queue_unsubscribe(&removed);
            }
        }
        for channel in channels {
            self.delivery.remove(channel);
        }
        self.pump(now);
        Ok(())
    }

    /// Sends a request on the `Ready` connection with the least load (or,
    /// with none ready, the least loaded one still coming up: it waits in
    /// that session's queue). Exactly one outcome follows, with the
    /// returned id: `Event::Response` or `Event::RequestFailed`.
    pub fn request(
        &mut self,
        now: Instant,
        method: &str,
        params: &str,
    ) -> Result<RequestId, SessionError> {
        self.check_open()?;
        if !self.started {
            return Err(SessionError::NotConnected);
        }
        let conn = match self.request_conn() {
            Some(conn) => conn,
            None => self.open_conn(now, Role::Active)?,
        };
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(SessionError::NotConnected)?;
        let inner = c.session.request(now, method, params)?;
        let id = RequestId(self.next_request);
        self.next_request += 1;
        self.requests.insert((conn, inner), id);
        self.pump(now);
        Ok(id)
    }

    /// Closes every connection; a single `Event::Closed` (with `conn: None`)
    /// follows when all are closed. A code an endpoint may not send or a
    /// reason over 123 bytes is refused and changes nothing (RFC 6455
    /// §7.4.1, §5.5), as a session refuses it.
    pub fn close(
        &mut self,
        now: Instant,
        code: CloseCode,
        reason: &str,
    ) -> Result<(), SessionError> {
        self.check_open()?;
        // Refused before the pool starts closing (RFC 6455 §7.4.1).
        crate::wire::check_close(u16::from(code), reason)?;
        self.closing = Some(CloseReason::User);
        for conn in self.conns.values_mut() {
            conn.role = Role::Dismissed;
            let _ = conn.session.close(now, code, reason);
        }
        self.pump(now);
        Ok(())
    }

    pub(super) fn check_open(&self) -> Result<(), SessionError> {
        if self.closing.is_some() || self.closed {
            return Err(SessionError::Closed);
        }
        Ok(())
    }

    /// The `Ready`, non-retiring connection with the least load; else any
    /// connection still coming up.
    fn request_conn(&self) -> Option<ConnId> {
        let load = |c: &Conn<A>, id: &ConnId| self.assign.load(*id) + c.session.pending_requests();
        let usable = |c: &&Conn<A>| matches!(c.role, Role::Active | Role::Replacing(_));
        let ready = self
            .conns
            .iter()
            .filter(|(_, c)| usable(c) && c.is_ready())
            .min_by_key(|(id, c)| (load(c, id), **id));
        ready
            .or_else(|| {
                self.conns
                    .iter()
                    .filter(|(_, c)| usable(c))
                    .min_by_key(|(id, c)| (load(c, id), **id))
            })
            .map(|(id, _)| *id)
    }

    // ---- output -------------------------------------------------------

    /// The next thing to do or report.
    pub fn poll_output(&mut self) -> Option<PoolOutput> {
        self.out.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let window = self.opens.free_at();
        let sessions = self.conns.values().filter_map(|c| {
            let due = c.session.poll_timeout()?;
            match (c.session.state(), window) {
                (SessionState::BackingOff, Some(free)) => Some(due.max(free)),
                _ => Some(due),
            }
        });
        let own = self.own_deadline();
        sessions.chain(own).min()
    }

    /// Bytes to write to `conn`'s socket (empty for an unknown connection).
    pub fn pending_transmit(&mut self, conn: ConnId) -> &[u8] {
        match self.conns.get_mut(&conn) {
            Some(c) => c.session.pending_transmit(),
            None => &[],
        }
    }

    /// Records that `conn`'s socket accepted `n` bytes.
    pub fn advance_transmit(&mut self, conn: ConnId, n: usize) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session.advance_transmit(n);
        }
    }

    /// Opens a connection in `role`, counted against the window.
    pub(super) fn open_conn(&mut self, now: Instant, role: Role) -> Result<ConnId, SessionError> {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        let mut config = self.config.clone();
        config.seed = config.seed.wrapping_add(id.0);
        config.name = Some(format!("{}#{}", self.config.connection_name(), id.0));
        let mut session = Session::new(config, self.adapter.clone(), now);
        if let Some((at, unix_ms)) = self.unix_time {
            session.set_unix_time(at, unix_ms);
        }
        session.connect(now)?;
        if self.reading_paused {
            session.set_reading_paused(now, true); // its answer cannot be read yet
        }
        self.opens.record(now);
        let mut conn = Conn::new(session, role, self.limits.max_subscribe_messages_per_second);
        conn.dial_counted = true;
        self.conns.insert(id, conn);
        // A replacement takes new channels too: they simply start there.
        self.assign.add_conn(id);
        Ok(id)
    }
}

impl<A: Adapter + Clone + std::fmt::Debug> std::fmt::Debug for Pool<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("conns", &self.conns.len())
            .field("desired", &self.assign.desired().len())
            .field("limits", &self.limits)
            .finish()
    }
}
