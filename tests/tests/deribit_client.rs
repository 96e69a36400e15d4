//! Deribit end to end: the tokio driver (`wsnova_tokio`) with the Deribit
//! adapter (`wsnova_adapters::deribit`) against the mock exchange
//! (`wsnova_tests::deribit::MockDeribit`), one behaviour per test: signed
//! auth, wrong credentials (no reconnect loop), exchange heartbeats, token
//! expiry (13009 `unauthorized`: refresh and retry), order book gaps
//! (resync), cancel-on-disconnect across a reconnect, and partially
//! confirmed subscriptions.
//!
//! The mock records request methods but not their params, so the tests that
//! look at the auth grant put a small recording WebSocket relay ([`Tap`])
//! between the client and the mock.
#![cfg(feature = "net")]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wsnova_core::session::{RateClass, RateLimits};
use wsnova_tokio::Connect as _;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use wsnova_adapters::deribit::calls::{Buy, Call};
use wsnova_adapters::deribit::{
    AuthMethod, BookUpdate, BookUpdateKind, CancelScope, Deribit, OrderParams,
};
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, CloseReason, Credentials, DisconnectReason, Event, Jitter,
    SessionConfig, SessionState,
};
use wsnova_tests::deribit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EndReason, FaultKind, MockConfig, MockDeribit, Stats,
    client_signature,
};
use wsnova_tokio::{Builder, Client, ConnectError, Events};

/// Bound of every single wait (an event, a state of the mock, a request).
const STEP: Duration = Duration::from_secs(10);
/// Bound of a whole test.
const TEST: Duration = Duration::from_secs(30);
const INSTRUMENT: &str = "BTC-PERPETUAL";
const BOOK: &str = "book.BTC-PERPETUAL.100ms";

// ---- helpers ---------------------------------------------------------------

/// Runs a test body under the whole-test bound.
async fn bounded<T>(what: &str, body: impl Future<Output = T>) -> T {
    timeout(TEST, body)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {TEST:?}"))
}

/// A session config for `url` with fast reconnects and `secret`.
fn config(url: &str, adapter: &Deribit, secret: &str) -> SessionConfig {
    let mut config = SessionConfig::new(url).expect("a valid url");
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, secret));
    config.request_timeout = Duration::from_secs(5);
    config.connect_timeout = Duration::from_secs(2);
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Jittered(Jitter::Full),
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    };
    config.stable_after = Duration::from_millis(100);
    config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, adapter.rate_limit(256));
    config
}

/// Connects to `url` with the default account and waits until `Ready`.
async fn connect(url: &str, adapter: Deribit) -> (Client, Events) {
    let config = config(url, &adapter, DEFAULT_CLIENT_SECRET);
    timeout(STEP, Builder::from_config(config).connect(adapter))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// Skips events until one matches `pred`; panics if none does within [`STEP`].
async fn until_event(
    events: &mut Events,
    what: &str,
    mut pred: impl FnMut(&Event) -> bool,
) -> Event {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(event)) if pred(&event) => return event,
            Ok(Some(_)) => {}
            Ok(None) => panic!("the events ended before {what}"),
            Err(_) => panic!("no {what} within {STEP:?}"),
        }
    }
}

/// Collects every event until the stream ends (after `Closed`).
fn collect(mut events: Events) -> tokio::task::JoinHandle<Vec<Event>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(event) = events.next().await {
            seen.push(event);
        }
        seen
    })
}

