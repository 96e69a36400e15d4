//! A [`Pool`] on the loop thread: one [`Link`] per connection's current
//! dial, each under a token of its own (one per (connection, generation)),
//! bytes and time handed to the pool, its events to the [`Route`]. The
//! sockets are moved by the same [`Link`] code as a single
//! [`Connection`](crate::Connection)'s; everything else is the core's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use mio::{Registry, Token};
use slab::Slab;
use wsnova_core::pool::{ConnId, Pool, PoolOutput, PoolStatus};
use wsnova_core::session::{
    Adapter, Credentials, HeartbeatConfig, Input, RateLimits, RequestId, SessionError,
};
use wsnova_core::wire::CloseCode;

use crate::event_loop::HIGH_WATER;
use crate::link::{Link, READS_PER_TURN, ReadStep, Sink, with_read_buffer};
use crate::resolver::Resolver;
use crate::route::Route;

/// Pool sockets' tokens start here (a connection's token is its slab key,
/// far below; the waker's is `usize::MAX`).
pub(crate) const POOL_TOKENS: usize = usize::MAX / 2;

/// What a pool's sockets need from the loop.
pub(crate) struct Ctx<'a> {
    pub(crate) registry: &'a Arc<Registry>,
    pub(crate) resolver: &'a Resolver,
    /// Every pool socket's token (minus [`POOL_TOKENS`]) → its pool's key.
    pub(crate) tokens: &'a mut Slab<usize>,
    /// This pool's key.
    pub(crate) key: usize,
}

