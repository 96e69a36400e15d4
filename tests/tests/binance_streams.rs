//! Binance market streams end to end: the tokio driver with the Binance
//! adapter against the mock Binance. Subscribe, list, unsubscribe on the
//! combined endpoint; the raw endpoint; error answers (refusals, unknown
//! methods, the 1024-stream limit); server pings answered by the core; the
//! lifetime cut (reconnect and resubscribe); the 5 messages per second
//! limit, broken without pacing and kept with the adapter's rate limit.
#![cfg(feature = "net")]

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::time::timeout;
use wsnova_adapters::binance::{self, Binance};
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Event, Jitter, RateLimits, RequestError, SessionConfig,
};
use wsnova_tests::binance::{EndReason, MockBinance, MockConfig, Stats};
use wsnova_tokio::{Builder, Client, Connect as _, Events, SubscribeError};

/// Bound of every single wait.
const STEP: Duration = Duration::from_secs(10);
/// Bound of a whole test.
const TEST: Duration = Duration::from_secs(40);

async fn bounded<T>(what: &str, body: impl Future<Output = T>) -> T {
    timeout(TEST, body)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {TEST:?}"))
}

fn config(url: &str, paced: bool) -> SessionConfig {
    let mut config = SessionConfig::new(url).expect("a valid url");
    config.request_timeout = Duration::from_secs(5);
    config.connect_timeout = Duration::from_secs(2);
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Jittered(Jitter::Full),
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    };
    config.stable_after = Duration::from_millis(100);
    // Paced is the adapter's default; unpaced lifts it.
    if !paced {
        config.rate_limits = RateLimits::off();
    }
    config
}

async fn connect(url: &str, paced: bool) -> (Client, Events) {
    timeout(
        STEP,
        Builder::from_config(config(url, paced)).connect(Binance::spot()),
    )
    .await
    .expect("connect in time")
    .expect("connect")
}

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

/// Waits (off the runtime's threads) until the mock's stats satisfy `pred`.
async fn mock_until(mock: &MockBinance, what: &str, pred: impl FnMut(&Stats) -> bool) -> Stats {
    let held = tokio::task::block_in_place(|| mock.wait_until(STEP, pred));
    assert!(held, "the mock never saw {what}: {:?}", mock.stats());
    mock.stats()
}

