//! The mio driver runs a pool on one `EventLoop`: against the Deribit mock,
//! channels are spread over connections within the declared limit,
//! notifications of all of them arrive in one event stream, requests are
//! answered, a dropped connection's channels come back, and close ends
//! every connection.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;
use wsnova_core::pool::PoolLimits;
use wsnova_core::session::{Event, SessionConfig};
use wsnova_mio::{EventLoop, Events, adapters::Deribit};
use wsnova_tests::deribit::{MockConfig, MockDeribit};

const CHANNELS: [&str; 3] = [
    "ticker.BTC-PERPETUAL.100ms",
    "ticker.ETH-PERPETUAL.100ms",
    "book.BTC-PERPETUAL.100ms",
];

/// Notifications of every channel in `CHANNELS`, within `limit`.
fn all_channels_notify(events: &Events, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut seen = BTreeSet::new();
    while seen.len() < CHANNELS.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::Notification { channel, .. }) => {
                seen.insert(channel);
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    true
}

#[test]
fn a_mio_pool_spreads_channels_answers_requests_recovers_and_closes() {
    let mock = MockDeribit::start(MockConfig::default());
    let event_loop = EventLoop::new().expect("event loop");
    let mut config = SessionConfig::new(&mock.url()).unwrap();
    config.request_timeout = Duration::from_secs(5);
    let limits = PoolLimits {
        max_streams_per_connection: Some(2),
        ..PoolLimits::default()
    };
    let (pool, events) = event_loop
        .connect_pool(config, Deribit::new(), limits)
        .expect("connect");
    // The stream begins with the first connection's Connected and Ready.
    let first = events.recv_timeout(Duration::from_secs(5)).expect("an event");
    assert!(matches!(first, Event::Connected { .. }), "{first:?}");

    pool.subscribe_timeout(&CHANNELS, Duration::from_secs(10))
        .expect("subscribe");
    let live = mock.live_connections();
    assert_eq!(live.len(), 2, "3 channels at 2 per connection");
    assert_eq!(pool.connections().len(), 2);
    for conn in &live {
        assert!(mock.subscriptions(*conn).len() <= 2);
    }
    let total: usize = live.iter().map(|c| mock.subscriptions(*c).len()).sum();
    assert_eq!(total, 3, "each channel on exactly one connection");
    assert!(all_channels_notify(&events, Duration::from_secs(5)));

    let time = pool
        .request_timeout("public/get_time", &json!({}), Duration::from_secs(10))
        .expect("a response");
    assert!(time.as_str().parse::<u64>().is_ok(), "{}", time.as_str());

    // The mock drops one connection: its channels return (moved or reconnected).
    assert_eq!(mock.faults().conn(live[0]).drop_now(), 1);
    let dropped = live[0];
    let back = mock.wait_until(Duration::from_secs(5), |stats| {
        let live = stats.live_connections();
        let subs: usize = live.iter().map(|c| stats.subscriptions(*c).len()).sum();
        !live.contains(&dropped) && live.len() == 2 && subs == 3
    });
    assert!(back, "the dropped connection's channels did not come back");
    assert_eq!(mock.connections_accepted(), 3, "one reconnect");
    let later = pool.events();
    assert!(all_channels_notify(&later, Duration::from_secs(5)));

    pool.close().expect("close");
    assert!(
        mock.wait_until(Duration::from_secs(5), |s| s.live_connections().is_empty()),
        "every connection closed"
    );
    assert!(pool.connections().is_empty(), "the pool left the loop");
    // The stream ends with the pool's one Closed.
    let mut last = None;
    while let Ok(event) = later.recv_timeout(Duration::from_secs(5)) {
        last = Some(event);
    }
    assert!(matches!(last, Some(Event::Closed { .. })), "{last:?}");
    // Calls on a closed pool fail instead of blocking.
    assert!(pool.request("public/get_time", &json!({})).is_err());
}
