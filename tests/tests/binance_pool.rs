//! A tokio `PoolClient` with the Binance adapter against the mock Binance:
//! 1,500 streams spread over two connections within Binance's limits (the
//! mock disconnects a client past 5 messages a second and refuses a 1025th
//! stream); make-before-break rotations before the mock's lifetime cut with
//! sequenced streams (trade `t`, aggTrade `a`, depth `U`/`u`) checked id by
//! id; a killed connection's streams all confirmed elsewhere within the
//! backoff.
#![cfg(feature = "net")]

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use tokio::time::timeout;
use wsnova_adapters::binance::{Binance, ConnectionLimits, update_id};
use wsnova_core::pool::PoolLimits;
use wsnova_core::session::{BackoffConfig, BackoffStrategy, Event, Jitter, SessionConfig};
use wsnova_tests::binance::{ConnInfo, EndReason, Endpoint, MockBinance, MockConfig, Stats};
use wsnova_tokio::{Events, PoolClient};

/// Bound of every single wait.
const STEP: Duration = Duration::from_secs(10);
/// Bound of a whole test.
const TEST: Duration = Duration::from_secs(60);

async fn bounded<T>(what: &str, body: impl Future<Output = T>) -> T {
    timeout(TEST, body)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {TEST:?}"))
}

/// `n` stream names, six per symbol: the mock's `BTCUSDT` and `ETHUSDT`
/// move, the other symbols' streams are quiet.
fn names(n: usize) -> Vec<String> {
    let kinds = [
        "trade",
        "aggTrade",
        "bookTicker",
        "kline_1m",
        "kline_5m",
        "miniTicker",
    ];
    (0..)
        .flat_map(|i: usize| {
            let sym = match i {
                0 => "btcusdt".to_owned(),
                1 => "ethusdt".to_owned(),
                _ => format!("s{i:03}usdt"),
            };
            kinds.into_iter().map(move |k| format!("{sym}@{k}"))
        })
        .take(n)
        .collect()
}

fn config(mock: &MockBinance, backoff_max: Duration) -> SessionConfig {
    let mut config = SessionConfig::new(&mock.combined_url(&[])).expect("a valid url");
    config.request_timeout = Duration::from_secs(5);
    config.connect_timeout = Duration::from_secs(2);
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Jittered(Jitter::Full),
        base: Duration::from_millis(100),
        max_delay: backoff_max,
        max_attempts: None,
    };
    config
}

async fn connect(
    mock: &MockBinance,
    limits: PoolLimits,
    backoff_max: Duration,
) -> (PoolClient<Binance>, Events) {
    timeout(
        STEP,
        PoolClient::connect(config(mock, backoff_max), Binance::spot(), limits),
    )
    .await
    .expect("connect in time")
    .expect("connect")
}

async fn subscribe(pool: &PoolClient<Binance>, names: &[String]) {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    timeout(STEP, pool.subscribe(&refs))
        .await
        .expect("subscribed in time")
        .expect("every stream confirmed");
}

fn stream_conns(stats: &Stats) -> impl Iterator<Item = &ConnInfo> {
    stats
        .connections
        .values()
        .filter(|c| c.endpoint != Endpoint::Api)
}

/// Streams per live connection, most first; and whether every one of
/// `names` is on exactly one live connection.
fn placement(stats: &Stats, names: &[String]) -> (Vec<usize>, bool) {
    let live: Vec<&ConnInfo> = stream_conns(stats).filter(|c| c.ended.is_none()).collect();
    let mut counts: Vec<usize> = live.iter().map(|c| c.streams.len()).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let once = names
        .iter()
        .all(|n| live.iter().filter(|c| c.streams.contains(n)).count() == 1);
    let total: usize = counts.iter().sum();
    (counts, once && total == names.len())
}

