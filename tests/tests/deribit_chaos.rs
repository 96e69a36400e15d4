//! Chaos: at least 200 random faults from the mock exchange against one
//! client that keeps public and private subscriptions and a steady stream of
//! requests. At the end the client must be ready and authenticated, with
//! confirmed == desired subscriptions, every request must have had exactly
//! one outcome, the book must be continuous again, and every reconnect delay
//! must lie within the backoff policy's bounds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wsnova_core::session::{RateClass, RateLimits};
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use tokio::task::JoinSet;
use tokio::time::timeout;
use wsnova_adapters::deribit::Deribit;
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Credentials, Event, HeartbeatConfig, Jitter, SessionConfig,
    SessionState,
};
use wsnova_tests::deribit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit, RefuseMode,
};

const FAULTS: usize = 200;
const BACKOFF: BackoffConfig = BackoffConfig {
    strategy: BackoffStrategy::Jittered(Jitter::Full),
    base: Duration::from_millis(10),
    max_delay: Duration::from_millis(200),
    max_attempts: None,
};
/// What the adapter asks for after a 503 (maintenance), shortened for the test.
const MAINTENANCE: Duration = Duration::from_millis(150);
/// The pause after 10028 ended the session (Deribit: wait for credits).
const RATE_LIMITED: Duration = Duration::from_millis(120);
const CHANNELS: [&str; 4] = [
    "ticker.BTC-PERPETUAL.100ms",
    "book.BTC-PERPETUAL.100ms",
    "trades.BTC-PERPETUAL.100ms",
    "user.orders.BTC-PERPETUAL.raw",
];

/// What the event observer saw.
#[derive(Default)]
struct Seen {
    reconnects: u64,
    gaps: u64,
    delays: Vec<(Duration, u32)>,
    pending_delay: Option<Duration>,
    /// Subscriptions the session gave up on, with the reason: none may occur.
    failed_subscriptions: Vec<(Vec<String>, String)>,
    /// Request outcomes that reached the event stream: every request here has
    /// a waiting caller, so one arriving as an event is a second outcome.
    stray_outcomes: Vec<String>,
}

fn config(mock: &MockDeribit, adapter: &Deribit) -> SessionConfig {
    let mut config = SessionConfig::new(&mock.url()).unwrap();
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    config.request_timeout = Duration::from_secs(5);
    config.connect_timeout = Duration::from_secs(1);
    config.heartbeat = HeartbeatConfig {
        ping_interval: Some(Duration::from_millis(100)),
        pong_timeout: Duration::from_millis(300),
        idle_timeout: None,
    };
    config.backoff = BACKOFF;
    config.stable_after = Duration::from_millis(100);
    config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, adapter.rate_limit(1024));
    config
}

/// Applies one random fault; the number of connections it reached (listener
/// faults count as one).
fn inject(mock: &MockDeribit, rng: &mut StdRng) -> usize {
    let live = mock.faults().live();
    match rng.next_u32() % 10 {
        0 | 1 => live.drop_now(),
        2 => live.stall(),
        3 => live.delay_responses(Duration::from_millis(50 + u64::from(rng.next_u32() % 350))),
        4 | 5 => live.book_gap(),
        6 => live.fail_next(
            1,
            if rng.next_u32() % 2 == 0 {
                13028
            } else {
                10028
            },
        ),
        7 => live.expire_token(),
        8 => live.close(1001, "going away"),
        _ => {
            let mode = if rng.next_u32() % 2 == 0 {
                RefuseMode::Close
            } else {
                RefuseMode::Http(503)
            };
            mock.faults().refuse_next(mode, 1);
            1
        }
    }
}

