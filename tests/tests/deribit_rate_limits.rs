//! Deribit's rate limits end to end (tokio driver, Deribit adapter, the
//! mock exchange): the matching engine's tiered bucket beside the credits,
//! with limits on by default; 10028 ends the session as Deribit documents
//! (reconnect after a pause, replay, send the request again there); a
//! 13009 without credentials is final, not a hang.
#![cfg(feature = "net")]

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::join_all;
use serde_json::json;
use tokio::time::timeout;
use wsnova_adapters::deribit::calls::{Buy, Call};
use wsnova_adapters::deribit::{Deribit, OrderParams, Tier};
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Credentials, DisconnectReason, Event, RequestError,
    SessionConfig,
};
use wsnova_tests::deribit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EndReason, MockConfig, MockDeribit,
};
use wsnova_tokio::{Builder, Client, Connect as _, Events};

/// Bound of every single wait.
const STEP: Duration = Duration::from_secs(10);
/// Bound of a whole test.
const TEST: Duration = Duration::from_secs(40);
const INSTRUMENT: &str = "BTC-PERPETUAL";

async fn bounded<T>(what: &str, body: impl Future<Output = T>) -> T {
    timeout(TEST, body)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {TEST:?}"))
}

/// Deribit's defaults for rate limits (nothing set here), fast reconnects.
fn config(url: &str, credentials: bool) -> SessionConfig {
    let mut config = SessionConfig::new(url).expect("a valid url");
    if credentials {
        config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    }
    config.request_timeout = Duration::from_secs(20);
    config.connect_timeout = Duration::from_secs(2);
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    };
    config
}

