//! A sans-IO simulation: a wsnova [`Session`] against the [`FakeServer`] in
//! virtual time (like quinn-proto's `Pair`). The clock jumps to the earliest
//! deadline; byte streams travel with a latency, can be re-chunked, stalled
//! (half-open) or cut.
//!
//! ```
//! use std::time::Duration;
//! use wsnova_core::session::{Event, SessionState};
//! use wsnova_tests::sim::{Sim, TestRpc};
//!
//! let mut sim = Sim::new(TestRpc::default(), |_| {});
//! sim.connect();
//! assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, Duration::from_secs(1)));
//! let id = sim.request("echo", r#"{"x":1}"#);
//! sim.drive();
//! assert!(sim.events.iter().any(|e| matches!(e, Event::Response { id: i, .. } if *i == id)));
//! ```

mod adapter;
mod link;
pub mod ops;
mod pool;
mod server;
mod stale;

use std::time::{Duration, Instant};

use wsnova_core::session::{
    Adapter, Event, Input, Output, RequestId, Session, SessionConfig, SessionState,
};

pub use adapter::TestRpc;
pub use link::{Chunking, Link, Packet};
pub use pool::{PoolSim, server_key};
pub use server::{FakeServer, Received, ServerBehaviour};
pub use stale::StaleSnapshot;

/// The client, the server, the network between them and a virtual clock.
pub struct Sim<A: Adapter> {
    /// Virtual now.
    pub now: Instant,
    /// When the simulation started.
    pub start: Instant,
    /// The client under test.
    pub client: Session<A>,
    /// The fake exchange.
    pub server: FakeServer,
    /// Every event the client produced, in order.
    pub events: Vec<Event>,
    /// Every output, as text: the trace compared by determinism tests.
    pub trace: Vec<String>,
    /// One-way network latency.
    pub latency: Duration,
    /// How transmissions are cut into reads.
    pub chunking: Chunking,
    /// Refuse this many of the next dials (TCP connect fails).
    pub refuse_dials: u32,
    /// Accept TCP but never answer anything (dial hangs at the upgrade).
    pub blackhole_dials: bool,
    /// When each dial happened, with its generation.
    pub dials: Vec<(Instant, u64)>,
    /// The most transports that were ever open at once (must stay ≤ 1).
    pub max_live_transports: usize,
    link: Option<Link>,
    /// The client does not read (its application is behind): what the
    /// server sends waits in the link, as in an unread socket.
    reading_paused: bool,
    /// A dial waiting for its outcome: (when, generation, accepted).
    pending_dial: Option<(Instant, u64, bool)>,
}

impl<A: Adapter> Sim<A> {
    /// A simulation with a config for `ws://exchange.test/ws` (seed 1, 1 ms
    /// latency), adjusted by `configure`.
    pub fn new(adapter: A, configure: impl FnOnce(&mut SessionConfig)) -> Self {
        Self::with_start(adapter, Instant::now(), configure)
    }