/// Polls the mock's stats until `pred` holds; panics after [`STEP`].
async fn stats_until(
    mock: &MockDeribit,
    what: &str,
    mut pred: impl FnMut(&Stats) -> bool,
) -> Stats {
    let deadline = Instant::now() + STEP;
    loop {
        let stats = mock.stats();
        if pred(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "the mock never saw {what}: requests {:?}, connections {:?}",
            stats.requests_by_method,
            stats.connections
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.expect("after the epoch").as_millis() as u64
}

/// A WebSocket relay in front of the mock that records every text message
/// the client sends (the mock keeps only method names, not params).
struct Tap {
    addr: SocketAddr,
    sent: Arc<Mutex<Vec<Value>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Tap {
    async fn start(mock: &MockDeribit) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (upstream, url, log) = (mock.addr(), mock.url(), sent.clone());
        let accept = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(relay(tcp, upstream, url.clone(), log.clone()));
            }
        });
        Tap { addr, sent, accept }
    }

    fn url(&self) -> String {
        format!("ws://{}/ws/api/v2", self.addr)
    }

    /// The params of every `public/auth` the client sent, in order.
    fn auth_params(&self) -> Vec<Value> {
        let sent = self.sent.lock().unwrap();
        let auths = sent.iter().filter(|m| m["method"] == "public/auth");
        auths.map(|m| m["params"].clone()).collect()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Relays one connection both ways, recording the client's text messages.
/// Pings are answered by tungstenite on each side, not relayed.
async fn relay(tcp: TcpStream, upstream: SocketAddr, url: String, log: Arc<Mutex<Vec<Value>>>) {
    let Ok(mut client) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let Ok(tcp) = TcpStream::connect(upstream).await else {
        return;
    };
    let Ok((mut server, _)) = tokio_tungstenite::client_async(url.as_str(), tcp).await else {
        return;
    };
    loop {
        tokio::select! {
            message = client.next() => match message {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_) | Message::Close(_)))) => {
                    if let Message::Text(text) = &message
                        && let Ok(value) = serde_json::from_str(text.as_str())
                    {
                        log.lock().unwrap().push(value);
                    }
                    if server.send(message).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
            message = server.next() => match message {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_) | Message::Close(_)))) => {
                    if client.send(message).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

/// Asserts the session tried exactly once: one TCP connection, one auth,
/// and nothing more after a second.
async fn assert_single_attempt(mock: &MockDeribit) {
    // Waiting for something not to happen: a plain sleep is the point.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stats = mock.stats();
    assert_eq!(stats.connections_accepted, 1, "no reconnect loop");
    assert_eq!(stats.connections.len(), 1);
    assert_eq!(stats.request_count("public/auth"), 1);
    assert!(
        stats.live_connections().is_empty(),
        "the connection was closed"
    );
}

// ---- tests -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_auth_sends_a_client_signature_grant_and_becomes_ready_and_authenticated() {
    bounded("signature auth", async {
        let mock = MockDeribit::start(MockConfig::default());
        let tap = Tap::start(&mock).await;
        let adapter = Deribit::new().with_auth_method(AuthMethod::Signature);
        let (client, events) = connect(&tap.url(), adapter).await;
        drop(events);

        let status = client.status();
        assert_eq!(status.state, SessionState::Ready);
        assert!(status.authenticated);

        // The grant on the wire: signed with the wall clock, no secret.
        let auths = tap.auth_params();
        assert_eq!(auths.len(), 1, "one auth: {auths:?}");
        let grant = &auths[0];
        assert_eq!(grant["grant_type"], "client_signature");
        assert_eq!(grant["client_id"], DEFAULT_CLIENT_ID);
        assert!(
            grant.get("client_secret").is_none(),
            "the secret stays home"
        );
        let timestamp = grant["timestamp"].as_u64().expect("a timestamp");
        assert!(
            now_ms().abs_diff(timestamp) < 60_000,
            "the driver passed the wall clock: {timestamp}"
        );
        let (nonce, data) = (
            grant["nonce"].as_str().unwrap(),
            grant["data"].as_str().unwrap(),
        );
        assert_eq!(
            grant["signature"].as_str(),
            Some(client_signature(DEFAULT_CLIENT_SECRET, timestamp, nonce, data).as_str())
        );

        // The mock accepted it: the connection is the account's, private calls work.
        let stats = mock.stats();
        assert_eq!(stats.request_count("public/auth"), 1);
        let conn = mock.last_connection().expect("a connection");
        let account = stats.connections[&conn].account.as_deref();
        assert_eq!(account, Some(DEFAULT_CLIENT_ID));
        let positions = client
            .request("private/get_positions", &json!({"currency": "BTC"}))
            .await
            .expect("a private call works");
        assert!(positions.parse::<Value>().unwrap().is_array());
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_fails_connect_without_reconnecting() {
    bounded("wrong secret", async {
        let mock = MockDeribit::start(MockConfig::default());
        let adapter = Deribit::new();
        let config = config(&mock.url(), &adapter, "not-the-secret");
        let outcome = timeout(STEP, Builder::from_config(config).connect(adapter))
            .await
            .expect("connect ends in time");
        match outcome {
            Err(ConnectError::Failed(DisconnectReason::AuthFailed(message))) => {
                assert!(message.contains("invalid_credentials"), "{message}")
            }
            other => panic!("expected an auth failure, got {:?}", other.map(|_| ())),
        }
        assert_single_attempt(&mock).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_with_initial_retry_closes_stopped_auth_failed_without_reconnecting() {
    bounded("wrong secret, retrying the first connect", async {
        let mock = MockDeribit::start(MockConfig::default());
        let adapter = Deribit::new();
        let config = config(&mock.url(), &adapter, "not-the-secret");
        let connecting = Builder::from_config(config)
            .retry_initial_connect(true)
            .connect(adapter);
        let outcome = timeout(STEP, connecting)
            .await
            .expect("connect ends in time");
        match outcome {
            Err(ConnectError::Closed(CloseReason::Stopped(DisconnectReason::AuthFailed(m)))) => {
                assert!(m.contains("invalid_credentials"), "{m}")
            }
            other => panic!("expected Stopped(AuthFailed), got {:?}", other.map(|_| ())),
        }
        assert_single_attempt(&mock).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_test_requests_are_answered_and_the_connection_survives() {
    bounded("heartbeat", async {
        let mock = MockDeribit::start(MockConfig {
            min_heartbeat_interval: Duration::from_secs(1),
            heartbeat_enforced: true,
            ..MockConfig::default()
        });
        // The adapter never asks for less than Deribit's minimum (10 s).
        let adapter = Deribit::new().with_heartbeat(Duration::from_secs(1));
        assert_eq!(adapter.heartbeat_interval(), Some(10));
        let (client, events) = connect(&mock.url(), adapter).await;
        let seen = collect(events);
        let conn = mock.last_connection().expect("a connection");
        stats_until(&mock, "set_heartbeat 10 s on connect", |s| {
            s.connections[&conn].heartbeat_interval == Some(10.0)
        })
        .await;

        // Ten-second beats make a slow test: shorten them to the mock's
        // minimum on the live connection. Every `test_request` must be
        // answered within one interval, or the mock closes the connection.
        client
            .request("public/set_heartbeat", &json!({"interval": 1}))
            .await
            .expect("the mock takes 1 s");
        let started = Instant::now();
        let stats = stats_until(&mock, "three answered test_requests", |s| {
            s.request_count("public/test") >= 3
        })
        .await;
        assert!(
            started.elapsed() >= Duration::from_secs(3),
            "three intervals passed"
        );
        assert_eq!(stats.connections[&conn].heartbeat_interval, Some(1.0));
        assert!(
            stats
                .requests
                .iter()
                .filter(|r| r.method == "public/test")
                .all(|r| r.conn == conn)
        );
        assert_eq!(stats.connections.len(), 1, "no reconnect");
        assert_eq!(stats.end_reason(conn), None, "the connection survived");
        let status = client.status();
        assert_eq!(status.state, SessionState::Ready);
        assert_eq!(status.stats.reconnects, 0);

        client.close().await.unwrap();
        let seen = timeout(STEP, seen).await.unwrap().unwrap();
        let lost: Vec<_> = seen
            .iter()
            .filter(|e| match e {
                Event::Disconnected { reason, .. } => *reason != DisconnectReason::UserClose,
                Event::Reconnecting { .. } => true,
                _ => false,
            })
            .collect();
        assert!(lost.is_empty(), "the connection was lost: {lost:?}");
        let stats = stats_until(&mock, "the end of the connection", |s| {
            s.end_reason(conn).is_some()
        })
        .await;
        assert_eq!(stats.end_reason(conn), Some(EndReason::ClientClosed));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refreshed_and_the_request_retried_once() {
    bounded("expired token", async {
        let mock = MockDeribit::start(MockConfig::default());
        let tap = Tap::start(&mock).await;
        let (client, events) = connect(&tap.url(), Deribit::new()).await;
        drop(events);

        assert_eq!(mock.faults().live().expire_token(), 1);
        let positions = timeout(
            STEP,
            client.request("private/get_positions", &json!({"currency": "BTC"})),
        )
        .await
        .expect("an outcome in time")
        .expect("the request succeeds after a refresh");
        assert!(positions.parse::<Value>().unwrap().is_array());

        let stats = mock.stats();
        assert_eq!(stats.fault_count(FaultKind::ExpireToken), 1);
        let tries: Vec<bool> = stats
            .requests
            .iter()
            .filter(|r| r.method == "private/get_positions")
            .map(|r| r.authenticated)
            .collect();
        assert_eq!(tries, [false, true], "refused once, then retried once");
        assert_eq!(stats.request_count("public/auth"), 2);
        assert_eq!(stats.connections.len(), 1, "refreshed without reconnecting");
        let grants: Vec<Value> = tap
            .auth_params()
            .iter()
            .map(|p| p["grant_type"].clone())
            .collect();
        assert_eq!(
            grants,
            [json!("client_credentials"), json!("refresh_token")]
        );
        let status = client.status();
        assert!(status.state == SessionState::Ready && status.authenticated);
        client.close().await.unwrap();
    })
    .await;
}

/// One book event as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Book {
    Snapshot(u64),
    Change { id: u64, prev: u64 },
    Gap { expected: u64, got: u64 },
}

/// The next book notification or gap on [`BOOK`]; other events are skipped.
async fn next_book(events: &mut Events) -> Book {
    let event = until_event(events, "a book event", |e| match e {
        Event::Notification { channel, .. } | Event::Gap { channel, .. } => channel == BOOK,
        _ => false,
    })
    .await;
    match event {
        Event::Gap { expected, got, .. } => Book::Gap { expected, got },
        Event::Notification { data, .. } => {
            let update: BookUpdate = data.parse().expect("a book update");
            match (update.kind, update.prev_change_id) {
                (BookUpdateKind::Snapshot, _) => Book::Snapshot(update.change_id),
                (BookUpdateKind::Change, Some(prev)) => Book::Change {
                    id: update.change_id,
                    prev,
                },
                (BookUpdateKind::Change, None) => panic!("a change without prev_change_id"),
            }
        }
        _ => unreachable!("filtered"),
    }
}

/// [`next_book`], checking that a delivered change follows the change (or
/// snapshot) delivered before it; `last` is the last delivered id.
async fn checked(events: &mut Events, last: &mut Option<u64>) -> Book {
    let book = next_book(events).await;
    match book {
        Book::Snapshot(id) => *last = Some(id),
        Book::Change { id, prev } => {
            assert_eq!(Some(prev), *last, "change {id} delivered after a gap");
            *last = Some(id);
        }
        Book::Gap { .. } => {}
    }
    book
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn book_gap_emits_gap_then_a_fresh_snapshot_and_never_delivers_a_broken_chain() {
    bounded("book gap", async {
        let mock = MockDeribit::start(MockConfig::default());
        let (client, mut events) = connect(&mock.url(), Deribit::new()).await;
        client.subscribe(&[BOOK]).await.unwrap();

        // Every delivered change must follow the one delivered before it.
        let mut last: Option<u64> = None;
        assert!(matches!(
            checked(&mut events, &mut last).await,
            Book::Snapshot(_)
        ));
        for _ in 0..3 {
            let book = checked(&mut events, &mut last).await;
            assert!(matches!(book, Book::Change { .. }), "{book:?}");
        }

        assert_eq!(mock.faults().live().book_gap(), 1);
        let (expected, got) = loop {
            match checked(&mut events, &mut last).await {
                Book::Gap { expected, got } => break (expected, got),
                Book::Change { .. } => {}
                Book::Snapshot(id) => panic!("a snapshot ({id}) before the gap"),
            }
        };
        assert_eq!(
            Some(expected),
            last,
            "the gap names the last change delivered"
        );
        assert_ne!(got, expected);

        // Held back until a fresh snapshot, then contiguous again.
        let book = checked(&mut events, &mut last).await;
        assert!(matches!(book, Book::Snapshot(_)), "after a gap: {book:?}");
        for _ in 0..3 {
            let book = checked(&mut events, &mut last).await;
            assert!(matches!(book, Book::Change { .. }), "{book:?}");
        }

        assert_eq!(mock.stats().fault_count(FaultKind::BookGap), 1);
        let status = client.status();
        assert_eq!(status.desired_subscriptions, [BOOK]);
        assert_eq!(status.subscriptions, [BOOK]);
        assert_eq!(
            status.stats.reconnects, 0,
            "resynced on the same connection"
        );
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_on_disconnect_fires_on_a_drop_and_is_enabled_again_after_the_reconnect() {
    bounded("cancel on disconnect", async {
        let mock = MockDeribit::start(MockConfig::default());
        let adapter = Deribit::new().with_cancel_on_disconnect(CancelScope::Connection);
        let (client, mut events) = connect(&mock.url(), adapter).await;
        until_event(&mut events, "the first Ready", |e| *e == Event::Ready).await;
        let first = mock.last_connection().expect("a connection");
        assert_eq!(
            mock.stats().connections[&first]
                .cancel_on_disconnect
                .as_deref(),
            Some("connection")
        );

        // Far below the market: the order rests.
        let order = Buy(OrderParams::limit(INSTRUMENT, 10.0, 1_000.0).label("cod"));
        let result = client.request(Buy::METHOD, &order).await.expect("placed");
        let placed = Buy::parse(&result).expect("an order result").order;
        assert_eq!(placed.order_state, "open");

        assert_eq!(mock.faults().live().drop_now(), 1);
        until_event(&mut events, "the loss", |e| {
            matches!(
                e,
                Event::Disconnected {
                    reconnect_in: Some(_),
                    ..
                }
            )
        })
        .await;
        until_event(&mut events, "Ready again", |e| *e == Event::Ready).await;

        let stats = stats_until(&mock, "cancel-on-disconnect enabled twice", |s| {
            s.request_count("private/enable_cancel_on_disconnect") == 2
        })
        .await;
        let firings = &stats.cancel_on_disconnect;
        assert_eq!(firings.len(), 1, "{firings:?}");
        assert_eq!(firings[0].conn, first);
        assert_eq!(firings[0].scope, "connection");
        assert_eq!(firings[0].reason, EndReason::Fault);
        assert_eq!(firings[0].cancelled, std::slice::from_ref(&placed.order_id));
        let order = stats.orders.iter().find(|o| o.order_id == placed.order_id);
        assert_eq!(order.map(|o| o.state.as_str()), Some("cancelled"));

        let second = mock.last_connection().expect("a new connection");
        assert_ne!(second, first);
        let enabled_on: Vec<_> = stats
            .requests
            .iter()
            .filter(|r| r.method == "private/enable_cancel_on_disconnect")
            .map(|r| (r.conn, r.authenticated))
            .collect();
        assert_eq!(enabled_on, [(first, true), (second, true)]);
        assert_eq!(
            stats.connections[&second].cancel_on_disconnect.as_deref(),
            Some("connection")
        );
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partially_confirmed_subscription_keeps_only_the_valid_channel() {
    bounded("partial subscription", async {
        const VALID: &str = "ticker.BTC-PERPETUAL.100ms";
        const UNKNOWN: &str = "ticker.NOPE-PERPETUAL.100ms";
        let mock = MockDeribit::start(MockConfig::default());
        let (client, mut events) = connect(&mock.url(), Deribit::new()).await;
        client.subscribe_nowait(&[VALID, UNKNOWN]).unwrap();

        let (mut subscribed, mut failed) = (None, None);
        while subscribed.is_none() || failed.is_none() {
            let event = until_event(&mut events, "the subscription's outcome", |e| {
                matches!(
                    e,
                    Event::Subscribed { .. } | Event::SubscriptionFailed { .. }
                )
            })
            .await;
            match event {
                Event::Subscribed { channels } => {
                    assert!(subscribed.replace(channels).is_none(), "one Subscribed")
                }
                Event::SubscriptionFailed { channels, .. } => {
                    assert!(failed.replace(channels).is_none(), "one SubscriptionFailed")
                }
                _ => unreachable!("filtered"),
            }
        }
        assert_eq!(subscribed.unwrap(), [VALID]);
        assert_eq!(failed.unwrap(), [UNKNOWN]);

        let status = client.status();
        assert_eq!(status.desired_subscriptions, [VALID]);
        assert_eq!(status.subscriptions, [VALID]);
        let conn = mock.last_connection().expect("a connection");
        assert_eq!(
            mock.subscriptions(conn).into_iter().collect::<Vec<_>>(),
            [VALID]
        );
        until_event(
            &mut events,
            "a ticker",
            |e| matches!(e, Event::Notification { channel, .. } if channel == VALID),
        )
        .await;
        client.close().await.unwrap();
    })
    .await;
}
