//! Binance through a wsnova-tokio `PoolClient`: many connections as one.
//!
//! ```text
//! cargo run --release -p wsnova-tests --example binance       # embedded mock Binance
//! cargo run --release -p wsnova-tests --example binance -- --url wss://stream.binance.com:9443/stream
//! ```
//!
//! Without `--url` it starts the mock Binance on loopback with a connection
//! lifetime of a few seconds (Binance's 24 h cut, shortened) and shows:
//! 1,500 streams spread over 2 connections within Binance's limits (1024
//! streams and 5 messages a second per connection: the mock would
//! disconnect), make-before-break rotations before every cut with the
//! sequenced trade streams checked id by id (0 lost, 0 delivered twice),
//! and a local order book (`btcusdt@depth@100ms` plus `ws-api` `depth`
//! snapshots) kept in sync through an injected gap. With `--url` it
//! connects to the given market-stream endpoint and prints what arrives.

use std::collections::HashMap;
use std::error::Error;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use tokio::sync::mpsc;
use wsnova_adapters::binance::{
    Binance, BookEvent, ConnectionLimits, DepthUpdate, Market, OrderBook, Snapshot, api, update_id,
};
use wsnova_core::pool::PoolLimits;
use wsnova_core::session::{Event, SessionConfig};
use wsnova_tests::binance::{EndReason, Endpoint, MockBinance, MockConfig, Stats};
use wsnova_tokio::{Builder, Connect as _, PoolClient};

/// Streams in the demo.
pub const STREAMS: usize = 1500;
/// Symbols whose market moves in the mock (the others' streams are quiet).
pub const ACTIVE: usize = 8;
/// The mock's connection lifetime (Binance: 24 h).
pub const LIFETIME: Duration = Duration::from_secs(4);
/// How long before the cut the pool opens the replacement.
pub const MARGIN: Duration = Duration::from_millis(1500);
/// The book's stream.
pub const DEPTH: &str = "btcusdt@depth@100ms";

/// What the mock run showed.
#[derive(Debug, Default)]
pub struct Report {
    /// Streams subscribed.
    pub streams: usize,
    /// Streams per live market-stream connection once subscribed.
    pub per_connection: Vec<usize>,
    /// Connections the pool closed after their replacement took over.
    pub rotations: usize,
    /// Connections the mock cut at the lifetime (a rotation came too late).
    pub lifetime_cuts: usize,
    /// Connections the mock cut for too many messages a second.
    pub limit_disconnects: usize,
    /// The most messages one connection sent within a second.
    pub peak_messages_per_second: usize,
    /// Trade and aggTrade updates received (sequenced by their ids).
    pub sequenced: u64,
    /// Sequenced updates counted before the first rotation.
    pub before_first_rotation: u64,
    /// Ids skipped in the sequenced streams.
    pub lost: u64,
    /// Ids received twice.
    pub duplicates: u64,
    /// Duplicates the pool dropped in the rotations' overlaps.
    pub dropped_by_pool: u64,
    /// Events the consumer lost for lagging.
    pub lagged: u64,
    /// Depth events the mock dropped (the injected gap).
    pub injected: u64,
    /// Gaps the book saw (each resynchronised from a fresh snapshot).
    pub book_gaps: u64,
    /// Snapshots fetched from `ws-api`.
    pub snapshots: u64,
    /// Whether the book was in sync at the end.
    pub book_synced: bool,
}

/// `BTCUSDT`, `ETHUSDT`, `S002USDT`, … (250 of them).
fn symbol(i: usize) -> String {
    match i {
        0 => "BTCUSDT".into(),
        1 => "ETHUSDT".into(),
        _ => format!("S{i:03}USDT"),
    }
}

/// 1,500 stream names: six per symbol; `btcusdt@depth@100ms` is the only
/// depth stream (so an injected depth fault hits the book's).
pub fn streams() -> Vec<String> {
    let kinds = [
        "trade",
        "aggTrade",
        "bookTicker",
        "kline_1m",
        "kline_5m",
        "miniTicker",
    ];
    let mut out = Vec::with_capacity(STREAMS);
    for i in 0..STREAMS / kinds.len() {
        let sym = symbol(i).to_ascii_lowercase();
        for kind in kinds {
            out.push(if i == 0 && kind == "miniTicker" {
                DEPTH.to_owned()
            } else {
                format!("{sym}@{kind}")
            });
        }
    }
    out
}

/// Checks sequenced ids per stream.
#[derive(Default)]
struct Ids {
    last: HashMap<String, u64>,
    seen: u64,
    lost: u64,
    duplicates: u64,
}

impl Ids {
    fn check(&mut self, channel: &str, data: &RawValue) {
        if !(channel.ends_with("@trade") || channel.ends_with("@aggTrade")) {
            return;
        }
        let Some(seq) = update_id(channel, data) else {
            return;
        };
        self.seen += 1;
        match self.last.get(channel) {
            Some(&last) if seq.id <= last => self.duplicates += 1,
            Some(&last) => {
                self.lost += seq.id - last - 1;
                self.last.insert(channel.to_owned(), seq.id);
            }
            None => {
                self.last.insert(channel.to_owned(), seq.id);
            }
        }
    }
}

