//! Random operation sequences against the simulation, and the invariants
//! checked while they run — shared by the property tests and the fuzz target.

use std::collections::BTreeMap;
use std::time::Duration;
use wsnova_core::session::{RateClass, RateLimits};

use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Credentials, Event, HeartbeatConfig, Jitter, RateLimitConfig,
    RequestId, SessionState,
};
use wsnova_core::wire::CloseCode;

use super::{Chunking, Sim, TestRpc};

/// One thing that can happen to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Op {
    /// Let virtual time pass (milliseconds).
    Advance(u16),
    /// A request: 0 = answered ("echo"), 1 = never answered ("silent"), 2 = refused (unknown method).
    Request(u8),
    /// Subscribe to channel `n % 4` ("user.*" for 0 and 1: private).
    Subscribe(u8),
    /// Unsubscribe from channel `n % 4`.
    Unsubscribe(u8),
    /// A notification on channel `n % 4`.
    Notify(u8),
    /// The server drops the TCP connection.
    Drop,
    /// The path goes silent (half-open).
    Stall,
    /// The next `n % 3 + 1` dials are refused.
    RefuseDials(u8),
    /// The server closes with 1001.
    ServerClose,
    /// The server sends a heartbeat test request.
    TestRequest,
    /// The next auth fails transiently.
    FailAuth,
    /// A user ping.
    Ping,
    /// Reads are cut at random sizes from now on.
    Rechunk(u8),
    /// The client stops reading (a full event consumer), or resumes.
    PauseReading(bool),
    /// Input from a dead socket: every kind, tagged with generation
    /// `current − 1 − n % 3` (when there is one). It must change nothing.
    Stale(u8),
}

/// Channels the operations use.
pub const CHANNELS: [&str; 4] = ["user.orders", "user.trades", "ticker.A", "book.B"];

/// Backoff used by the runs (base 50 ms, cap 2 s, full jitter).
pub const BACKOFF: BackoffConfig = BackoffConfig {
    strategy: BackoffStrategy::Jittered(Jitter::Full),
    base: Duration::from_millis(50),
    max_delay: Duration::from_secs(2),
    max_attempts: None,
};

/// The full-jitter ceiling after failure number `attempt` under [`BACKOFF`]:
/// `min(2 s, 50 ms × 2^(attempt − 1))`, written out by hand rather than asked
/// of the code under test. The floor is zero.
pub fn backoff_ceiling(attempt: u32) -> Duration {
    const CEILINGS_MS: [u64; 6] = [50, 100, 200, 400, 800, 1600];
    let index = attempt.max(1) as usize - 1;
    CEILINGS_MS
        .get(index)
        .map_or(Duration::from_secs(2), |&ms| Duration::from_millis(ms))
}

/// Rate limit used by the runs.
pub const RATE_LIMIT: RateLimitConfig = RateLimitConfig {
    capacity: 10,
    refill_amount: 5,
    refill_interval: Duration::from_secs(1),
    queue_capacity: 50,
};

/// A simulation set up for property runs: credentials, heartbeats, backoff, rate limit.
pub fn property_sim(start: std::time::Instant, seed: u64) -> Sim<TestRpc> {
    let adapter = TestRpc {
        heartbeat_interval: Some(10),
        costs: Vec::new(),
        ..TestRpc::default()
    };
    let mut sim = Sim::with_start(adapter, start, |c| {
        c.seed = seed;
        c.credentials = Some(Credentials::new("client", "s3cret"));
        c.backoff = BACKOFF;
        c.rate_limits = RateLimits::default().with(RateClass::DEFAULT, RATE_LIMIT);
        c.request_timeout = Duration::from_secs(3);
        c.connect_timeout = Duration::from_secs(2);
        c.heartbeat = HeartbeatConfig {
            ping_interval: Some(Duration::from_millis(700)),
            pong_timeout: Duration::from_millis(900),
            idle_timeout: None,
        };
    });
    sim.connect();
    sim
}

/// What a run observed, for the final checks.
#[derive(Debug, Default)]
pub struct Observer {
    /// Request ids handed out.
    pub requests: Vec<RequestId>,
    /// Outcomes per request id.
    pub outcomes: BTreeMap<RequestId, u32>,
    /// Events looked at so far.
    seen: usize,
    /// The last reconnect delay announced, checked against the attempt that follows.
    announced_delay: Option<Duration>,
}

impl Observer {
    /// Checks the invariants on the events since the last call; panics with
    /// a description on a violation.
    pub fn check(&mut self, sim: &mut Sim<TestRpc>) {
        assert!(
            sim.max_live_transports <= 1,
            "two transports were open at once"
        );
        let now = sim.now;
        if let Some(t) = sim.client.poll_timeout() {
            assert!(t >= now, "poll_timeout {t:?} is before now {now:?}");
        }
        if let Some(tokens) = sim.client.rate_limit_tokens(now) {
            assert!(
                tokens <= RATE_LIMIT.capacity,
                "tokens {tokens} above capacity"
            );
        }
        for event in &sim.events[self.seen..] {
            match event {
                Event::Response { id, .. } | Event::RequestFailed { id, .. } => {
                    assert!(self.requests.contains(id), "outcome for unknown {id:?}");
                    *self.outcomes.entry(*id).or_default() += 1;
                    assert_eq!(self.outcomes[id], 1, "second outcome for {id:?}: {event:?}");
                }
                Event::Disconnected { reconnect_in, .. } => {
                    assert!(self.announced_delay.is_none(), "two losses, one reconnect");
                    self.announced_delay = *reconnect_in;
                }
                Event::Reconnecting { attempt } => {
                    let delay = self
                        .announced_delay
                        .take()
                        .expect("a reconnect without a loss");
                    let ceiling = backoff_ceiling(*attempt);
                    assert!(
                        delay <= ceiling,
                        "delay {delay:?} above {ceiling:?} for attempt {attempt}"
                    );
                }
                Event::Closed { .. } => self.announced_delay = None,
                _ => {}
            }
        }
        self.seen = sim.events.len();
        // No application data (or subscription) before authentication on any connection.
        for r in &sim.server.received {
            let exempt = matches!(r.method.as_str(), "public/auth" | "public/test");
            assert!(exempt || r.authed, "{} arrived before auth", r.method);
        }
        // Sent cost within what the bucket allows (heartbeat replies bypass it).
        let costed = sim
            .server
            .received
            .iter()
            .filter(|r| r.method != "public/test")
            .count() as u128;
        let elapsed = sim.elapsed().as_nanos();
        let allowed = u128::from(RATE_LIMIT.capacity)
            + u128::from(RATE_LIMIT.refill_amount) * elapsed
                / RATE_LIMIT.refill_interval.as_nanos();
        assert!(
            costed <= allowed,
            "{costed} requests sent, {allowed} allowed"
        );
    }
}