/// A pool of any adapter, as the loop and the handle see it.
pub(crate) trait PoolTask: Send {
    fn route(&mut self) -> &mut Route;
    /// Subscribes; returns the channels confirmed before the call.
    fn subscribe(&mut self, now: Instant, channels: &[&str]) -> Result<Vec<String>, SessionError>;
    fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError>;
    fn request(
        &mut self,
        now: Instant,
        method: &str,
        params: &str,
    ) -> Result<RequestId, SessionError>;
    fn close(&mut self, now: Instant, code: CloseCode, reason: &str) -> Result<(), SessionError>;
    fn authenticate(&mut self, now: Instant, credentials: Credentials) -> Result<(), SessionError>;
    fn set_heartbeat(
        &mut self,
        now: Instant,
        heartbeat: HeartbeatConfig,
    ) -> Result<(), SessionError>;
    fn set_rate_limits(&mut self, now: Instant, limits: RateLimits) -> Result<(), SessionError>;
    fn status(&self) -> PoolStatus;
    fn is_closed(&self) -> bool;
    fn connections(&self) -> Vec<ConnId>;
    /// A readiness event for one of its tokens.
    fn handle_event(&mut self, event: &mio::event::Event, ctx: Ctx<'_>);
    /// A lookup for one of its tokens finished.
    fn handle_resolved(&mut self, token: Token, ctx: Ctx<'_>);
    /// Due timers, races and sockets left readable.
    fn handle_timeout(&mut self, now: Instant, ctx: Ctx<'_>);
    /// Applies the pool's outputs and writes; after every call above.
    fn settle(&mut self, ctx: Ctx<'_>);
    fn poll_timeout(&mut self) -> Option<Instant>;
    /// Closed, every socket released: it can be dropped.
    fn is_finished(&self) -> bool;
    /// Releases every socket and token (the pool is being dropped).
    fn release_all(&mut self, tokens: &mut Slab<usize>);
}

/// One connection of the pool as a [`Sink`].
struct ConnSink<'a, A: Adapter + Clone> {
    pool: &'a mut Pool<A>,
    conn: ConnId,
}

impl<A: Adapter + Clone> Sink for ConnSink<'_, A> {
    fn input(&mut self, now: Instant, input: Input<'_>) {
        self.pool.handle_input(now, self.conn, input);
    }

    fn pending_transmit(&mut self) -> &[u8] {
        self.pool.pending_transmit(self.conn)
    }

    fn advance_transmit(&mut self, n: usize) {
        self.pool.advance_transmit(self.conn, n);
    }
}

/// A pool, its sockets and who waits for what.
pub(crate) struct PoolRunner<A: Adapter + Clone> {
    pool: Pool<A>,
    links: HashMap<ConnId, Link>,
    by_token: HashMap<Token, ConnId>,
    route: Route,
    /// The time of the last input.
    now: Instant,
}

impl<A: Adapter + Clone> PoolRunner<A> {
    pub(crate) fn new(pool: Pool<A>, route: Route) -> Self {
        PoolRunner {
            pool,
            links: HashMap::new(),
            by_token: HashMap::new(),
            route,
            now: crate::now(),
        }
    }

    fn drop_link(&mut self, conn: ConnId, tokens: &mut Slab<usize>) {
        if let Some(link) = self.links.remove(&conn) {
            self.by_token.remove(&link.token());
            tokens.try_remove(link.token().0 - POOL_TOKENS);
        }
    }

    /// Applies one output.
    fn apply(&mut self, output: PoolOutput, ctx: &mut Ctx<'_>) {
        match output {
            PoolOutput::Dial {
                conn,
                generation,
                host,
                port,
            } => {
                // A new token for every dial: a late event of an earlier
                // socket cannot be mistaken for this one's.
                self.drop_link(conn, ctx.tokens);
                let token = Token(POOL_TOKENS + ctx.tokens.insert(ctx.key));
                let mut link = Link::new(ctx.registry.clone(), token);
                let mut sink = ConnSink {
                    pool: &mut self.pool,
                    conn,
                };
                let target = (host, port);
                link.start_dial(
                    generation,
                    target,
                    &[],
                    Some(ctx.resolver),
                    self.now,
                    &mut sink,
                );
                self.by_token.insert(token, conn);
                self.links.insert(conn, link);
            }
            PoolOutput::CloseTransport {
                conn,
                generation,
                flush,
            } => {
                if let Some(link) = self.links.get_mut(&conn) {
                    link.close_transport(generation, &flush);
                    if link.is_idle() {
                        self.drop_link(conn, ctx.tokens);
                    }
                }
            }
            PoolOutput::Transmit { .. } => {} // every settle ends with a flush
            PoolOutput::Event { event, .. } => self.route.route(event),
        }
    }

    /// Reads `conn`'s socket until `WouldBlock`, EOF or the per-call bound;
    /// not at all while a consumer under `LagPolicy::Backpressure` is full
    /// (the socket stays readable: the read resumes when it has room).
    fn read(&mut self, conn: ConnId, ctx: &mut Ctx<'_>) {
        with_read_buffer(|buf| {
            for _ in 0..READS_PER_TURN {
                if self.pool.pending_transmit(conn).len() > HIGH_WATER
                    || self.route.is_backpressured()
                {
                    return;
                }
                let Some(link) = self.links.get_mut(&conn) else {
                    return;
                };
                let mut sink = ConnSink {
                    pool: &mut self.pool,
                    conn,
                };
                let step = link.read_once(buf, self.now, &mut sink);
                self.settle_with(ctx);
                if !matches!(step, ReadStep::Data) {
                    return;
                }
                self.now = crate::now();
            }
        })
    }

    fn settle_with(&mut self, ctx: &mut Ctx<'_>) {
        loop {
            while let Some(output) = self.pool.poll_output() {
                self.apply(output, ctx);
            }
            let mut fed = false;
            for (conn, link) in self.links.iter_mut() {
                let mut sink = ConnSink {
                    pool: &mut self.pool,
                    conn: *conn,
                };
                fed |= link.flush(self.now, &mut sink);
            }
            if !fed {
                break;
            }
        }
        // Tell the sessions when reading stops or resumes for a consumer.
        self.pool
            .set_reading_paused(self.now, self.route.is_backpressured());
        while let Some(output) = self.pool.poll_output() {
            self.apply(output, ctx);
        }
        if self.pool.is_closed() {
            let conns: Vec<ConnId> = self.links.keys().copied().collect();
            for conn in conns {
                self.drop_link(conn, ctx.tokens);
            }
        }
    }
}

impl<A: Adapter + Clone> PoolTask for PoolRunner<A> {
    fn route(&mut self) -> &mut Route {
        &mut self.route
    }

    fn subscribe(&mut self, now: Instant, channels: &[&str]) -> Result<Vec<String>, SessionError> {
        self.now = now;
        let confirmed = self.pool.confirmed_channels().map(str::to_owned).collect();
        self.pool.subscribe(now, channels)?;
        Ok(confirmed)
    }

    fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        self.now = now;
        self.pool.unsubscribe(now, channels)
    }

    fn request(
        &mut self,
        now: Instant,
        method: &str,
        params: &str,
    ) -> Result<RequestId, SessionError> {
        self.now = now;
        self.pool.request(now, method, params)
    }

    fn close(&mut self, now: Instant, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        self.now = now;
        self.pool.close(now, code, reason)
    }

    fn authenticate(&mut self, now: Instant, credentials: Credentials) -> Result<(), SessionError> {
        self.now = now;
        self.pool.authenticate(now, credentials)
    }

    fn set_heartbeat(
        &mut self,
        now: Instant,
        heartbeat: HeartbeatConfig,
    ) -> Result<(), SessionError> {
        self.now = now;
        self.pool.set_heartbeat(now, heartbeat)
    }

    fn set_rate_limits(&mut self, now: Instant, limits: RateLimits) -> Result<(), SessionError> {
        self.now = now;
        self.pool.set_rate_limits(now, limits)
    }

    fn status(&self) -> PoolStatus {
        self.pool.status()
    }

    fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    fn connections(&self) -> Vec<ConnId> {
        self.pool.conns().collect()
    }

    fn handle_event(&mut self, event: &mio::event::Event, mut ctx: Ctx<'_>) {
        let Some(&conn) = self.by_token.get(&event.token()) else {
            return; // a socket already released
        };
        self.now = crate::now();
        let Some(link) = self.links.get_mut(&conn) else {
            return;
        };
        let mut sink = ConnSink {
            pool: &mut self.pool,
            conn,
        };
        if link.on_ready(event, self.now, &mut sink) {
            self.settle_with(&mut ctx); // writability: write what waits
            self.read(conn, &mut ctx);
        }
    }

    fn handle_resolved(&mut self, token: Token, mut ctx: Ctx<'_>) {
        let Some(&conn) = self.by_token.get(&token) else {
            return;
        };
        self.now = crate::now();
        if let Some(link) = self.links.get_mut(&conn) {
            let mut sink = ConnSink {
                pool: &mut self.pool,
                conn,
            };
            link.handle_resolved(self.now, &mut sink);
        }
        self.settle_with(&mut ctx);
    }

    fn handle_timeout(&mut self, now: Instant, mut ctx: Ctx<'_>) {
        self.now = now;
        for (conn, link) in self.links.iter_mut() {
            let mut sink = ConnSink {
                pool: &mut self.pool,
                conn: *conn,
            };
            link.advance_race(now, &mut sink);
        }
        if self.pool.poll_timeout().is_some_and(|at| at <= now) {
            self.pool.handle_timeout(now);
        }
        self.settle_with(&mut ctx);
        let readable: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(_, l)| l.is_readable())
            .map(|(c, _)| *c)
            .collect();
        for conn in readable {
            self.read(conn, &mut ctx);
        }
    }

    fn settle(&mut self, mut ctx: Ctx<'_>) {
        self.settle_with(&mut ctx);
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let races = self.links.values().filter_map(Link::poll_timeout);
        let mut at = self.pool.poll_timeout().into_iter().chain(races).min();
        let readable: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(_, l)| l.is_readable())
            .map(|(c, _)| *c)
            .collect();
        let pool = &mut self.pool;
        let paused = self.route.is_backpressured();
        if !paused
            && readable
                .into_iter()
                .any(|c| pool.pending_transmit(c).len() <= HIGH_WATER)
        {
            // Reading stopped at its bound: come back at once.
            at = Some(at.map_or(self.now, |a| a.min(self.now)));
        }
        at
    }

    fn is_finished(&self) -> bool {
        self.pool.is_closed() && self.links.is_empty()
    }

    fn release_all(&mut self, tokens: &mut Slab<usize>) {
        let conns: Vec<ConnId> = self.links.keys().copied().collect();
        for conn in conns {
            self.drop_link(conn, tokens);
        }
    }
}