async fn connect(url: &str, adapter: Deribit, credentials: bool) -> (Client, Events) {
    let config = config(url, credentials);
    timeout(STEP, Builder::from_config(config).connect(adapter))
        .await
        .expect("connect in time")
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_at_the_tiers_rate_plus_burst_are_never_refused_beside_full_speed_market_data() {
    bounded("orders beside market data", async {
        // Tier 4 on both sides: bursts of 20, 5 per second. The client's
        // limits are Deribit's defaults: nothing is configured.
        let mock = MockDeribit::start(MockConfig::default());
        let (client, events) = connect(&mock.url(), Deribit::new(), true).await;
        drop(events);

        // Market data as fast as the application can ask: 200 calls at
        // once, twice the credit burst (the rest paced at 20 per second).
        let market_client = client.clone();
        let market = tokio::spawn(async move {
            let calls = (0..200).map(|_| market_client.request_raw("public/get_time", "{}"));
            join_all(calls).await
        });
        tokio::time::sleep(Duration::from_millis(20)).await;

        // Orders: the tier's burst at once, then its sustained rate for 2 s.
        let (tier_rate, burst) = Tier::Tier4.rates();
        let order = Buy(OrderParams::limit(INSTRUMENT, 10.0, 1_000.0));
        let place = |client: Client, order: Buy| async move {
            let sent = Instant::now();
            let outcome = client.request(Buy::METHOD, &order).await;
            (sent.elapsed(), outcome)
        };
        let mut placed = Vec::new();
        for _ in 0..burst {
            placed.push(tokio::spawn(place(client.clone(), order.clone())));
        }
        let mut pace = tokio::time::interval(Duration::from_secs(1) / tier_rate as u32);
        pace.tick().await; // the first tick is immediate
        for _ in 0..2 * tier_rate {
            pace.tick().await;
            placed.push(tokio::spawn(place(client.clone(), order.clone())));
        }
        let mut slowest = Duration::ZERO;
        for handle in placed {
            let (latency, outcome) = handle.await.expect("joined");
            let result = outcome.expect("every order is accepted");
            assert!(Buy::parse(&result).is_ok(), "{}", result.as_str());
            slowest = slowest.max(latency);
        }
        // The market-data backlog takes seconds to drain; orders never wait
        // behind it (only for their own bucket, never longer than one step
        // of the sustained rate plus scheduling).
        assert!(
            slowest < Duration::from_millis(800),
            "an order waited {slowest:?}"
        );
        let market = timeout(STEP, market)
            .await
            .expect("market in time")
            .expect("joined");
        assert!(
            market.iter().all(|r| r.is_ok()),
            "every market-data call answered"
        );

        let stats = mock.stats();
        assert_eq!(stats.rate_limited, 0, "no 10028 at all");
        assert_eq!(stats.request_count(Buy::METHOD), burst + 2 * tier_rate);
        assert_eq!(stats.connections.len(), 1, "never terminated");

        // The account reports the tier the client assumed by default.
        let summary = client
            .request("private/get_account_summary", &json!({"currency": "BTC"}))
            .await
            .expect("a summary");
        let summary: serde_json::Value = serde_json::from_str(summary.as_str()).unwrap();
        let reported = &summary["limits"]["matching_engine"]["trading"]["total"];
        assert_eq!(
            (reported["rate"].as_u64(), reported["burst"].as_u64()),
            (Some(tier_rate), Some(burst))
        );
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_ends_the_session_then_reconnect_replays_and_sends_again() {
    bounded("10028", async {
        const PAUSE: Duration = Duration::from_millis(200);
        const CHANNEL: &str = "ticker.BTC-PERPETUAL.100ms";
        let mock = MockDeribit::start(MockConfig::default());
        let adapter = Deribit::new().with_rate_limit_delay(PAUSE);
        let (client, mut events) = connect(&mock.url(), adapter, true).await;
        client.subscribe(&[CHANNEL]).await.expect("subscribed");
        let first = mock.last_connection().expect("a connection");

        // Out of credits on the server: 10028, and Deribit ends the session.
        assert_eq!(mock.faults().live().fail_next(1, 10028), 1);
        let time = timeout(STEP, client.request("public/get_time", &json!({})))
            .await
            .expect("an outcome in time")
            .expect("sent again on the new connection");
        assert!(time.parse::<u64>().is_ok(), "{}", time.as_str());

        let stats = mock.stats();
        assert_eq!(stats.end_reason(first), Some(EndReason::RateLimited));
        let tries: Vec<_> = stats
            .requests
            .iter()
            .filter(|r| r.method == "public/get_time")
            .map(|r| r.conn)
            .collect();
        assert_eq!(tries.len(), 2, "refused once, sent once more");
        assert_eq!(tries[0], first);
        assert_ne!(tries[1], first, "never again on the terminated session");
        let second = tries[1];
        assert!(
            stats.connections[&second].subscriptions.contains(CHANNEL),
            "subscriptions replayed on the new connection"
        );
        assert_eq!(
            stats.connections[&second].account.as_deref(),
            Some(DEFAULT_CLIENT_ID)
        );

        // The client saw why, and paused before reconnecting.
        let deadline = tokio::time::Instant::now() + STEP;
        let mut saw = None;
        while saw.is_none() {
            match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(Some(Event::Disconnected {
                    reason: DisconnectReason::SessionEnded(error),
                    reconnect_in,
                    ..
                })) => saw = Some((error.code, reconnect_in)),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let (code, reconnect_in) = saw.expect("a Disconnected for the ended session");
        assert_eq!(code, 10028);
        assert!(reconnect_in.is_some_and(|d| d >= PAUSE), "{reconnect_in:?}");
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_without_credentials_is_final_not_a_hang() {
    bounded("13009 without credentials", async {
        let mock = MockDeribit::start(MockConfig::default());
        let (client, events) = connect(&mock.url(), Deribit::new(), false).await;
        drop(events);
        let started = Instant::now();
        let outcome = client
            .request("private/get_positions", &json!({"currency": "BTC"}))
            .await;
        match outcome {
            Err(RequestError::Rejected(e)) => {
                assert_eq!((e.code, e.message.as_str()), (13009, "unauthorized"))
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2), "not a timeout");
        client.close().await.unwrap();
    })
    .await;
}