fn stream_conns(stats: &Stats) -> impl Iterator<Item = &wsnova_tests::binance::ConnInfo> {
    stats
        .connections
        .values()
        .filter(|c| c.endpoint != Endpoint::Api)
}

/// Runs the demo against an embedded mock for `seconds` after subscribing;
/// prints as it goes when `print`.
pub async fn run_mock(seconds: u64, print: bool) -> Result<Report, Box<dyn Error>> {
    let say = |line: String| {
        if print {
            println!("{line}");
        }
    };
    let started = Instant::now();
    let mock = MockBinance::start(MockConfig {
        symbols: (0..ACTIVE).map(symbol).collect(),
        tick: Duration::from_millis(25),
        lifetime: LIFETIME,
        ..MockConfig::default()
    });
    say(format!(
        "wsnova × Binance — {} (embedded mock: connections cut after {LIFETIME:?})",
        mock.combined_url(&[])
    ));
    let adapter = Binance::spot();
    // Binance's limits, with the 24 h lifetime shortened to the mock's.
    let limits: PoolLimits = ConnectionLimits {
        lifetime: LIFETIME,
        ..adapter.limits()
    }
    .pool_limits(MARGIN);
    let mut config = SessionConfig::new(&mock.combined_url(&[]))?;
    config.request_timeout = Duration::from_secs(5);
    let (pool, mut events) = PoolClient::connect(config, adapter, limits).await?;
    let names = streams();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    pool.subscribe(&refs).await?;
    let stats = mock.stats();
    let mut per_connection: Vec<usize> = stream_conns(&stats)
        .filter(|c| c.ended.is_none())
        .map(|c| c.streams.len())
        .collect();
    per_connection.sort_unstable_by(|a, b| b.cmp(a));
    say(format!(
        "• {} streams confirmed after {:?}, over {} connections: {per_connection:?} (limit 1024 each)",
        names.len(),
        started.elapsed(),
        per_connection.len()
    ));

    // Snapshots come from the WebSocket API, on a connection of their own.
    let mut api_config = SessionConfig::new(&mock.api_url())?;
    api_config.request_timeout = Duration::from_secs(5);
    let (api_client, _api_events) = Builder::from_config(api_config).connect(adapter).await?;
    let (snap_tx, mut snap_rx) = mpsc::unbounded_channel::<Result<String, String>>();
    let mut book = OrderBook::new(Market::Spot);

    let mut report = Report {
        streams: names.len(),
        per_connection,
        ..Report::default()
    };
    let mut ids = Ids::default();
    let mut rotations_seen = 0;
    let mut injected_at: Option<Instant> = None;
    let t0 = Instant::now();
    let end = tokio::time::sleep(Duration::from_secs(seconds));
    tokio::pin!(end);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Notification { channel, data }) => {
                    let Ok(raw) = serde_json::from_str::<&RawValue>(data.as_str()) else { continue };
                    ids.check(&channel, raw);
                    if channel == DEPTH {
                        let update = DepthUpdate::from_json(data.as_str())?;
                        for e in book.on_update(update) {
                            on_book(e, &mut report, &say, &api_client, &snap_tx);
                        }
                    }
                }
                Some(Event::Lagged { dropped }) => report.lagged += dropped,
                Some(_) => {}
                None => break,
            },
            Some(snapshot) = snap_rx.recv() => {
                let snapshot = Snapshot::from_json(&snapshot?)?;
                report.snapshots += 1;
                for e in book.on_snapshot(snapshot) {
                    on_book(e, &mut report, &say, &api_client, &snap_tx);
                }
            }
            _ = tick.tick() => {
                let stats = mock.stats();
                let rotated = stream_conns(&stats).filter(|c| c.ended == Some(EndReason::ClientClosed)).count();
                if rotated > rotations_seen {
                    if rotations_seen == 0 {
                        report.before_first_rotation = ids.seen;
                    }
                    rotations_seen = rotated;
                    say(format!(
                        "↻ t={:>4.1}s rotations so far: {rotated}; trade/aggTrade updates {} (lost {}, twice {}), overlap duplicates dropped by the pool {}",
                        t0.elapsed().as_secs_f64(), ids.seen, ids.lost, ids.duplicates, pool.duplicates_dropped()
                    ));
                }
                // The gap: half-way, one depth event is dropped by the mock.
                // If it fell in a rotation's overlap the other connection
                // filled it; then another is dropped.
                let half = t0.elapsed() >= Duration::from_secs(seconds) / 2;
                let retry = injected_at.is_some_and(|at| at.elapsed() > Duration::from_secs(1));
                if half && report.book_gaps == 0 && (injected_at.is_none() || retry) && report.injected < 3 {
                    if retry {
                        say("  (no gap: the event fell in a rotation's overlap and the other connection delivered it)".into());
                    }
                    mock.faults().drop_depth_events(1);
                    report.injected += 1;
                    injected_at = Some(Instant::now());
                    say(format!("✂ t={:>4.1}s the mock drops one {DEPTH} event", t0.elapsed().as_secs_f64()));
                }
            }
            _ = &mut end => break,
        }
    }
    let stats = mock.stats();
    report.rotations = stream_conns(&stats)
        .filter(|c| c.ended == Some(EndReason::ClientClosed))
        .count();
    report.lifetime_cuts = stream_conns(&stats)
        .filter(|c| c.ended == Some(EndReason::Lifetime))
        .count();
    report.limit_disconnects = stats.ended(EndReason::TooManyMessages);
    report.peak_messages_per_second = stream_conns(&stats)
        .map(|c| c.peak_messages_per_second)
        .max()
        .unwrap_or(0);
    report.injected = stats.depth_dropped;
    report.sequenced = ids.seen;
    report.lost = ids.lost;
    report.duplicates = ids.duplicates;
    report.dropped_by_pool = pool.duplicates_dropped();
    report.book_synced = book.last_update_id().is_some();
    pool.close().await?;
    say(format!(
        "• {} rotations, none cut by the server ({} lifetime cuts, {} limit disconnects, peak {} messages/s per connection)",
        report.rotations,
        report.lifetime_cuts,
        report.limit_disconnects,
        report.peak_messages_per_second
    ));
    say(format!(
        "• sequenced updates: {} before the first rotation, {} after; lost {}, delivered twice {} ({} overlap duplicates dropped by the pool)",
        report.before_first_rotation,
        report.sequenced - report.before_first_rotation,
        report.lost,
        report.duplicates,
        report.dropped_by_pool
    ));
    say(format!(
        "• book: {} gap(s), {} snapshot(s), in sync at the end: {} (best bid {:?}, best ask {:?})",
        report.book_gaps,
        report.snapshots,
        report.book_synced,
        book.best_bid().map(|(p, q)| format!("{p} × {q}")),
        book.best_ask().map(|(p, q)| format!("{p} × {q}")),
    ));
    say(format!("• done in {:?}", started.elapsed()));
    Ok(report)
}

