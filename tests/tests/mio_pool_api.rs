//! The mio `PoolHandle` has the verbs of `Handle`, each checked against
//! the Deribit mock (or a tiny WebSocket server that records the close
//! frame): `request_timeout` gives up within its bound, `request_raw`
//! checks its params before sending, `subscribe_timeout` and
//! `subscribe_nowait` return without the confirmation, `authenticate`,
//! `set_heartbeat` and `set_rate_limits` reach connections opened later
//! too, `status` counts what the mock sees, `close_with` sends its code,
//! and `from_builder` takes the builder's credentials and lag policy.

use std::time::{Duration, Instant};

use serde_json::json;
use std::sync::mpsc::RecvTimeoutError;
use wsnova_core::driver::{Builder, ConnectError, LagPolicy, SubscribeError};
use wsnova_core::session::{
    Adapter as _, Credentials, Event, HeartbeatConfig, Plain, RequestError, SessionConfig,
    SessionError,
};
use wsnova_core::wire::CloseCode;
use wsnova_mio::{EventLoop, Events, PoolHandle, adapters::Deribit};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};

mod pool_api_kit;
use pool_api_kit::{
    CloseRecorder, assert_spaced, auth_requests, eventually, five_per_second, messages_in,
    one_per_connection, request_times,
};

const TEST: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_secs(10);
const A: &str = "ticker.BTC-PERPETUAL.100ms";
const B: &str = "ticker.ETH-PERPETUAL.100ms";
const C: &str = "book.BTC-PERPETUAL.100ms";
const GET_TIME: &str = "public/get_time";

fn config(url: &str) -> SessionConfig {
    let mut config = SessionConfig::new(url).unwrap();
    config.request_timeout = Duration::from_secs(5);
    config
}

/// A pool on `mock` with one stream per connection.
fn pool(event_loop: &EventLoop, mock: &MockDeribit) -> (PoolHandle, Events) {
    let limits = one_per_connection();
    event_loop
        .connect_pool(config(&mock.url()), Deribit::new(), limits)
        .expect("connect")
}

/// Runs `test` on its own thread and fails if it takes longer than `TEST`
/// (a blocking call that never returns must not hang the suite).
fn bounded(test: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        test();
        let _ = tx.send(());
    });
    match rx.recv_timeout(TEST) {
        Ok(()) => thread.join().expect("the test thread"),
        Err(RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(thread.join().expect_err("it panicked"))
        }
        Err(RecvTimeoutError::Timeout) => panic!("the test took longer than {TEST:?}"),
    }
}

/// The first event `pick` accepts, within `STEP`.
fn wait_for<T>(events: &Events, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let deadline = Instant::now() + STEP;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events.recv_timeout(left).expect("the event");
        if let Some(t) = pick(event) {
            return t;
        }
    }
}

#[test]
fn request_timeout_gives_up_within_its_bound_and_request_raw_checks_params() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&event_loop, &mock);
        let raw = pool.request_raw("public/get_time", "{}").expect("raw");
        assert!(raw.as_str().parse::<u64>().is_ok(), "{}", raw.as_str());
        let before = mock.request_count("public/get_time");
        let bad = pool.request_raw("public/get_time", "[1,");
        assert!(
            matches!(&bad, Err(RequestError::Rejected(e)) if e.code == -32602),
            "{bad:?}"
        );
        assert_eq!(mock.request_count("public/get_time"), before, "not sent");

        mock.faults().live().delay_responses(Duration::from_secs(3));
        let started = Instant::now();
        let late = pool.request_timeout("public/get_time", &json!({}), Duration::from_millis(300));
        let took = started.elapsed();
        assert_eq!(late, Err(RequestError::Timeout));
        let bound = Duration::from_millis(300)..Duration::from_millis(1500);
        assert!(bound.contains(&took), "{took:?}");
        pool.close().expect("close");
    });
}