#[derive(Deserialize)]
struct BookChange {
    change_id: u64,
    prev_change_id: Option<u64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_survives_200_random_faults_with_nothing_lost_or_doubled() {
    let started = Instant::now();
    let mock = MockDeribit::start(MockConfig::default());
    let adapter = Deribit::new()
        .with_maintenance_delay(MAINTENANCE)
        .with_rate_limit_delay(RATE_LIMITED);
    let (client, mut events) = timeout(
        Duration::from_secs(10),
        wsnova_tokio::Builder::from_config(config(&mock, &adapter))
            .retry_initial_connect(true)
            .event_capacity(1 << 16)
            .connect(adapter),
    )
    .await
    .expect("connect in time")
    .expect("connect");
    client.subscribe(&CHANNELS).await.unwrap();

    // Observe lifecycle events; the backoff bounds are checked per attempt.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let observer = {
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Some(event) = events.next().await {
                let mut s = seen.lock().unwrap();
                match event {
                    Event::Disconnected { reconnect_in, .. } => s.pending_delay = reconnect_in,
                    Event::Reconnecting { attempt } => {
                        s.reconnects += 1;
                        let delay = s.pending_delay.take().expect("a reconnect follows a loss");
                        s.delays.push((delay, attempt));
                    }
                    Event::Gap { .. } => s.gaps += 1,
                    Event::SubscriptionFailed { channels, error } => {
                        s.failed_subscriptions.push((channels, error))
                    }
                    Event::Response { id, .. } | Event::RequestFailed { id, .. } => {
                        s.stray_outcomes.push(format!("{id:?}"))
                    }
                    Event::Closed { .. } => break,
                    _ => {}
                }
            }
        })
    };

    // A steady stream of requests, public and private; each must end once.
    let stop = Arc::new(AtomicBool::new(false));
    let requester = {
        let (client, stop) = (client.clone(), stop.clone());
        tokio::spawn(async move {
            let mut outcomes = JoinSet::new();
            let methods = ["public/get_time", "public/test", "private/get_positions"];
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let (client, method) = (client.clone(), methods[n % methods.len()]);
                outcomes.spawn(async move {
                    let params = serde_json::json!({"currency": "BTC"});
                    client.request(method, &params).await.is_ok()
                });
                n += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let mut ok = 0;
            let mut failed = 0;
            while let Some(result) = timeout(Duration::from_secs(10), outcomes.join_next())
                .await
                .expect("every request ends within its timeout")
            {
                if result.expect("no panic") {
                    ok += 1;
                } else {
                    failed += 1;
                }
            }
            (n, ok, failed)
        })
    };

    // The faults, from a seeded schedule.
    let mut rng = StdRng::seed_from_u64(0xC4A05);
    let mut injected = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while injected < FAULTS {
        assert!(Instant::now() < deadline, "only {injected} faults in 120 s");
        injected += inject(&mock, &mut rng).min(1);
        tokio::time::sleep(Duration::from_millis(40 + u64::from(rng.next_u32() % 200))).await;
    }

    eprintln!("chaos: {injected} faults injected, healing");
    // Heal: no more faults; everything must come back on its own.
    mock.faults().clear();
    mock.faults().accept_again();
    stop.store(true, Ordering::Relaxed);
    let (requests, ok, failed) = timeout(Duration::from_secs(20), requester)
        .await
        .expect("the requester ends")
        .expect("no panic");
    assert_eq!(
        ok + failed,
        requests,
        "every request had exactly one outcome"
    );

    let mut healthy = false;
    for _ in 0..200 {
        let status = client.status();
        let mut desired = status.desired_subscriptions.clone();
        let mut confirmed = status.subscriptions.clone();
        desired.sort();
        confirmed.sort();
        if status.state == SessionState::Ready && status.authenticated && desired == confirmed {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = client.status();
    assert!(healthy, "not healthy after healing: {status:?}");
    assert_eq!(
        status.desired_subscriptions.len(),
        CHANNELS.len(),
        "a passing fault cost a subscription: {:?}",
        seen.lock().unwrap().failed_subscriptions
    );

    eprintln!("chaos: healthy, checking the book");
    // The book is continuous again: every change follows the one before.
    let mut fresh = client.events();
    let book_check = async {
        let mut last: Option<u64> = None;
        let mut checked = 0;
        while checked < 20 {
            let Some(event) = fresh.next().await else {
                panic!("events ended");
            };
            if let Event::Notification { channel, data } = event
                && channel.starts_with("book.")
            {
                let book: BookChange = data.parse().unwrap();
                if let (Some(last), Some(prev)) = (last, book.prev_change_id) {
                    assert_eq!(prev, last, "a gap went unrepaired");
                }
                last = Some(book.change_id);
                checked += 1;
            }
        }
    };
    // Bounded as a whole: a book held back forever must fail, not hang.
    if timeout(Duration::from_secs(30), book_check).await.is_err() {
        panic!(
            "no continuous book within 30 s after healing: {:?}",
            client.status()
        );
    }

    eprintln!("chaos: closing");
    timeout(Duration::from_secs(10), client.close())
        .await
        .expect("close completes (close handshake or close_timeout)")
        .unwrap();
    timeout(Duration::from_secs(5), observer)
        .await
        .unwrap()
        .unwrap();
    let seen = seen.lock().unwrap();
    for (delay, attempt) in &seen.delays {
        // Within the backoff policy's bounds, or exactly what the adapter
        // asked for (a 503 means maintenance, a 10028 ended the session:
        // wait at least that long).
        // Full jitter, base 10 ms, cap 200 ms: uniform in
        // [0, min(200 ms, 10 ms × 2^(attempt − 1))], written out by hand.
        let ceiling_ms = [10, 20, 40, 80, 160]
            .get(*attempt as usize - 1)
            .copied()
            .unwrap_or(200);
        let ceiling = Duration::from_millis(ceiling_ms);
        assert!(
            *delay <= ceiling || *delay == MAINTENANCE || *delay == RATE_LIMITED,
            "delay {delay:?} for attempt {attempt} above {ceiling:?}"
        );
    }
    assert!(seen.reconnects > 0 && seen.gaps > 0, "the faults did bite");
    assert!(
        seen.stray_outcomes.is_empty(),
        "second outcomes for {:?}",
        seen.stray_outcomes
    );
    println!(
        "chaos: {injected} faults injected ({} recorded by the mock), {} reconnects, {} book gaps repaired, \
         requests {ok} ok / {failed} failed of {requests}, {:.1} s",
        mock.faults_injected(),
        seen.reconnects,
        seen.gaps,
        started.elapsed().as_secs_f64()
    );
}