    /// As [`new`](Self::new), from a given start instant (for comparing runs).
    pub fn with_start(
        adapter: A,
        start: Instant,
        configure: impl FnOnce(&mut SessionConfig),
    ) -> Self {
        let mut config = SessionConfig::new("ws://exchange.test/ws").expect("valid URL");
        config.seed = 1;
        configure(&mut config);
        Sim {
            now: start,
            start,
            client: Session::new(config, adapter, start),
            server: FakeServer::default(),
            events: Vec::new(),
            trace: Vec::new(),
            latency: Duration::from_millis(1),
            chunking: Chunking::Whole,
            refuse_dials: 0,
            blackhole_dials: false,
            dials: Vec::new(),
            max_live_transports: 0,
            link: None,
            reading_paused: false,
            pending_dial: None,
        }
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// The generation of the live transport, if any.
    pub fn live_generation(&self) -> Option<u64> {
        self.link
            .as_ref()
            .filter(|l| !l.closed)
            .map(|l| l.generation)
    }

    // ---- commands, forwarded with the virtual now ----

    /// `Session::connect`.
    pub fn connect(&mut self) {
        self.client.connect(self.now).expect("connect");
    }

    /// [`connect`](Self::connect), then runs until the session is `Ready`
    /// (within a virtual second); panics with the events otherwise.
    pub fn connect_until_ready(&mut self) {
        self.connect();
        let ready = self.run_until(
            |s| s.client.state() == SessionState::Ready,
            Duration::from_secs(1),
        );
        assert!(ready, "not ready: {:?}", self.events);
    }

    /// `Session::request`; panics if the session refuses.
    pub fn request(&mut self, method: &str, params: &str) -> RequestId {
        self.client
            .request(self.now, method, params)
            .expect("request")
    }

    /// `Session::subscribe`.
    pub fn subscribe(&mut self, channels: &[&str]) {
        self.client
            .subscribe(self.now, channels)
            .expect("subscribe");
    }

    // ---- faults ----

    /// The server side drops the TCP connection: the client sees EOF after the latency.
    pub fn drop_connection(&mut self) {
        if let Some(link) = self.link.as_mut() {
            self.server.drop_conn(link.generation);
            link.to_client.push(self.now + self.latency, Packet::Eof);
            link.server_gone = true;
        }
    }

    /// The path goes silent both ways, without any close (a half-open connection).
    pub fn stall(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.stalled = true;
        }
    }

    /// The client stops (`true`) or resumes reading, as a driver does for a
    /// full event consumer, and tells the session so.
    pub fn pause_reading(&mut self, paused: bool) {
        self.reading_paused = paused;
        self.client.set_reading_paused(self.now, paused);
    }

    // ---- running ----

    /// Does everything due at `now`; `true` if anything happened.
    pub fn step(&mut self) -> bool {
        let mut did = false;
        while let Some(output) = self.client.poll_output() {
            did = true;
            self.on_output(output);
        }
        did |= self.flush_client();
        if let Some((at, generation, accepted)) = self.pending_dial
            && at <= self.now
        {
            self.pending_dial = None;
            did = true;
            let input = if accepted {
                Input::Connected { generation }
            } else {
                Input::ConnectFailed {
                    generation,
                    error: "connection refused",
                }
            };
            self.client.handle_input(self.now, input);
        }
        did |= self.deliver_due();
        did
    }

    /// Steps, then jumps the clock to the next network event or client
    /// deadline, at most `rounds` times; `true` once nothing is in flight.
    pub fn drive_bounded(&mut self, rounds: usize) -> bool {
        for _ in 0..rounds {
            while self.step() {}
            let Some(next) = self.next_network_event() else {
                return true;
            };
            self.advance_to(next);
        }
        false
    }

    /// Runs until the network is quiet (client timers may stay armed).
    pub fn drive(&mut self) {
        assert!(self.drive_bounded(10_000), "the simulation did not settle");
    }