/// Waits for a notification of each of `channels`.
async fn notifications_of(events: &mut Events, channels: &[&str]) {
    let mut missing: BTreeSet<&str> = channels.iter().copied().collect();
    timeout(STEP, async {
        while !missing.is_empty() {
            match events.recv().await {
                Some(Event::Notification { channel, .. }) => {
                    missing.remove(channel.as_str());
                }
                Some(_) => {}
                None => panic!("the pool ended"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no notifications of {missing:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifteen_hundred_streams_go_over_two_connections_within_binances_limits() {
    bounded("limits", async {
        let mock = MockBinance::start(MockConfig::default());
        let limits = Binance::spot().pool_limits();
        let (pool, mut events) = connect(&mock, limits, Duration::from_secs(1)).await;
        let all = names(1500);
        subscribe(&pool, &all).await;
        let (counts, once) = placement(&mock.stats(), &all);
        assert_eq!(
            counts,
            [1024, 476],
            "packed within 1024 streams per connection"
        );
        assert!(once, "every stream on exactly one connection");
        notifications_of(&mut events, &["btcusdt@trade", "ethusdt@aggTrade"]).await;

        // Churn: 30 single-stream unsubscribes and 30 subscribes of other
        // streams, all at once. One message each would be 60 in a moment;
        // the pool keeps every connection under 5 a second (queued ones go
        // out together) and within 1024 streams.
        let more = names(1530);
        let (gone, fresh) = (&all[..30], &more[1500..]);
        for name in gone {
            pool.unsubscribe(&[name.as_str()])
                .await
                .expect("unsubscribe");
        }
        let singles: Vec<[&str; 1]> = fresh.iter().map(|n| [n.as_str()]).collect();
        let subscribes = singles.iter().map(|one| pool.subscribe(one));
        for outcome in futures_util::future::join_all(subscribes).await {
            outcome.expect("subscribed");
        }
        // Settled: every wanted stream once, on the same two connections.
        let wanted: Vec<String> = more[30..].to_vec();
        assert!(
            mock.wait_until(STEP, |s| placement(s, &wanted).1),
            "streams not in place: {:?}",
            placement(&mock.stats(), &wanted).0
        );
        let stats = mock.stats();
        assert_eq!(
            stream_conns(&stats).count(),
            2,
            "no connection was replaced"
        );
        assert_eq!(stats.ended(EndReason::TooManyMessages), 0);
        for conn in stream_conns(&stats) {
            assert_eq!(conn.ended, None, "connection {} ended", conn.id);
            assert!(
                conn.peak_messages_per_second <= 5,
                "connection {} sent {} messages in a second",
                conn.id,
                conn.peak_messages_per_second
            );
            assert!(conn.streams.len() <= 1024);
        }
        // The subscribes waiting for the budget went out coalesced: fewer
        // SUBSCRIBE messages than calls (2 initial + 30).
        println!("{} SUBSCRIBE messages", stats.subscribe_requests);
        assert!(
            stats.subscribe_requests < 32,
            "{} SUBSCRIBE messages",
            stats.subscribe_requests
        );
        pool.close().await.expect("close");
    })
    .await;
}

/// Checks ids of sequenced streams: trade `t` and aggTrade `a` by one,
/// depth by `U` = previous `u` + 1.
#[derive(Default)]
struct Ids {
    last: HashMap<String, u64>,
    seen: u64,
    lost: u64,
    duplicates: u64,
}

impl Ids {
    fn check(&mut self, channel: &str, data: &RawValue) {
        let seq = update_id(channel, data).expect("a sequenced stream");
        self.seen += 1;
        let Some(&last) = self.last.get(channel) else {
            self.last.insert(channel.to_owned(), seq.id);
            return;
        };
        let previous = seq.previous.expect("diff events link to the previous");
        if seq.id <= last {
            self.duplicates += 1;
            return;
        }
        self.lost += previous.saturating_sub(last);
        self.last.insert(channel.to_owned(), seq.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_before_each_lifetime_cut_lose_and_repeat_no_update() {
    bounded("rotations", async {
        let lifetime = Duration::from_millis(1200);
        let mock = MockBinance::start(MockConfig {
            lifetime,
            ..MockConfig::default()
        });
        let limits = ConnectionLimits {
            lifetime,
            ..Binance::spot().limits()
        }
        .pool_limits(Duration::from_millis(600));
        let (pool, mut events) = connect(&mock, limits, Duration::from_secs(1)).await;
        let sequenced = [
            "btcusdt@trade".to_owned(),
            "btcusdt@aggTrade".to_owned(),
            "btcusdt@depth@100ms".to_owned(),
            "ethusdt@trade".to_owned(),
        ];
        subscribe(&pool, &sequenced).await;
        let mut ids = Ids::default();
        let mut lagged = 0;
        let run = Duration::from_secs(20);
        let end = Instant::now() + run;
        while Instant::now() < end {
            let Ok(event) = timeout(end - Instant::now(), events.recv()).await else {
                break;
            };
            match event.expect("the pool goes on") {
                Event::Notification { channel, data } => {
                    let raw: &RawValue = serde_json::from_str(data.as_str()).expect("json");
                    ids.check(&channel, raw);
                }
                Event::Lagged { dropped } => lagged += dropped,
                _ => {}
            }
        }
        let stats = mock.stats();
        let rotations = stream_conns(&stats)
            .filter(|c| c.ended == Some(EndReason::ClientClosed))
            .count();
        let cuts = stream_conns(&stats)
            .filter(|c| c.ended == Some(EndReason::Lifetime))
            .count();
        println!(
            "{rotations} rotations in {run:?}: {} sequenced updates, {} lost, {} twice, {} overlap duplicates dropped by the pool",
            ids.seen,
            ids.lost,
            ids.duplicates,
            pool.duplicates_dropped()
        );
        assert_eq!(lagged, 0, "the consumer lagged: the count would be wrong");
        assert!(rotations >= 20, "only {rotations} rotations");
        assert_eq!(cuts, 0, "the mock cut a connection: a rotation came too late");
        assert_eq!(stats.ended(EndReason::TooManyMessages), 0);
        assert!(ids.seen > 1000, "too few updates: {}", ids.seen);
        assert_eq!(ids.lost, 0, "updates lost");
        assert_eq!(ids.duplicates, 0, "updates delivered twice");
        assert!(pool.duplicates_dropped() > 0, "the overlaps were never exercised");
        pool.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connections_streams_are_confirmed_elsewhere_within_the_backoff() {
    bounded("failover", async {
        let mock = MockBinance::start(MockConfig::default());
        let backoff_max = Duration::from_secs(1);
        let (pool, _events) = connect(&mock, Binance::spot().pool_limits(), backoff_max).await;
        let all = names(1500);
        subscribe(&pool, &all).await;
        let stats = mock.stats();
        let full = stream_conns(&stats)
            .find(|c| c.ended.is_none() && c.streams.len() == 1024)
            .map(|c| (c.id, c.streams.clone()))
            .expect("a full connection");
        let killed_at = Instant::now();
        mock.faults().kill(full.0);
        assert!(
            mock.wait_until(STEP, |s| {
                s.connections
                    .get(&full.0)
                    .is_some_and(|c| c.ended.is_some())
                    && placement(s, &all).1
            }),
            "the killed connection's streams did not all come back"
        );
        let back_after = killed_at.elapsed();
        println!("the killed connection's 1024 streams confirmed elsewhere after {back_after:?}");
        // Those that fit moved to the other connection at once; the rest
        // returned with the reconnect, after at most one backoff delay.
        assert!(
            back_after < backoff_max + Duration::from_secs(1),
            "back after {back_after:?}, the backoff is at most {backoff_max:?}"
        );
        let stats = mock.stats();
        let (counts, _) = placement(&stats, &all);
        assert!(counts.iter().all(|n| *n <= 1024), "{counts:?}");
        let live: Vec<&ConnInfo> = stream_conns(&stats).filter(|c| c.ended.is_none()).collect();
        assert!(
            full.1
                .iter()
                .all(|n| live.iter().any(|c| c.streams.contains(n)))
        );
        assert_eq!(stats.ended(EndReason::TooManyMessages), 0);
        // The killed connection's active streams deliver again.
        let moved: Vec<&str> = ["btcusdt@trade", "ethusdt@trade"]
            .into_iter()
            .filter(|n| full.1.contains(*n))
            .collect();
        assert!(
            !moved.is_empty(),
            "the killed connection carried the active streams"
        );
        let mut events = pool.events();
        notifications_of(&mut events, &moved).await;
        pool.close().await.expect("close");
    })
    .await;
}
