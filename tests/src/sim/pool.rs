//! A [`Pool`] against the [`FakeServer`] in virtual time: every connection
//! of the pool gets its own link; the server keys them by connection and
//! generation. The server can cut connections at a fixed age (a service's
//! connection lifetime, e.g. Binance's 24 hours).
//!
//! ```
//! use std::time::Duration;
//! use wsnova_core::pool::PoolLimits;
//! use wsnova_tests::sim::{PoolSim, TestRpc};
//!
//! let mut sim = PoolSim::new(TestRpc::default(), PoolLimits::default(), |_| {});
//! sim.connect();
//! sim.subscribe(&["ticker.A"]);
//! assert!(sim.run_until(|s| s.confirmed_everywhere() == 1, Duration::from_secs(1)));
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use wsnova_core::pool::{ConnId, Pool, PoolLimits, PoolOutput, Role};
use wsnova_core::session::{Adapter, Event, Input, SessionConfig, SessionState};

use super::{FakeServer, Link, Packet};

/// The server's key for a pool connection's socket.
pub fn server_key(conn: ConnId, generation: u64) -> u64 {
    (conn.0 << 32) | generation
}

/// A pool, the server, one link per socket and a virtual clock.
pub struct PoolSim<A: Adapter + Clone> {
    /// Virtual now.
    pub now: Instant,
    /// When the simulation started.
    pub start: Instant,
    /// The pool under test.
    pub pool: Pool<A>,
    /// The fake exchange.
    pub server: FakeServer,
    /// Every event of the pool, with the connection it came from.
    pub events: Vec<(Option<ConnId>, Event)>,
    /// One-way latency.
    pub latency: Duration,
    /// The server cuts every connection this long after accepting it.
    pub cut_after: Option<Duration>,
    /// When each dial happened, for which connection.
    pub dials: Vec<(Instant, ConnId)>,
    /// Connections the server cut at their lifetime.
    pub cuts: u32,
    /// When each of `server.received` arrived (same order).
    pub received_at: Vec<Instant>,
    links: BTreeMap<(ConnId, u64), (Instant, Link)>,
    pending_dials: Vec<(Instant, ConnId, u64)>,
}

impl<A: Adapter + Clone> PoolSim<A> {
    /// A pool for `ws://exchange.test/ws` (seed 1, 1 ms latency).
    pub fn new(adapter: A, limits: PoolLimits, configure: impl FnOnce(&mut SessionConfig)) -> Self {
        let mut config = SessionConfig::new("ws://exchange.test/ws").expect("valid URL");
        config.seed = 1;
        configure(&mut config);
        let start = Instant::now();
        PoolSim {
            now: start,
            start,
            pool: Pool::new(config, adapter, limits, start),
            server: FakeServer::default(),
            events: Vec::new(),
            latency: Duration::from_millis(1),
            cut_after: None,
            dials: Vec::new(),
            cuts: 0,
            received_at: Vec::new(),
            links: BTreeMap::new(),
            pending_dials: Vec::new(),
        }
    }

    /// Virtual seconds since the start.
    pub fn elapsed_secs(&self) -> f64 {
        (self.now - self.start).as_secs_f64()
    }

    /// `Pool::connect`.
    pub fn connect(&mut self) {
        self.pool.connect(self.now).expect("connect");
    }

    /// `Pool::subscribe`.
    pub fn subscribe(&mut self, channels: &[&str]) {
        self.pool.subscribe(self.now, channels).expect("subscribe");
    }

    /// `Pool::unsubscribe`.
    pub fn unsubscribe(&mut self, channels: &[&str]) {
        self.pool
            .unsubscribe(self.now, channels)
            .expect("unsubscribe");
    }

    /// The server drops `conn`'s socket: the client sees EOF after the latency.
    pub fn kill(&mut self, conn: ConnId) {
        let now = self.now;
        let latency = self.latency;
        for ((c, generation), (_, link)) in self.links.iter_mut() {
            if *c == conn && !link.server_gone {
                self.server.drop_conn(server_key(*c, *generation));
                link.to_client.push(now + latency, Packet::Eof);
                link.server_gone = true;
            }
        }
    }