    /// Runs through every event and timer for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        let end = self.now + duration;
        loop {
            while self.step() {}
            match self.next_any_event() {
                Some(next) if next <= end => self.advance_to(next),
                _ => break,
            }
        }
        self.now = end;
        self.client.handle_timeout(self.now);
        while self.step() {}
    }

    /// Runs until `done` holds, for at most `limit` of virtual time.
    pub fn run_until(&mut self, mut done: impl FnMut(&Self) -> bool, limit: Duration) -> bool {
        let end = self.now + limit;
        loop {
            while self.step() {}
            if done(self) {
                return true;
            }
            match self.next_any_event() {
                Some(next) if next <= end => self.advance_to(next),
                _ => return done(self),
            }
        }
    }

    /// Events of the client since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn advance_to(&mut self, at: Instant) {
        if at > self.now {
            self.now = at;
        }
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
    }

    fn next_network_event(&self) -> Option<Instant> {
        let dial = self.pending_dial.map(|(at, _, _)| at);
        let link = self
            .link
            .as_ref()
            .and_then(|link| match self.reading_paused {
                true => link.to_server.next_arrival(), // nothing is read meanwhile
                false => link.next_arrival(),
            });
        dial.into_iter().chain(link).min()
    }

    fn next_any_event(&self) -> Option<Instant> {
        self.next_network_event()
            .into_iter()
            .chain(self.client.poll_timeout())
            .min()
    }

    fn on_output(&mut self, output: Output) {
        self.trace.push(format!("{:?} {output:?}", self.elapsed()));
        match output {
            Output::Dial { generation, .. } => {
                self.dials.push((self.now, generation));
                let live = usize::from(self.live_generation().is_some()) + 1;
                self.max_live_transports = self.max_live_transports.max(live);
                let accepted = if self.refuse_dials > 0 {
                    self.refuse_dials -= 1;
                    false
                } else {
                    true
                };
                if accepted {
                    self.server.accept(generation);
                    let mut link = Link::new(generation);
                    link.blackhole = self.blackhole_dials;
                    self.link = Some(link);
                }
                self.pending_dial = Some((self.now + self.latency, generation, accepted));
            }
            Output::Transmit { .. } => {}
            Output::CloseTransport { generation, flush } => {
                if let Some(link) = self.link.as_mut().filter(|l| l.generation == generation) {
                    if !flush.is_empty() && !link.stalled && !link.server_gone {
                        self.server.receive(generation, &flush);
                    }
                    link.closed = true;
                    self.server.drop_conn(generation);
                }
                self.link = None;
            }
            Output::Event(event) => self.events.push(event),
        }
    }

    /// Moves the client's pending bytes onto the link.
    fn flush_client(&mut self) -> bool {
        let bytes = self.client.pending_transmit().to_vec();
        if bytes.is_empty() {
            return false;
        }
        self.client.advance_transmit(bytes.len());
        if let Some(link) = self.link.as_mut() {
            let at = self.now + self.latency;
            for chunk in self.chunking.split(&bytes) {
                link.to_server.push(at, Packet::Data(chunk));
            }
        }
        true
    }

    /// Delivers every packet that has arrived by now, both ways.
    fn deliver_due(&mut self) -> bool {
        let Some(link) = self.link.as_mut() else {
            return false;
        };
        let generation = link.generation;
        let mut did = false;
        while let Some(packet) = link.to_server.pop_due(self.now) {
            did = true;
            if let Packet::Data(bytes) = packet
                && !link.stalled
                && !link.blackhole
            {
                self.server.receive(generation, &bytes);
            }
        }
        let reply = self.server.take_output(generation);
        if !reply.is_empty() && !link.stalled {
            let at = self.now + self.latency;
            for chunk in self.chunking.split(&reply) {
                link.to_client.push(at, Packet::Data(chunk));
            }
        }
        let mut inputs = Vec::new();
        while !self.reading_paused
            && let Some(packet) = link.to_client.pop_due(self.now)
        {
            if !link.stalled {
                inputs.push(packet);
            }
        }
        for packet in inputs {
            did = true;
            match packet {
                Packet::Data(data) => self.deliver(generation, &data),
                Packet::Eof => self
                    .client
                    .handle_input(self.now, Input::Closed { generation }),
            }
        }
        did
    }

    /// Hands bytes to the client as a driver does: read straight into the
    /// session's buffer where it offers one (plaintext), else copied in.
    fn deliver(&mut self, generation: u64, data: &[u8]) {
        let now = self.now;
        let direct = self.client.read_into(now, generation, |buf| {
            let room = buf.capacity() - buf.len();
            assert!(room > 0, "a buffer with no room for a read");
            // As a read does: at most the room offered; the rest next read.
            let n = data.len().min(room);
            buf.extend_from_slice(&data[..n]);
            n
        });
        match direct {
            Some(n) if n < data.len() => self.deliver(generation, &data[n..]),
            Some(_) => {}
            None => self
                .client
                .handle_input(now, Input::Bytes { generation, data }),
        }
    }

    /// `true` when the client is ready and its confirmed subscriptions equal the desired ones.
    pub fn is_ready_and_consistent(&self) -> bool {
        self.client.state() == SessionState::Ready
            && self
                .client
                .confirmed_subscriptions()
                .eq(self.client.desired_subscriptions())
    }
}
