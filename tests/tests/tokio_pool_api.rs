//! The tokio `PoolClient` has the verbs of `Client`, each checked against
//! the Deribit mock (or a tiny WebSocket server that records the close
//! frame): `request_timeout` gives up within its bound, `request_raw`
//! checks its params before sending, `subscribe_timeout` and
//! `subscribe_nowait` return without the confirmation, `authenticate`,
//! `set_heartbeat` and `set_rate_limits` reach connections opened later
//! too, `status` counts what the mock sees, `close_with` sends its code,
//! and `from_builder` takes the builder's credentials and lag policy.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::time::timeout;
use wsnova_core::driver::{Builder, ConnectError, LagPolicy, SubscribeError};
use wsnova_core::session::{
    Adapter as _, Credentials, Event, HeartbeatConfig, Plain, RequestError, SessionConfig,
    SessionError,
};
use wsnova_core::wire::CloseCode;
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};
use wsnova_tokio::{Events, PoolClient, adapters::Deribit};

mod pool_api_kit;
use pool_api_kit::{
    CloseRecorder, assert_spaced, auth_requests, five_per_second, messages_in, one_per_connection,
    request_times,
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
async fn pool(mock: &MockDeribit) -> (PoolClient<Deribit>, Events) {
    PoolClient::connect(config(&mock.url()), Deribit::new(), one_per_connection())
        .await
        .expect("connect")
}

async fn bounded(body: impl Future<Output = ()>) {
    timeout(TEST, body).await.expect("the test took too long");
}

/// Polls `check` every 20 ms for up to `STEP` (for states no event reports).
async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + STEP;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

/// The first event `pick` accepts, within `STEP`.
async fn wait_for<T>(events: &mut Events, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let found = async {
        while let Some(event) = events.recv().await {
            if let Some(t) = pick(event) {
                return Some(t);
            }
        }
        None
    };
    timeout(STEP, found)
        .await
        .ok()
        .flatten()
        .expect("the event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_gives_up_within_its_bound_and_request_raw_checks_params() {
    bounded(async {
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&mock).await;
        let raw = pool
            .request_raw("public/get_time", "{}")
            .await
            .expect("raw");
        assert!(raw.as_str().parse::<u64>().is_ok(), "{}", raw.as_str());
        let before = mock.request_count("public/get_time");
        let bad = pool.request_raw("public/get_time", "[1,").await;
        assert!(
            matches!(&bad, Err(RequestError::Rejected(e)) if e.code == -32602),
            "{bad:?}"
        );
        assert_eq!(mock.request_count("public/get_time"), before, "not sent");

        mock.faults().live().delay_responses(Duration::from_secs(3));
        let started = Instant::now();
        let late = pool
            .request_timeout("public/get_time", &json!({}), Duration::from_millis(300))
            .await;
        let took = started.elapsed();
        assert_eq!(late, Err(RequestError::Timeout));
        let bound = Duration::from_millis(300)..Duration::from_millis(1500);
        assert!(bound.contains(&took), "{took:?}");
        pool.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_timeout_and_subscribe_nowait_return_without_the_confirmation() {
    bounded(async {
        let mock = MockDeribit::start(MockConfig::default());
        let limits = wsnova_core::pool::PoolLimits::default(); // one connection
        let (pool, mut events) = PoolClient::connect(config(&mock.url()), Deribit::new(), limits)
            .await
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
        let confirmed = wait_for(&mut events, |e| match e {
            Event::Subscribed { channels } => Some(channels),
            _ => None,
        })
        .await;
        assert_eq!(confirmed, vec![A.to_owned()]);
        assert!(pool.status().confirmed.contains(&A.to_owned()));

        mock.faults().live().delay_responses(Duration::from_secs(2));
        let started = Instant::now();
        let late = pool
            .subscribe_timeout(&[B], Duration::from_millis(300))
            .await;
        let took = started.elapsed();
        assert_eq!(late, Err(SubscribeError::Timeout));
        assert!(took < Duration::from_millis(1500), "{took:?}");
        // Still wanted: confirmed once the delayed answer arrives.
        pool.subscribe_timeout(&[B], STEP)
            .await
            .expect("confirmed later");
        pool.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticate_reaches_every_connection_present_and_future() {
    bounded(async {
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&mock).await;
        pool.subscribe(&[A]).await.expect("A");
        let first = mock.live_connections();
        assert_eq!(auth_requests(&mock, first[0]), 0, "no credentials yet");
        let credentials = Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
        pool.authenticate(credentials).await.expect("authenticate");
        let authed = |p: &PoolClient<Deribit>| {
            let s = p.status();
            s.ready() == s.total() && s.connections.iter().all(|c| c.status.authenticated)
        };
        assert!(eventually(|| authed(&pool)).await, "{:?}", pool.status());
        assert_eq!(auth_requests(&mock, first[0]), 1);
        // A new connection for B (one stream each) authenticates too.
        pool.subscribe(&[B]).await.expect("B");
        let live = mock.live_connections();
        assert_eq!(live.len(), 2);
        assert!(eventually(|| authed(&pool)).await, "{:?}", pool.status());
        assert_eq!(auth_requests(&mock, live[1]), 1, "the new connection");
        // And so does the connection that takes over after a drop.
        mock.faults().conn(live[1]).drop_now();
        let fresh = |m: &MockDeribit| {
            let now = m.live_connections();
            now.iter().find(|c| !live.contains(c)).copied()
        };
        assert!(
            eventually(|| fresh(&mock).is_some()).await,
            "no new connection"
        );
        let new = fresh(&mock).unwrap();
        assert!(eventually(|| auth_requests(&mock, new) == 1).await);
        assert!(eventually(|| authed(&pool)).await, "{:?}", pool.status());
        pool.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_heartbeat_pings_every_connection_present_and_future() {
    bounded(async {
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&mock).await;
        let pinged = |p: &PoolClient<Deribit>| {
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
        assert!(eventually(|| pinged(&pool) == Some(1)).await);
        pool.subscribe(&[A, B]).await.expect("A and B");
        assert!(
            eventually(|| pinged(&pool) == Some(2)).await,
            "{:?}",
            pool.status()
        );
        pool.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_rate_limits_spaces_requests_on_every_connection_present_and_future() {
    bounded(async {
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&mock).await;
        let adapter = Deribit::new();
        let (cost, burst) = (adapter.cost(GET_TIME), adapter.cost("public/subscribe"));
        pool.set_rate_limits(five_per_second(burst, cost))
            .expect("limits");
        // B opens a second connection, after the change.
        pool.subscribe(&[A, B]).await.expect("a second connection");
        let params = json!({});
        let calls = (0..24).map(|_| pool.request(GET_TIME, &params));
        for outcome in futures_util::future::join_all(calls).await {
            outcome.expect("answered");
        }
        let times = request_times(&mock, GET_TIME);
        assert_spaced(&times, burst / cost);
        pool.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_counts_the_connections_and_channels_the_mock_sees() {
    bounded(async {
        let mock = MockDeribit::start(MockConfig::default());
        let (pool, _events) = pool(&mock).await;
        pool.subscribe(&[A, B]).await.expect("subscribe");
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
        pool.close().await.expect("close");
        assert!(pool.status().closed);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_with_sends_its_code_and_reason_and_refuses_a_reserved_code() {
    bounded(async {
        let server = CloseRecorder::start();
        let limits = wsnova_core::pool::PoolLimits::default();
        let (pool, _events) = PoolClient::connect(config(&server.url), Plain, limits)
            .await
            .expect("connect");
        let reserved = pool.close_with(CloseCode::from(1006), "no").await;
        assert!(reserved.is_err(), "1006 may not be sent");
        assert_eq!(pool.status().ready(), 1, "still open");
        pool.close_with(CloseCode::from(4001), "bye")
            .await
            .expect("close");
        let got = server.closes.recv_timeout(STEP).expect("a close frame");
        assert_eq!(got, (4001, "bye".to_owned()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_builder_takes_credentials_and_lag_policy_and_refuses_recording() {
    bounded(async {
        let mock = MockDeribit::start(MockConfig::default());
        let recorded = Builder::new(&mock.url())
            .unwrap()
            .record("/nonexistent/tape");
        let refused =
            PoolClient::from_builder(recorded, Deribit::new(), one_per_connection()).await;
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
        let (pool, mut events) =
            PoolClient::from_builder(builder, Deribit::new(), one_per_connection())
                .await
                .expect("connect");
        assert!(pool.status().connections[0].status.authenticated);
        pool.subscribe(&[A]).await.expect("A");
        // Not reading while the mock sends more than 4: the oldest go.
        let sent = mock.stats().notifications_sent;
        assert!(mock.wait_until(STEP, |s| s.notifications_sent >= sent + 12));
        let dropped = wait_for(&mut events, |e| match e {
            Event::Lagged { dropped } => Some(dropped),
            _ => None,
        })
        .await;
        assert!(dropped >= 4, "{dropped}");
        pool.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backpressure_stops_reading_while_a_consumer_is_full_and_loses_nothing() {
    bounded(async {
        let mock = MockDeribit::start(MockConfig::default());
        let builder = Builder::new(&mock.url())
            .unwrap()
            .no_proxy_env()
            .event_capacity(4);
        assert_eq!(builder.policy(), LagPolicy::Backpressure, "the default");
        let limits = wsnova_core::pool::PoolLimits::default();
        let (pool, mut events) = PoolClient::from_builder(builder, Deribit::new(), limits)
            .await
            .expect("connect");
        pool.subscribe(&[A, B, C]).await.expect("subscribe");
        let read = |p: &PoolClient<Deribit>| messages_in(&p.status());
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
            match timeout(STEP, events.recv()).await.expect("an event") {
                Some(Event::Notification { .. }) => notifications += 1,
                Some(Event::Lagged { dropped }) => panic!("{dropped} dropped"),
                other => assert!(other.is_some(), "the stream ended"),
            }
        }
        assert!(read(&pool) > stalled);
        pool.close().await.expect("close");
    })
    .await;
}
