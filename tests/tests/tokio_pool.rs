//! The tokio driver runs a pool: against the Deribit mock, channels are
//! spread over connections within the declared limit, notifications of all
//! of them arrive in one event stream, requests are answered, a dropped
//! connection's channels come back, and close ends every connection.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use tokio::time::timeout;
use wsnova_core::pool::PoolLimits;
use wsnova_core::session::{Event, SessionConfig};
use wsnova_tests::deribit::{MockConfig, MockDeribit};
use wsnova_tokio::{Events, PoolClient, adapters::Deribit};

const CHANNELS: [&str; 3] = [
    "ticker.BTC-PERPETUAL.100ms",
    "ticker.ETH-PERPETUAL.100ms",
    "book.BTC-PERPETUAL.100ms",
];

/// Notifications of every channel in `CHANNELS`, within `limit`.
async fn all_channels_notify(events: &mut Events, limit: Duration) -> bool {
    let mut seen = BTreeSet::new();
    let wait = async {
        while let Some(event) = events.recv().await {
            if let Event::Notification { channel, .. } = event {
                seen.insert(channel);
                if seen.len() == CHANNELS.len() {
                    return;
                }
            }
        }
    };
    timeout(limit, wait).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokio_pool_spreads_channels_answers_requests_recovers_and_closes() {
    let test = async {
        let mock = MockDeribit::start(MockConfig::default());
        let mut config = SessionConfig::new(&mock.url()).unwrap();
        config.request_timeout = Duration::from_secs(5);
        let limits = PoolLimits {
            max_streams_per_connection: Some(2),
            ..PoolLimits::default()
        };
        let (pool, mut events) = PoolClient::connect(config, Deribit::new(), limits)
            .await
            .expect("connect");
        pool.subscribe(&CHANNELS).await.expect("subscribe");
        let live = mock.live_connections();
        assert_eq!(live.len(), 2, "3 channels at 2 per connection");
        for conn in &live {
            assert!(mock.subscriptions(*conn).len() <= 2);
        }
        let total: usize = live.iter().map(|c| mock.subscriptions(*c).len()).sum();
        assert_eq!(total, 3, "each channel on exactly one connection");
        assert!(all_channels_notify(&mut events, Duration::from_secs(5)).await);

        let time = pool
            .request("public/get_time", &json!({}))
            .await
            .expect("a response");
        assert!(time.as_str().parse::<u64>().is_ok(), "{}", time.as_str());

        // The mock drops one connection: its channels return (moved or reconnected).
        assert_eq!(mock.faults().conn(live[0]).drop_now(), 1);
        let dropped = live[0];
        // Either connection is full or nearly: whichever was dropped, a
        // reconnect (after the backoff) carries what did not fit elsewhere.
        let back = mock.wait_until(Duration::from_secs(5), |stats| {
            let live = stats.live_connections();
            let subs: usize = live.iter().map(|c| stats.subscriptions(*c).len()).sum();
            !live.contains(&dropped) && live.len() == 2 && subs == 3
        });
        assert_eq!(mock.connections_accepted(), 3, "one reconnect");
        assert!(back, "the dropped connection's channels did not come back");
        let mut events = pool.events();
        assert!(all_channels_notify(&mut events, Duration::from_secs(5)).await);

        pool.close().await.expect("close");
        assert!(
            mock.wait_until(Duration::from_secs(5), |s| s.live_connections().is_empty()),
            "every connection closed"
        );
        // The stream ends with the pool's one Closed.
        let mut last = None;
        while let Ok(Some(event)) = timeout(Duration::from_secs(5), events.recv()).await {
            last = Some(event);
        }
        assert!(matches!(last, Some(Event::Closed { .. })), "{last:?}");
    };
    timeout(Duration::from_secs(30), test)
        .await
        .expect("the test took too long");
}