/// Applies one operation, then lets a little time pass; checks invariants.
pub fn apply(sim: &mut Sim<TestRpc>, observer: &mut Observer, op: &Op) {
    let generation = sim.live_generation();
    match op {
        Op::Advance(ms) => sim.run_for(Duration::from_millis(u64::from(*ms) % 5000)),
        Op::Request(kind) => {
            let method = ["echo", "silent", "nope"][usize::from(*kind % 3)];
            if let Ok(id) = sim.client.request(sim.now, method, "{}") {
                observer.requests.push(id);
            }
        }
        Op::Subscribe(n) => {
            let _ = sim
                .client
                .subscribe(sim.now, &[CHANNELS[usize::from(*n % 4)]]);
        }
        Op::Unsubscribe(n) => {
            let _ = sim
                .client
                .unsubscribe(sim.now, &[CHANNELS[usize::from(*n % 4)]]);
        }
        Op::Notify(n) => sim
            .server
            .notify(CHANNELS[usize::from(*n % 4)], serde_json::json!({"n": n})),
        Op::Drop => sim.drop_connection(),
        Op::Stall => sim.stall(),
        Op::RefuseDials(n) => sim.refuse_dials = u32::from(*n % 3) + 1,
        Op::ServerClose => {
            if let Some(g) = generation {
                sim.server.close(g, 1001, "going away");
            }
        }
        Op::TestRequest => {
            if let Some(g) = generation {
                sim.server.test_request(g);
            }
        }
        Op::FailAuth => sim.server.behaviour.auth_failures.push_back(10500),
        Op::Ping => {
            let _ = sim.client.ping(sim.now);
        }
        Op::PauseReading(paused) => sim.pause_reading(*paused),
        Op::Stale(n) => feed_stale(sim, *n),
        Op::Rechunk(seed) => {
            sim.chunking = Chunking::random(u64::from(*seed), 64);
        }
    }
    sim.run_for(Duration::from_millis(20));
    observer.check(sim);
}

/// Feeds stale input and checks that it changed nothing.
fn feed_stale(sim: &mut Sim<TestRpc>, n: u8) {
    let Some(generation) = sim.client.generation().checked_sub(1 + u64::from(n % 3)) else {
        return;
    };
    if generation == 0 || sim.live_generation() == Some(generation) {
        return;
    }
    let before = sim.stale_snapshot();
    sim.feed_stale(generation);
    assert_eq!(
        sim.stale_snapshot(),
        before,
        "stale generation {generation} changed state"
    );
}

/// Heals the network, waits for every deadline, and checks the end state:
/// ready, authenticated, subscriptions consistent, one outcome per request.
pub fn heal_and_check(sim: &mut Sim<TestRpc>, observer: &mut Observer) {
    sim.refuse_dials = 0;
    sim.pause_reading(false);
    sim.server.behaviour.auth_failures.clear();
    // A stalled link is only noticed by the pong deadline; give it time.
    sim.run_for(Duration::from_secs(30));
    observer.check(sim);
    assert_eq!(
        sim.client.state(),
        SessionState::Ready,
        "not ready after healing: {:?}",
        sim.events.last()
    );
    assert!(sim.client.is_authenticated());
    assert!(
        sim.is_ready_and_consistent(),
        "confirmed != desired after Ready"
    );
    for id in &observer.requests {
        assert_eq!(
            observer.outcomes.get(id),
            Some(&1),
            "{id:?} has no single outcome"
        );
    }
    // The server's side: the live connection holds exactly the channels the
    // client wants, and no request was executed twice (a 10028 refusal is not
    // an execution, so its retry is legitimate).
    let live = sim
        .live_generation()
        .expect("a live connection after healing");
    let desired: std::collections::BTreeSet<String> = sim
        .client
        .desired_subscriptions()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        sim.server.subscriptions(live),
        desired,
        "server holds other channels"
    );
    let mut executed = BTreeMap::new();
    for r in sim.server.received.iter().filter(|r| !r.rate_limited) {
        if let Some(id) =
            r.id.filter(|id| observer.requests.contains(&RequestId(*id)))
        {
            *executed.entry(id).or_insert(0u32) += 1;
        }
    }
    let twice: Vec<_> = executed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "requests executed twice by the server: {twice:?}"
    );
    // Then a clean close: no reconnect, Closed last.
    sim.client
        .close(sim.now, CloseCode::NORMAL, "bye")
        .expect("close");
    sim.run_for(Duration::from_secs(60));
    assert_eq!(sim.client.state(), SessionState::Closed);
    assert!(matches!(sim.events.last(), Some(Event::Closed { .. })));
}