fn list(result: &str) -> Vec<String> {
    serde_json::from_str(result).expect("a list of streams")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_list_unsubscribe_on_the_combined_endpoint() {
    let mock = MockBinance::start(MockConfig::default());
    bounded("combined", async {
        let (client, mut events) = connect(&mock.combined_url(&[]), true).await;
        client
            .subscribe(&["btcusdt@trade", "ethusdt@depth@100ms"])
            .await
            .expect("subscribed");
        for stream in ["btcusdt@trade", "ethusdt@depth@100ms"] {
            let event = until_event(
                &mut events,
                stream,
                |e| matches!(e, Event::Notification { channel, .. } if channel == stream),
            )
            .await;
            let Event::Notification { data, .. } = event else {
                unreachable!()
            };
            let data: Value = serde_json::from_str(data.as_str()).unwrap();
            assert_eq!(data["s"], stream[..7].to_ascii_uppercase());
        }
        let listed = client
            .request_raw("LIST_SUBSCRIPTIONS", "")
            .await
            .expect("listed");
        assert_eq!(
            list(listed.as_str()),
            ["btcusdt@trade", "ethusdt@depth@100ms"]
        );
        client
            .unsubscribe(&["btcusdt@trade"])
            .await
            .expect("unsubscribe sent");
        until_event(
            &mut events,
            "Unsubscribed",
            |e| matches!(e, Event::Unsubscribed { channels } if channels == &["btcusdt@trade"]),
        )
        .await;
        let listed = client
            .request_raw("LIST_SUBSCRIPTIONS", "")
            .await
            .expect("listed");
        assert_eq!(list(listed.as_str()), ["ethusdt@depth@100ms"]);
        let stats = mock.stats();
        let conn = stats.connections.values().next().expect("one connection");
        assert_eq!(
            conn.streams.iter().collect::<Vec<_>>(),
            ["ethusdt@depth@100ms"]
        );
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raw_endpoint_names_events_by_type() {
    let mock = MockBinance::start(MockConfig::default());
    bounded("raw", async {
        let (_client, mut events) = connect(&mock.raw_url(&["btcusdt@aggTrade"]), true).await;
        let event = until_event(&mut events, "an aggTrade", |e| {
            matches!(e, Event::Notification { .. })
        })
        .await;
        let Event::Notification { channel, data } = event else {
            unreachable!()
        };
        assert_eq!(channel, "aggTrade");
        assert_eq!(
            binance::stream_of(data.as_str()).as_deref(),
            Some("btcusdt@aggTrade")
        );
        let trade: binance::types::AggTrade<'_> =
            serde_json::from_str(data.as_str()).expect("an aggTrade");
        assert_eq!(trade.symbol, "BTCUSDT");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_binance_codes_and_messages() {
    let mock = MockBinance::start(MockConfig::default());
    bounded("errors", async {
        let (client, _events) = connect(&mock.combined_url(&[]), true).await;
        mock.faults()
            .refuse_subscriptions(1, 2, "Invalid request: refused by the test");
        match client.subscribe(&["btcusdt@trade"]).await {
            Err(SubscribeError::Refused { channels, error }) => {
                assert_eq!(channels, ["btcusdt@trade"]);
                assert!(error.contains("refused by the test"), "{error}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        match client.request_raw("BOGUS", "[]").await {
            Err(RequestError::Rejected(e)) => {
                assert_eq!(e.code, 2);
                assert!(
                    e.message.contains("unknown variant `BOGUS`"),
                    "{}",
                    e.message
                );
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        // 1024 streams fit on one connection; the 1025th is refused.
        let many: Vec<String> = (0..1024).map(|i| format!("sym{i}usdt@trade")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        client.subscribe(&refs).await.expect("1024 streams");
        match client.subscribe(&["btcusdt@trade"]).await {
            Err(SubscribeError::Refused { error, .. }) => {
                assert!(error.contains("too many streams"), "{error}")
            }
            other => panic!("expected the stream limit, got {other:?}"),
        }
        let stats = mock.stats();
        assert_eq!(
            stats.connections.values().next().unwrap().streams.len(),
            1024
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_pings_are_answered_by_the_core() {
    let config = MockConfig {
        // Pongs count against the 5 messages per second: at most 4 a second here.
        ping_interval: Duration::from_millis(300),
        pong_deadline: Duration::from_millis(1000),
        ..MockConfig::default()
    };
    let mock = MockBinance::start(config);
    bounded("pings", async {
        let (_client, _events) = connect(&mock.combined_url(&["btcusdt@trade"]), true).await;
        let stats = mock_until(&mock, "8 pongs", |s| {
            s.connections.values().any(|c| c.pongs_received >= 8)
        })
        .await;
        assert_eq!(stats.ended(EndReason::PongTimeout), 0);
        assert_eq!(stats.live().len(), 1, "{stats:?}");

        // The control: a peer that never reads never answers, and is cut.
        let tcp = tokio::net::TcpStream::connect(mock.addr())
            .await
            .expect("tcp");
        let (_silent, _) = tokio_tungstenite::client_async(mock.raw_url(&[]), tcp)
            .await
            .expect("upgrade");
        mock_until(&mock, "a pong timeout", |s| {
            s.ended(EndReason::PongTimeout) == 1
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifetime_cut_reconnects_and_resubscribes() {
    let config = MockConfig {
        lifetime: Duration::from_millis(700),
        ..MockConfig::default()
    };
    let mock = MockBinance::start(config);
    bounded("lifetime", async {
        let (client, mut events) = connect(&mock.combined_url(&[]), true).await;
        client
            .subscribe(&["btcusdt@trade"])
            .await
            .expect("subscribed");
        until_event(&mut events, "Disconnected", |e| {
            matches!(e, Event::Disconnected { .. })
        })
        .await;
        until_event(&mut events, "Subscribed again", |e| {
            matches!(e, Event::Subscribed { .. })
        })
        .await;
        until_event(
            &mut events,
            "a trade",
            |e| matches!(e, Event::Notification { channel, .. } if channel == "btcusdt@trade"),
        )
        .await;
        let stats = mock.stats();
        assert!(stats.ended(EndReason::Lifetime) >= 1, "{stats:?}");
        let live = stats.live();
        assert_eq!(live.len(), 1);
        assert!(
            stats.connections[&live[0]]
                .streams
                .contains("btcusdt@trade")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_subscribes_break_the_limit_unpaced_and_keep_it_paced() {
    let mock = MockBinance::start(MockConfig::default());
    let streams: Vec<String> = (0..10).map(|i| format!("s{i}usdt@trade")).collect();
    bounded("limit", async {
        // Unpaced: ten SUBSCRIBE messages at once; the mock disconnects.
        let (client, _events) = connect(&mock.combined_url(&[]), false).await;
        for s in &streams {
            client.subscribe_nowait(&[s.as_str()]).expect("queued");
        }
        let stats = mock_until(&mock, "a too-many-messages cut", |s| {
            s.ended(EndReason::TooManyMessages) >= 1
        })
        .await;
        assert!(
            stats.connections[&1].peak_messages_per_second > 5,
            "{stats:?}"
        );
        client.close().await.expect("close");

        // Paced with the adapter's declared limit: all ten, no cut.
        let (client, _events) = connect(&mock.combined_url(&[]), true).await;
        let names: Vec<[&str; 1]> = streams.iter().map(|s| [s.as_str()]).collect();
        let waits: Vec<_> = names.iter().map(|n| client.subscribe(n)).collect();
        for wait in futures_util::future::join_all(waits).await {
            wait.expect("subscribed");
        }
        let stats = mock.stats();
        let live = stats.live();
        assert_eq!(live.len(), 1, "{stats:?}");
        let paced = &stats.connections[&live[0]];
        assert_eq!(paced.streams.len(), 10);
        assert!(paced.peak_messages_per_second <= 5, "{paced:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_streams_read_as_typed_events() {
    let mock = MockBinance::start(MockConfig::usdm());
    bounded("futures", async {
        let streams = [
            "btcusdt@kline_1m",
            "btcusdt@markPrice@1s",
            "btcusdt@bookTicker",
            "btcusdt@depth",
        ];
        let (_client, mut events) = connect(&mock.combined_url(&streams), true).await;
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < streams.len() {
            let Event::Notification { channel, data } =
                until_event(&mut events, "a notification", |e| {
                    matches!(e, Event::Notification { .. })
                })
                .await
            else {
                unreachable!()
            };
            let data = data.as_str();
            match channel.as_str() {
                "btcusdt@kline_1m" => {
                    let k: binance::types::KlineEvent<'_> =
                        serde_json::from_str(data).expect("a kline");
                    assert_eq!((k.symbol, k.kline.interval), ("BTCUSDT", "1m"));
                }
                "btcusdt@markPrice@1s" => {
                    let m: binance::types::MarkPrice<'_> =
                        serde_json::from_str(data).expect("a mark price");
                    assert!(m.next_funding_time > m.event_time);
                }
                "btcusdt@bookTicker" => {
                    let t: binance::types::BookTicker<'_> =
                        serde_json::from_str(data).expect("a book ticker");
                    assert!(t.event_time.is_some(), "futures tickers carry E");
                }
                "btcusdt@depth" => {
                    let d: binance::types::DepthDiff<'_> =
                        serde_json::from_str(data).expect("a depth diff");
                    assert_eq!(
                        d.prev_final_update_id.map(|pu| pu + 1),
                        Some(d.first_update_id)
                    );
                }
                other => panic!("unexpected stream {other}"),
            }
            seen.insert(channel);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscription_is_confirmed_late() {
    let mock = MockBinance::start(MockConfig::default());
    bounded("slow", async {
        let (client, mut events) = connect(&mock.combined_url(&[]), true).await;
        mock.faults().subscribe_delay(Duration::from_millis(600));
        let early = client
            .subscribe_timeout(&["btcusdt@trade"], Duration::from_millis(100))
            .await;
        assert!(matches!(early, Err(SubscribeError::Timeout)), "{early:?}");
        // The stream stays wanted: the late answer confirms it.
        until_event(
            &mut events,
            "Subscribed",
            |e| matches!(e, Event::Subscribed { channels } if channels == &["btcusdt@trade"]),
        )
        .await;
        until_event(
            &mut events,
            "a trade",
            |e| matches!(e, Event::Notification { channel, .. } if channel == "btcusdt@trade"),
        )
        .await;
        assert_eq!(mock.stats().subscribe_requests, 1);
    })
    .await;
}