#[test]
fn subscribe_timeout_and_subscribe_nowait_return_without_the_confirmation() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let mock = MockDeribit::start(MockConfig::default());
        let limits = wsnova_core::pool::PoolLimits::default(); // one connection
        let (pool, events) = event_loop
            .connect_pool(config(&mock.url()), Deribit::new(), limits)
            .expect("connect");
        // Answers come 500 ms late: nowait returns long before.
        mock.faults()
            .live()
            .delay_responses(Duration::from_millis(500));
        let started = Instant::now();
        pool.subscribe_nowait(&[A]).expect("nowait");
        let took = started.elapsed();
        assert!(took < Duration::from_millis(250), "{took:?}");
        assert!(!pool.status().confirmed.contains(&A.to_owned()), "not yet");
        let confirmed = wait_for(&events, |e| match e {
            Event::Subscribed { channels } => Some(channels),
            _ => None,
        });
        assert_eq!(confirmed, vec![A.to_owned()]);
        assert!(pool.status().confirmed.contains(&A.to_owned()));

        mock.faults().live().delay_responses(Duration::from_secs(2));
        let started = Instant::now();
        let late = pool.subscribe_timeout(&[B], Duration::from_millis(300));
        let took = started.elapsed();
        assert_eq!(late, Err(SubscribeError::Timeout));
        assert!(took < Duration::from_millis(1500), "{took:?}");
        // Still wanted: confirmed once the delayed answer arrives.
        pool.subscribe_timeout(&[B], STEP).expect("confirmed later");
        pool.close().expect("close");
    });
}

#[test]
fn authenticate_reaches_every_connection_present_and_future() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&event_loop, &mock);
        pool.subscribe(&[A]).expect("A");
        let first = mock.live_connections();
        assert_eq!(auth_requests(&mock, first[0]), 0, "no credentials yet");
        let credentials = Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
        pool.authenticate(credentials).expect("authenticate");
        let authed = |p: &PoolHandle| {
            let s = p.status();
            s.ready() == s.total() && s.connections.iter().all(|c| c.status.authenticated)
        };
        assert!(eventually(|| authed(&pool)), "{:?}", pool.status());
        assert_eq!(auth_requests(&mock, first[0]), 1);
        // A new connection for B (one stream each) authenticates too.
        pool.subscribe(&[B]).expect("B");
        let live = mock.live_connections();
        assert_eq!(live.len(), 2);
        assert!(eventually(|| authed(&pool)), "{:?}", pool.status());
        assert_eq!(auth_requests(&mock, live[1]), 1, "the new connection");
        // And so does the connection that takes over after a drop.
        mock.faults().conn(live[1]).drop_now();
        let fresh = |m: &MockDeribit| {
            let now = m.live_connections();
            now.iter().find(|c| !live.contains(c)).copied()
        };
        assert!(eventually(|| fresh(&mock).is_some()), "no new connection");
        let new = fresh(&mock).unwrap();
        assert!(eventually(|| auth_requests(&mock, new) == 1));
        assert!(eventually(|| authed(&pool)), "{:?}", pool.status());
        pool.close().expect("close");
    });
}

#[test]
fn set_heartbeat_pings_every_connection_present_and_future() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&event_loop, &mock);
        let pinged = |p: &PoolHandle| {
            let s = p.status();
            let each = s
                .connections
                .iter()
                .all(|c| c.status.stats.last_rtt.is_some());
            each.then_some(s.total())
        };
        assert_eq!(pinged(&pool), None, "the default pings every 15 s");
        let heartbeat = HeartbeatConfig {
            ping_interval: Some(Duration::from_millis(50)),
            pong_timeout: Duration::from_secs(5),
            idle_timeout: None,
        };
        let zero = HeartbeatConfig {
            pong_timeout: Duration::ZERO,
            ..heartbeat
        };
        assert!(matches!(
            pool.set_heartbeat(zero),
            Err(SessionError::Config(_))
        ));
        pool.set_heartbeat(heartbeat).expect("heartbeat");
        assert!(eventually(|| pinged(&pool) == Some(1)));
        pool.subscribe(&[A, B]).expect("A and B");
        assert!(
            eventually(|| pinged(&pool) == Some(2)),
            "{:?}",
            pool.status()
        );
        pool.close().expect("close");
    });
}

#[test]
fn set_rate_limits_spaces_requests_on_every_connection_present_and_future() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&event_loop, &mock);
        let adapter = Deribit::new();
        let (cost, burst) = (adapter.cost(GET_TIME), adapter.cost("public/subscribe"));
        pool.set_rate_limits(five_per_second(burst, cost))
            .expect("limits");
        // B opens a second connection, after the change.
        pool.subscribe(&[A, B]).expect("a second connection");
        // 24 callers at once, each blocked on its own request.
        std::thread::scope(|scope| {
            let calls: Vec<_> = (0..24)
                .map(|_| scope.spawn(|| pool.request(GET_TIME, &json!({}))))
                .collect();
            for call in calls {
                call.join().expect("a caller").expect("answered");
            }
        });
        let times = request_times(&mock, GET_TIME);
        assert_spaced(&times, burst / cost);
        pool.close().expect("close");
    });
}

