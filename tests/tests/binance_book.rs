//! A local order book kept in sync with the mock Binance through injected
//! gaps (dropped and reordered depth events), for spot (`U`/`u`) and USD-M
//! futures (`pu`): the tokio driver streams `<symbol>@depth@100ms` on the
//! combined endpoint, the book asks for snapshots, a second connection gets
//! them from the WebSocket API's `depth`. At the end the market is paused
//! and the client's book must equal the mock's, level by level.
#![cfg(feature = "net")]

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_adapters::binance::api;
use wsnova_adapters::binance::{Binance, BookEvent, DepthUpdate, Market, OrderBook, Snapshot};
use wsnova_core::session::{Event, SessionConfig};
use wsnova_tests::binance::{MockBinance, MockConfig};
use wsnova_tokio::{Builder, Client, Connect as _, Events};

const STEP: Duration = Duration::from_secs(10);
const TEST: Duration = Duration::from_secs(60);
const STREAM: &str = "btcusdt@depth@100ms";

async fn connect(url: &str, adapter: Binance) -> (Client, Events) {
    let mut config = SessionConfig::new(url).expect("a valid url");
    config.request_timeout = Duration::from_secs(5);
    timeout(STEP, Builder::from_config(config).connect(adapter))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// The client side: the stream, the API connection and the book.
struct Keeper {
    events: Events,
    api: Client,
    book: OrderBook,
    gaps: u64,
    stale: u64,
    snapshots: u64,
}

impl Keeper {
    /// Handles the book's events, fetching snapshots while it asks.
    async fn handle(&mut self, mut events: Vec<BookEvent>) {
        while !events.is_empty() {
            let mut next = Vec::new();
            for event in events {
                match event {
                    BookEvent::NeedSnapshot => {
                        let request = api::depth("BTCUSDT", Some(5000));
                        let result = self
                            .api
                            .request_raw(&request.method, &request.params)
                            .await
                            .expect("a snapshot");
                        self.snapshots += 1;
                        next.extend(self.book.on_snapshot(
                            Snapshot::from_json(result.as_str()).expect("a depth result"),
                        ));
                    }
                    BookEvent::Gap { .. } => self.gaps += 1,
                    BookEvent::StaleSnapshot { .. } => self.stale += 1,
                    BookEvent::Synced { .. } => {}
                }
            }
            events = next;
        }
    }

    /// Feeds depth notifications until `done` holds for the keeper.
    async fn run_until(&mut self, what: &str, done: impl Fn(&Keeper) -> bool) {
        let deadline = tokio::time::Instant::now() + STEP;
        while !done(self) {
            let event = tokio::time::timeout_at(deadline, self.events.next())
                .await
                .unwrap_or_else(|_| panic!("not {what} within {STEP:?}"))
                .expect("events go on");
            if let Event::Notification { channel, data } = event {
                assert_eq!(channel, STREAM);
                let update = DepthUpdate::from_json(data.as_str()).expect("a depth event");
                let events = self.book.on_update(update);
                self.handle(events).await;
            }
        }
    }
}

async fn book_survives_gaps(config: MockConfig, market: Market) {
    let mock = MockBinance::start(config);
    let adapter = Binance::new(market);
    let (_streams, events) = connect(&mock.combined_url(&[STREAM]), adapter).await;
    let (api, _api_events) = connect(&mock.api_url(), adapter).await;
    let mut keeper = Keeper {
        events,
        api,
        book: OrderBook::new(market),
        gaps: 0,
        stale: 0,
        snapshots: 0,
    };
    keeper
        .run_until("in sync", |k| k.book.last_update_id().is_some())
        .await;
    assert_eq!(keeper.gaps, 0);

    // Three gaps: a dropped event, two dropped at once, an out-of-order pair.
    for (drop, reorder) in [(1, 0), (2, 0), (0, 1)] {
        let before = keeper.book.resyncs();
        mock.faults().drop_depth_events(drop);
        mock.faults().reorder_depth_events(reorder);
        keeper
            .run_until("resynchronised", |k| {
                k.book.resyncs() > before && k.book.last_update_id().is_some()
            })
            .await;
    }
    let stats = mock.stats();
    assert_eq!((stats.depth_dropped, stats.depth_reordered), (3, 1));
    assert_eq!(keeper.book.resyncs(), 3);
    assert_eq!(keeper.gaps, 3);
    assert!(
        keeper.snapshots >= 4,
        "one snapshot to start and one per gap"
    );

    // Let clean events through, stop the market, catch up, compare.
    let synced_at = keeper.book.last_update_id().unwrap();
    keeper
        .run_until("past the gaps", |k| {
            k.book
                .last_update_id()
                .is_some_and(|id| id > synced_at + 10)
        })
        .await;
    mock.faults().pause_market(true);
    let truth = mock.book("BTCUSDT").expect("the mock's book");
    keeper
        .run_until("caught up", |k| {
            k.book.last_update_id() == Some(truth.last_update_id)
        })
        .await;
    let bids: Vec<(String, String)> = keeper
        .book
        .bids()
        .map(|(p, q)| (p.to_string(), q.to_string()))
        .collect();
    let asks: Vec<(String, String)> = keeper
        .book
        .asks()
        .map(|(p, q)| (p.to_string(), q.to_string()))
        .collect();
    let norm = |levels: &[(String, String)]| -> Vec<(String, String)> {
        levels
            .iter()
            .map(|(p, q)| {
                (
                    p.parse::<wsnova_adapters::binance::Decimal>()
                        .unwrap()
                        .to_string(),
                    q.parse::<wsnova_adapters::binance::Decimal>()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    };
    assert!(!bids.is_empty() && !asks.is_empty());
    assert_eq!(bids, norm(&truth.bids));
    assert_eq!(asks, norm(&truth.asks));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spot_book_survives_gaps_and_matches_the_mock() {
    timeout(
        TEST,
        book_survives_gaps(MockConfig::default(), Market::Spot),
    )
    .await
    .expect("within the bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_book_survives_gaps_and_matches_the_mock() {
    timeout(TEST, book_survives_gaps(MockConfig::usdm(), Market::UsdM))
        .await
        .expect("within the bound");
}