    /// The most (un)subscribe messages one socket received within any one
    /// second.
    pub fn max_subscribe_messages_per_second(&self) -> usize {
        let mut per_socket: BTreeMap<u64, Vec<Instant>> = BTreeMap::new();
        for (r, at) in self.server.received.iter().zip(&self.received_at) {
            if r.method.ends_with("subscribe") {
                per_socket.entry(r.generation).or_default().push(*at);
            }
        }
        per_socket
            .values()
            .map(|times| {
                (0..times.len())
                    .map(|i| {
                        times[i..]
                            .iter()
                            .take_while(|t| **t < times[i] + Duration::from_secs(1))
                            .count()
                    })
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }

    /// The most dials within any `window`.
    pub fn max_dials_within(&self, window: Duration) -> usize {
        (0..self.dials.len())
            .map(|i| {
                self.dials[i..]
                    .iter()
                    .take_while(|(t, _)| *t < self.dials[i].0 + window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    /// The most channels one open socket is subscribed to on the server.
    pub fn max_streams_on_a_socket(&self) -> usize {
        self.links
            .keys()
            .map(|(c, g)| self.server.subscriptions(server_key(*c, *g)).len())
            .max()
            .unwrap_or(0)
    }

    /// Channels subscribed on the server over all open sockets, with repeats.
    pub fn server_subscriptions(&self) -> Vec<String> {
        self.links
            .iter()
            .filter(|(_, (_, l))| !l.server_gone)
            .flat_map(|((c, g), _)| self.server.subscriptions(server_key(*c, *g)))
            .collect()
    }

    /// Sockets open on the server side now.
    pub fn live_sockets(&self) -> usize {
        self.links
            .values()
            .filter(|(_, l)| !l.server_gone && !l.closed)
            .count()
    }

    /// Desired channels confirmed on exactly one serving connection.
    pub fn confirmed_everywhere(&self) -> usize {
        let assignment = self.pool.assignment();
        assignment
            .desired()
            .iter()
            .filter(|channel| {
                self.serving()
                    .filter(|conn| {
                        self.pool
                            .session(*conn)
                            .is_some_and(|s| s.confirmed_subscriptions().any(|c| c == *channel))
                    })
                    .count()
                    == 1
            })
            .count()
    }

    /// Connections that are active and ready.
    pub fn serving(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.pool.conns().filter(|c| {
            self.pool.role(*c) == Some(Role::Active)
                && self
                    .pool
                    .session(*c)
                    .is_some_and(|s| s.state() == SessionState::Ready)
        })
    }

    /// Does everything due at `now`; `true` if anything happened.
    pub fn step(&mut self) -> bool {
        let mut did = false;
        while let Some(output) = self.pool.poll_output() {
            did = true;
            self.on_output(output);
        }
        did |= self.flush_client();
        let due: Vec<(Instant, ConnId, u64)> = self
            .pending_dials
            .iter()
            .copied()
            .filter(|(at, _, _)| *at <= self.now)
            .collect();
        self.pending_dials.retain(|(at, _, _)| *at > self.now);
        for (_, conn, generation) in due {
            did = true;
            self.pool
                .handle_input(self.now, conn, Input::Connected { generation });
        }
        did |= self.cut_old();
        did |= self.deliver_due();
        did
    }

    /// Runs through every event and timer for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        let end = self.now + duration;
        self.run_until(|_| false, duration);
        self.now = self.now.max(end);
    }

    /// Runs until `done` holds, for at most `limit` of virtual time.
    pub fn run_until(&mut self, mut done: impl FnMut(&Self) -> bool, limit: Duration) -> bool {
        let end = self.now + limit;
        loop {
            while self.step() {}
            if done(self) {
                return true;
            }
            match self.next_event() {
                Some(next) if next <= end => self.advance_to(next),
                _ => {
                    self.advance_to(end);
                    while self.step() {}
                    return done(self);
                }
            }
        }
    }

    fn advance_to(&mut self, at: Instant) {
        self.now = self.now.max(at);
        if self.pool.poll_timeout().is_some_and(|t| t <= self.now) {
            self.pool.handle_timeout(self.now);
        }
    }

    fn next_event(&mut self) -> Option<Instant> {
        let dials = self.pending_dials.iter().map(|(at, _, _)| *at);
        let links = self.links.values().flat_map(|(born, l)| {
            let cut = self
                .cut_after
                .filter(|_| !l.server_gone && !l.closed)
                .map(|d| *born + d);
            [l.to_server.next_arrival(), l.to_client.next_arrival(), cut]
        });
        let mut all: Vec<Instant> = dials.chain(links.flatten()).collect();
        all.extend(self.pool.poll_timeout());
        all.into_iter().min()
    }

    fn on_output(&mut self, output: PoolOutput) {
        match output {
            PoolOutput::Dial {
                conn, generation, ..
            } => {
                self.dials.push((self.now, conn));
                self.server.accept(server_key(conn, generation));
                self.links
                    .insert((conn, generation), (self.now, Link::new(generation)));
                self.pending_dials
                    .push((self.now + self.latency, conn, generation));
            }
            PoolOutput::Transmit { .. } => {}
            PoolOutput::CloseTransport {
                conn,
                generation,
                flush,
            } => {
                let key = server_key(conn, generation);
                if let Some((_, link)) = self.links.remove(&(conn, generation))
                    && !flush.is_empty()
                    && !link.server_gone
                {
                    self.server.receive(key, &flush);
                }
                self.server.drop_conn(key);
            }
            PoolOutput::Event { conn, event } => self.events.push((conn, event)),
        }
    }

    /// Moves each connection's pending bytes onto its newest link.
    fn flush_client(&mut self) -> bool {
        let mut did = false;
        let conns: Vec<ConnId> = self.pool.conns().collect();
        for conn in conns {
            let bytes = self.pool.pending_transmit(conn).to_vec();
            if bytes.is_empty() {
                continue;
            }
            did = true;
            self.pool.advance_transmit(conn, bytes.len());
            let at = self.now + self.latency;
            if let Some((_, (_, link))) = self
                .links
                .range_mut((conn, 0)..=(conn, u64::MAX))
                .next_back()
            {
                link.to_server.push(at, Packet::Data(bytes));
            }
        }
        did
    }

    /// The server cuts connections that reached `cut_after`.
    fn cut_old(&mut self) -> bool {
        let Some(life) = self.cut_after else {
            return false;
        };
        let old: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(_, (born, l))| !l.server_gone && !l.closed && *born + life <= self.now)
            .map(|((c, _), _)| *c)
            .collect();
        for conn in &old {
            self.cuts += 1;
            self.kill(*conn);
        }
        !old.is_empty()
    }

    /// Delivers every packet that has arrived by now, both ways.
    fn deliver_due(&mut self) -> bool {
        let mut did = false;
        let mut inputs = Vec::new();
        for ((conn, generation), (_, link)) in self.links.iter_mut() {
            let key = server_key(*conn, *generation);
            while let Some(packet) = link.to_server.pop_due(self.now) {
                did = true;
                if let Packet::Data(bytes) = packet
                    && !link.server_gone
                {
                    self.server.receive(key, &bytes);
                }
            }
            let arrived = self.server.received.len() - self.received_at.len();
            self.received_at
                .extend(std::iter::repeat_n(self.now, arrived));
            let reply = self.server.take_output(key);
            if !reply.is_empty() {
                link.to_client
                    .push(self.now + self.latency, Packet::Data(reply));
            }
            while let Some(packet) = link.to_client.pop_due(self.now) {
                inputs.push((*conn, *generation, packet));
            }
        }
        for (conn, generation, packet) in inputs {
            did = true;
            match packet {
                Packet::Data(data) => self.pool.handle_input(
                    self.now,
                    conn,
                    Input::Bytes {
                        generation,
                        data: &data,
                    },
                ),
                Packet::Eof => self
                    .pool
                    .handle_input(self.now, conn, Input::Closed { generation }),
            }
        }
        did
    }
}