/// Reacts to the book: a snapshot is fetched in the background (the
/// stream keeps being read meanwhile).
fn on_book(
    event: BookEvent,
    report: &mut Report,
    say: &impl Fn(String),
    api_client: &wsnova_tokio::Client,
    snapshots: &mpsc::UnboundedSender<Result<String, String>>,
) {
    match event {
        BookEvent::NeedSnapshot => {
            let (client, tx) = (api_client.clone(), snapshots.clone());
            tokio::spawn(async move {
                let request = api::depth("BTCUSDT", Some(5000));
                let result = client.request_raw(&request.method, &request.params).await;
                let _ = tx.send(
                    result
                        .map(|r| r.as_str().to_owned())
                        .map_err(|e| e.to_string()),
                );
            });
        }
        BookEvent::Gap { expected, got } => {
            report.book_gaps += 1;
            say(format!(
                "⚠ book gap: expected update {expected}, got {got}: resynchronising from a fresh ws-api snapshot"
            ));
        }
        BookEvent::StaleSnapshot { .. } => {}
        BookEvent::Synced { last_update_id } => {
            say(format!("✓ book in sync at update {last_update_id}"));
        }
    }
}

/// Connects to a real market-stream endpoint and prints what arrives.
async fn run_live(url: &str, seconds: u64) -> Result<(), Box<dyn Error>> {
    let adapter = if url.contains("fstream") {
        Binance::usdm()
    } else {
        Binance::spot()
    };
    println!("wsnova × Binance — {url}");
    let config = SessionConfig::new(url)?;
    let bound = Duration::from_secs(15);
    let connect = PoolClient::connect(config, adapter, adapter.pool_limits());
    let (pool, mut events) = tokio::time::timeout(bound, connect)
        .await
        .map_err(|_| format!("not connected to {url} within {bound:?}"))??;
    let live = ["btcusdt@trade", "btcusdt@depth@100ms", "ethusdt@bookTicker"];
    tokio::time::timeout(bound, pool.subscribe(&live))
        .await
        .map_err(|_| format!("not subscribed within {bound:?}"))??;
    println!("• subscribed {live:?}");
    let mut counts: HashMap<String, u64> = HashMap::new();
    let end = tokio::time::sleep(Duration::from_secs(seconds));
    tokio::pin!(end);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Notification { channel, data }) => {
                    let n = counts.entry(channel.clone()).or_default();
                    *n += 1;
                    if *n <= 2 {
                        let text = data.as_str();
                        println!("{channel}: {}", &text[..text.len().min(160)]);
                    }
                }
                Some(other) => println!("{other:?}"),
                None => break,
            },
            _ = &mut end => break,
        }
    }
    println!("• updates per stream: {counts:?}");
    pool.close().await?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut seconds) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next(),
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()),
            other => {
                return Err(
                    format!("unknown argument {other} (use --url URL, --seconds N)").into(),
                );
            }
        }
    }
    match url {
        Some(url) => run_live(&url, seconds.unwrap_or(10)).await,
        None => run_mock(seconds.unwrap_or(10), true).await.map(|_| ()),
    }
}
