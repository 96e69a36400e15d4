//! A desk-sized subscription set against the Deribit mock, which refuses
//! frames over 32 kB with -32600 (and closes the connection) as Deribit does:
//! a tokio client with 2,000 channels (1,996 public option channels and 4
//! private ones) survives 20 forced disconnects and reaches `Ready` each time
//! with all 2,000 confirmed, exactly once each. The replay is split under
//! the frame limit and paced to Deribit's subscribe rate, so the mock never
//! refuses a frame nor runs out of credits.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_adapters::deribit::{Deribit, MAX_REQUEST_BYTES, NON_MATCHING_ENGINE};
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Credentials, Event, RateLimits, SessionConfig, SessionState,
};
use wsnova_tests::deribit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EndReason, MockConfig, MockDeribit, option_names,
};
use wsnova_tokio::Connect as _;

const CHANNELS: usize = 2_000;
const DISCONNECTS: usize = 20;
/// Per restore: 3 public batches and 1 private at 3 a second, with room.
const RESTORE: Duration = Duration::from_secs(10);

const PRIVATE: [&str; 4] = [
    "user.orders.BTC-PERPETUAL.100ms",
    "user.orders.ETH-PERPETUAL.100ms",
    "user.orders.any.any.100ms",
    "user.orders.future.BTC.100ms",
];

/// 4 private channels, then option ticker and book channels up to 2,000.
fn channels() -> Vec<String> {
    let public = option_names().flat_map(|o| {
        ["ticker", "book"]
            .into_iter()
            .flat_map(move |kind| ["100ms", "agg2"].map(|iv| format!("{kind}.{o}.{iv}")))
    });
    let all: Vec<String> = PRIVATE
        .iter()
        .map(|c| c.to_string())
        .chain(public)
        .take(CHANNELS)
        .collect();
    assert_eq!(all.len(), CHANNELS, "the mock lists enough options");
    all
}

fn config(mock: &MockDeribit, adapter: &Deribit) -> SessionConfig {
    let mut config = SessionConfig::new(&mock.url()).unwrap();
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    config.request_timeout = Duration::from_secs(5);
    config.connect_timeout = Duration::from_secs(2);
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_attempts: None,
    };
    config.rate_limits = RateLimits::default().with(NON_MATCHING_ENGINE, adapter.rate_limit(4096));
    config
}

/// Reads events until `Ready`: the channels `Subscribed` named meanwhile,
/// with their counts. A `SubscriptionFailed` fails the test.
async fn until_ready(events: &mut wsnova_tokio::Events) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    loop {
        let event = timeout(RESTORE, events.next())
            .await
            .expect("ready again in time")
            .expect("events go on");
        match event {
            Event::Subscribed { channels } => {
                for c in channels {
                    *counts.entry(c).or_insert(0) += 1;
                }
            }
            Event::SubscriptionFailed { channels, error } => {
                panic!("{} channels refused: {error}", channels.len())
            }
            Event::Ready => return counts,
            Event::Closed { reason } => panic!("closed: {reason:?}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_channels_survive_twenty_disconnects() {
    let started = Instant::now();
    let mock = MockDeribit::start(MockConfig::default());
    assert_eq!(mock.config().max_frame_bytes, MAX_REQUEST_BYTES);
    let adapter = Deribit::new();
    let (client, mut events) = timeout(
        Duration::from_secs(10),
        wsnova_tokio::Builder::from_config(config(&mock, &adapter))
            .event_capacity(1 << 16)
            .connect(adapter),
    )
    .await
    .expect("connect in time")
    .expect("connect");
    let all = channels();
    let expected: BTreeSet<String> = all.iter().cloned().collect();
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    timeout(RESTORE, client.subscribe(&names))
        .await
        .expect("subscribed in time")
        .expect("all 2,000 confirmed");
    assert_eq!(client.status().subscriptions.len(), CHANNELS);

    for round in 1..=DISCONNECTS {
        let before = mock.live_connections();
        assert_eq!(before.len(), 1, "one live connection");
        assert!(mock.faults().conn(before[0]).drop_now() == 1);
        // Everything up to the loss belongs to the previous connection.
        loop {
            let event = timeout(RESTORE, events.next())
                .await
                .expect("the loss is seen");
            if let Some(Event::Disconnected { .. }) = event {
                break;
            }
        }
        let counts = until_ready(&mut events).await;
        let confirmed: BTreeSet<String> = counts.keys().cloned().collect();
        assert_eq!(confirmed.len(), CHANNELS, "round {round}");
        assert!(confirmed == expected, "round {round}: the same 2,000");
        assert!(counts.values().all(|n| *n == 1), "round {round}: once each");
        let status = client.status();
        assert_eq!(status.state, SessionState::Ready, "round {round}");
        assert_eq!(status.subscriptions.len(), CHANNELS, "round {round}");
        let live = mock.live_connections();
        assert_eq!(live.len(), 1, "round {round}");
        assert_ne!(live, before, "round {round}: a new connection");
        assert_eq!(
            mock.subscriptions(live[0]),
            expected,
            "round {round}: on the server"
        );
    }

    let stats = mock.stats();
    let too_large = stats
        .connections
        .values()
        .filter(|c| c.ended == Some(EndReason::FrameTooLarge))
        .count();
    assert_eq!(too_large, 0, "no frame over 32 kB");
    assert_eq!(stats.rate_limited, 0, "paced within the subscribe credits");
    assert_eq!(
        stats.connections.len(),
        DISCONNECTS + 1,
        "no reconnect loop"
    );
    let subscribes = stats.request_count("public/subscribe");
    assert!(
        subscribes >= 3 * (DISCONNECTS as u64 + 1),
        "split into batches: {subscribes}"
    );
    eprintln!(
        "{DISCONNECTS} replays of {CHANNELS} channels ({subscribes} public batches) in {:?}",
        started.elapsed()
    );
    client.close().await.unwrap();
}
