//! Metrics end to end: a Prometheus recorder with its HTTP listener (as the
//! Deribit demo's `--metrics` installs it), a wsnova-tokio session with the
//! Deribit adapter against the mock exchange, and two scrapes over plain
//! HTTP: the key series of `docs/metrics.md` exist and move.
//!
//! A process has one global recorder: this file holds a single test.
#![cfg(feature = "net")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;
use wsnova_core::session::{RateClass, RateLimits};
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_adapters::deribit::Deribit;
use wsnova_core::session::{Credentials, Event, SessionConfig};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};
use wsnova_tokio::{Builder, Events};

const STEP: Duration = Duration::from_secs(10);
const NAME: &str = "metrics-test";
const TICKER: &str = "ticker.BTC-PERPETUAL.100ms";
const BOOK: &str = "book.BTC-PERPETUAL.100ms";

/// A loopback port nobody listens on (the exporter binds it itself).
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// `GET /metrics` over a plain socket; the body of the answer.
fn scrape(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the exporter");
    stream
        .set_read_timeout(Some(STEP))
        .expect("set a read timeout");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "scrape answered {response:?}"
    );
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or_default();
    // A chunked body is fine for `value`: chunk sizes are lines of their own.
    body.to_owned()
}

/// The value of the first sample of `name` carrying all of `labels`.
fn value(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    body.lines().find_map(|line| {
        let (series, number) = line.rsplit_once(' ')?;
        let (metric, rest) = match series.split_once('{') {
            Some((metric, rest)) => (metric, rest),
            None => (series, ""),
        };
        if metric != name {
            return None;
        }
        let all = labels
            .iter()
            .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        all.then(|| number.parse().ok()).flatten()
    })
}

/// [`value`] with the test's `connection` label, or a panic naming the series.
fn get(body: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut all = vec![("connection", NAME)];
    all.extend_from_slice(labels);
    value(body, name, &all).unwrap_or_else(|| panic!("no {name}{labels:?} in\n{body}"))
}

async fn until_event(events: &mut Events, what: &str, mut pred: impl FnMut(&Event) -> bool) {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(event)) if pred(&event) => return,
            Ok(Some(_)) => {}
            Ok(None) => panic!("the events ended before {what}"),
            Err(_) => panic!("no {what} within {STEP:?}"),
        }
    }
}