#[test]
fn status_counts_the_connections_and_channels_the_mock_sees() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&event_loop, &mock);
        pool.subscribe(&[A, B]).expect("subscribe");
        let status = pool.status();
        assert_eq!((status.ready(), status.total()), (2, 2), "{status:?}");
        assert_eq!(status.confirmed, vec![A.to_owned(), B.to_owned()]);
        assert_eq!(status.desired, status.confirmed);
        let mut seen: Vec<String> = status
            .connections
            .iter()
            .flat_map(|c| c.status.subscriptions.clone())
            .collect();
        seen.sort();
        let mut mocked: Vec<String> = mock
            .live_connections()
            .iter()
            .flat_map(|c| mock.subscriptions(*c))
            .collect();
        mocked.sort();
        assert_eq!(seen, mocked);
        pool.close().expect("close");
        assert!(pool.status().closed);
    });
}

#[test]
fn close_with_sends_its_code_and_reason_and_refuses_a_reserved_code() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let server = CloseRecorder::start();
        let limits = wsnova_core::pool::PoolLimits::default();
        let (pool, _events) = event_loop
            .connect_pool(config(&server.url), Plain, limits)
            .expect("connect");
        let reserved = pool.close_with(CloseCode::from(1006), "no");
        assert!(reserved.is_err(), "1006 may not be sent");
        assert_eq!(pool.status().ready(), 1, "still open");
        pool.close_with(CloseCode::from(4001), "bye")
            .expect("close");
        let got = server.closes.recv_timeout(STEP).expect("a close frame");
        assert_eq!(got, (4001, "bye".to_owned()));
    });
}

#[test]
fn from_builder_takes_credentials_and_lag_policy_and_refuses_recording() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let mock = MockDeribit::start(MockConfig::default());
        let recorded = Builder::new(&mock.url())
            .unwrap()
            .record("/nonexistent/tape");
        let refused = event_loop.connect_pool_with(recorded, Deribit::new(), one_per_connection());
        assert!(
            matches!(refused, Err(ConnectError::InvalidOption(_))),
            "{refused:?}"
        );

        let builder = Builder::new(&mock.url())
            .unwrap()
            .no_proxy_env()
            .credentials(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
            .event_capacity(4)
            .lag_policy(LagPolicy::DropOldest);
        let (pool, events) = event_loop
            .connect_pool_with(builder, Deribit::new(), one_per_connection())
            .expect("connect");
        assert!(pool.status().connections[0].status.authenticated);
        pool.subscribe(&[A]).expect("A");
        // Not reading while the mock sends more than 4: the oldest go.
        let sent = mock.stats().notifications_sent;
        assert!(mock.wait_until(STEP, |s| s.notifications_sent >= sent + 12));
        let dropped = wait_for(&events, |e| match e {
            Event::Lagged { dropped } => Some(dropped),
            _ => None,
        });
        assert!(dropped >= 4, "{dropped}");
        pool.close().expect("close");
    });
}

#[test]
fn backpressure_stops_reading_while_a_consumer_is_full_and_loses_nothing() {
    bounded(|| {
        let event_loop = EventLoop::new().expect("a loop");
        let mock = MockDeribit::start(MockConfig::default());
        let builder = Builder::new(&mock.url())
            .unwrap()
            .no_proxy_env()
            .event_capacity(4);
        assert_eq!(builder.policy(), LagPolicy::Backpressure, "the default");
        let limits = wsnova_core::pool::PoolLimits::default();
        let (pool, events) = event_loop
            .connect_pool_with(builder, Deribit::new(), limits)
            .expect("connect");
        pool.subscribe(&[A, B, C]).expect("subscribe");
        let read = |p: &PoolHandle| messages_in(&p.status());
        // Nobody reads: once the queue is full, the pool reads no more.
        let sent = mock.stats().notifications_sent;
        assert!(mock.wait_until(STEP, |s| s.notifications_sent >= sent + 15));
        let stalled = read(&pool);
        let sent = mock.stats().notifications_sent;
        assert!(mock.wait_until(STEP, |s| s.notifications_sent >= sent + 15));
        assert_eq!(read(&pool), stalled, "read while the consumer was full");
        // Reading again resumes the pool, with nothing dropped.
        let mut notifications = 0;
        while notifications < 20 {
            match events.recv_timeout(STEP).expect("an event") {
                Event::Notification { .. } => notifications += 1,
                Event::Lagged { dropped } => panic!("{dropped} dropped"),
                _ => {}
            }
        }
        assert!(read(&pool) > stalled);
        pool.close().expect("close");
    });
}