#[test]
fn prometheus_scrape_shows_the_key_series_moving() {
    // Installed before any runtime exists: the exporter runs on its own thread.
    let addr = free_port();
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .expect("install the Prometheus recorder");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let mock = MockDeribit::start(MockConfig::default());
        let adapter = Deribit::new();
        let mut config = SessionConfig::new(&mock.url()).expect("a valid url");
        config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
        config.rate_limits =
            RateLimits::default().with(RateClass::DEFAULT, adapter.rate_limit(256));
        config.request_timeout = Duration::from_secs(5);
        config.stable_after = Duration::ZERO;
        let (client, mut events) = timeout(
            STEP,
            Builder::from_config(config).name(NAME).connect(adapter),
        )
        .await
        .expect("connect in time")
        .expect("connect");

        client.subscribe(&[TICKER]).await.expect("subscribe");
        until_event(&mut events, "the subscription", |e| {
            matches!(e, Event::Subscribed { .. })
        })
        .await;
        client
            .request("public/get_time", &serde_json::json!({}))
            .await
            .expect("get_time");
        let rtt = client.ping().await.expect("a pong");
        assert!(rtt < STEP);

        let first = tokio::task::spawn_blocking(move || scrape(addr))
            .await
            .expect("scrape");
        assert_eq!(get(&first, "wsnova_connections_total", &[]), 1.0);
        assert_eq!(get(&first, "wsnova_state", &[("state", "ready")]), 1.0);
        assert_eq!(get(&first, "wsnova_state", &[("state", "connecting")]), 0.0);
        assert!(get(&first, "wsnova_messages_in_total", &[]) > 0.0);
        assert!(get(&first, "wsnova_messages_out_total", &[]) > 0.0);
        assert!(get(&first, "wsnova_bytes_in_total", &[]) > 0.0);
        assert!(get(&first, "wsnova_bytes_out_total", &[]) > 0.0);
        assert_eq!(
            get(&first, "wsnova_subscriptions", &[("state", "desired")]),
            1.0
        );
        assert_eq!(
            get(&first, "wsnova_subscriptions", &[("state", "confirmed")]),
            1.0
        );
        assert!(get(&first, "wsnova_ratelimit_tokens", &[]) > 0.0);
        get(&first, "wsnova_ratelimit_queue_depth", &[]);
        let get_time = [("method", "public/get_time")];
        assert_eq!(
            get(&first, "wsnova_request_duration_seconds_count", &get_time),
            1.0
        );
        // The core's own requests are timed too.
        assert!(
            get(
                &first,
                "wsnova_request_duration_seconds_count",
                &[("method", "public/auth")]
            ) >= 1.0
        );
        assert_eq!(
            get(
                &first,
                "wsnova_requests_total",
                &[("method", "public/get_time"), ("outcome", "ok")]
            ),
            1.0
        );
        assert_eq!(get(&first, "wsnova_ping_rtt_seconds_count", &[]), 1.0);
        // Never the URL.
        assert!(!first.contains(&mock.url()), "the URL leaked into a label");

        // More traffic, a refused request and a dropped connection.
        client.subscribe(&[BOOK]).await.expect("subscribe");
        until_event(&mut events, "the second subscription", |e| {
            matches!(e, Event::Subscribed { .. })
        })
        .await;
        for _ in 0..3 {
            client
                .request("public/get_time", &serde_json::json!({}))
                .await
                .expect("get_time");
        }
        let refused = client
            .request("public/no_such_method", &serde_json::json!({}))
            .await;
        assert!(refused.is_err(), "an unknown method is refused");
        mock.faults().live().drop_now();
        until_event(&mut events, "the reconnect", |e| {
            matches!(e, Event::Reconnecting { .. })
        })
        .await;
        until_event(&mut events, "ready again", |e| matches!(e, Event::Ready)).await;
        client.ping().await.expect("a pong");

        let second = tokio::task::spawn_blocking(move || scrape(addr))
            .await
            .expect("scrape");
        assert_eq!(get(&second, "wsnova_connections_total", &[]), 2.0);
        assert_eq!(get(&second, "wsnova_reconnects_total", &[]), 1.0);
        for counter in [
            "wsnova_messages_in_total",
            "wsnova_messages_out_total",
            "wsnova_bytes_in_total",
            "wsnova_bytes_out_total",
        ] {
            assert!(
                get(&second, counter, &[]) > get(&first, counter, &[]),
                "{counter} did not move"
            );
        }
        assert_eq!(
            get(&second, "wsnova_request_duration_seconds_count", &get_time),
            4.0
        );
        assert_eq!(
            get(
                &second,
                "wsnova_requests_total",
                &[("method", "public/get_time"), ("outcome", "ok")]
            ),
            4.0
        );
        assert_eq!(
            get(
                &second,
                "wsnova_requests_total",
                &[("method", "public/no_such_method"), ("outcome", "rejected")]
            ),
            1.0
        );
        assert_eq!(
            get(&second, "wsnova_subscriptions", &[("state", "desired")]),
            2.0
        );
        assert_eq!(get(&second, "wsnova_ping_rtt_seconds_count", &[]), 2.0);
        assert_eq!(get(&second, "wsnova_state", &[("state", "ready")]), 1.0);

        client.close().await.expect("close");
        let third = tokio::task::spawn_blocking(move || scrape(addr))
            .await
            .expect("scrape");
        assert_eq!(get(&third, "wsnova_state", &[("state", "closed")]), 1.0);
        assert_eq!(get(&third, "wsnova_state", &[("state", "ready")]), 0.0);
    });
}
