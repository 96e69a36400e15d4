//! The mio driver runs a pool on one `EventLoop`: against the Deribit mock,
//! channels are spread over connections within the declared limit,
//! notifications of all of them arrive in one event stream, requests are
//! answered, a dropped connection's channels come back, and close ends
//! every connection. Over TLS, `localhost` is resolved on the loop's
//! resolver, the pool shares the loop with a single connection, and
//! dropping the loop ends it; an untrusted certificate fails `connect_pool`.

use std::collections::BTreeSet;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use serde_json::json;
use wsnova_core::pool::PoolLimits;
use wsnova_core::session::{CloseReason, DisconnectReason, Event, Plain, SessionConfig};
use wsnova_core::wire::{Message, WireError};
use wsnova_mio::{Builder, ConnectError, ConnectOn as _, EventLoop, Events, adapters::Deribit};
use wsnova_tests::deribit::{MockConfig, MockDeribit};
use wsnova_tests::{EchoServer, TestPki};

const CHANNELS: [&str; 3] = [
    "ticker.BTC-PERPETUAL.100ms",
    "ticker.ETH-PERPETUAL.100ms",
    "book.BTC-PERPETUAL.100ms",
];

/// Runs `test` on its own thread and fails if it takes longer than `limit`
/// (a blocking call that never returns must not hang the suite).
fn bounded(limit: Duration, test: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        test();
        let _ = tx.send(());
    });
    match rx.recv_timeout(limit) {
        Ok(()) => thread.join().expect("the test thread"),
        Err(RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(thread.join().expect_err("it panicked"))
        }
        Err(RecvTimeoutError::Timeout) => panic!("the test took longer than {limit:?}"),
    }
}

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
    bounded(Duration::from_secs(30), || {
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
        let first = events
            .recv_timeout(Duration::from_secs(5))
            .expect("an event");
        assert!(matches!(first, Event::Connected), "{first:?}");

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
    });
}

#[test]
fn a_mio_pool_rotates_its_connections_and_keeps_every_channel() {
    bounded(Duration::from_secs(30), || {
        let mock = MockDeribit::start(MockConfig::default());
        let event_loop = EventLoop::new().expect("event loop");
        let config = SessionConfig::new(&mock.url()).unwrap();
        // Each connection is replaced 0.7 s after it came up.
        let limits = PoolLimits {
            max_streams_per_connection: Some(2),
            connection_lifetime: Some(Duration::from_millis(1000)),
            rotation_margin: Duration::from_millis(300),
            ..PoolLimits::default()
        };
        let (pool, events) = event_loop
            .connect_pool(config, Deribit::new(), limits)
            .expect("connect");
        pool.subscribe_timeout(&CHANNELS, Duration::from_secs(10))
            .expect("subscribe");
        // Two generations of replacements for both connections.
        let rotated = mock.wait_until(Duration::from_secs(10), |s| s.connections_accepted >= 6);
        assert!(rotated, "accepted {}", mock.connections_accepted());
        // Old connections are closed once replaced: never more than two
        // connections' worth of channels, each channel on one live connection.
        let settled = mock.wait_until(Duration::from_secs(5), |stats| {
            let live = stats.live_connections();
            let subs: usize = live.iter().map(|c| stats.subscriptions(*c).len()).sum();
            live.len() == 2 && subs == 3
        });
        assert!(settled, "live {:?}", mock.live_connections());
        assert!(pool.connections().len() <= 4, "{:?}", pool.connections());
        let later = pool.events();
        assert!(all_channels_notify(&later, Duration::from_secs(5)));
        // Rotations are the pool's business: the application saw no loss.
        let mut seen = Vec::new();
        while let Ok(event) = events.try_recv() {
            seen.push(event);
        }
        assert!(
            !seen
                .iter()
                .any(|e| matches!(e, Event::Disconnected { .. } | Event::Closed { .. })),
            "{:?}",
            seen.iter()
                .filter(|e| !matches!(e, Event::Notification { .. }))
                .collect::<Vec<_>>()
        );
        pool.close().expect("close");
        assert!(mock.wait_until(Duration::from_secs(5), |s| s.live_connections().is_empty()));
    });
}

/// Every event until the stream ends, failing if it does not end in time.
fn until_end(events: &Events) -> Vec<Event> {
    let mut all = Vec::new();
    loop {
        match events.recv_timeout(Duration::from_secs(10)) {
            Ok(event) => all.push(event),
            Err(RecvTimeoutError::Disconnected) => return all,
            Err(e) => panic!("the event stream did not end: {e:?} after {all:?}"),
        }
    }
}

#[test]
fn a_mio_pool_over_tls_resolves_localhost_and_shares_the_loop_with_a_connection() {
    bounded(Duration::from_secs(30), || {
        let pki = TestPki::new(&["localhost"]);
        let tls = EchoServer::start_tls(pki.server_config());
        let plain = EchoServer::start();
        let event_loop = EventLoop::new().expect("event loop");
        // A single connection on the same loop, before and after the pool.
        let (handle, single) = Builder::new(&format!("ws://{}/", plain.addr()))
            .unwrap()
            .connect(&event_loop, Plain)
            .expect("single connection");
        // `localhost` goes through the loop's resolver; TLS with the test CA.
        let config = Builder::new(&format!("wss://localhost:{}/", tls.addr().port()))
            .unwrap()
            .root_certificates(pki.root_store())
            .session_config();
        let (pool, events) = event_loop
            .connect_pool(config, Plain, PoolLimits::default())
            .expect("a pool over TLS");
        let start: Vec<Event> = (0..2)
            .map(|_| events.recv_timeout(Duration::from_secs(5)).expect("event"))
            .collect();
        assert!(
            matches!(start.as_slice(), [Event::Connected, Event::Ready]),
            "{start:?}"
        );
        assert_eq!(pool.connections().len(), 1);
        assert_eq!(tls.connections_accepted(), 1);

        handle.send_text("beside a pool").unwrap();
        let echoed = loop {
            match single.recv_timeout(Duration::from_secs(5)).expect("echo") {
                Event::Message(m) => break m,
                _ => continue,
            }
        };
        assert_eq!(echoed, Message::text("beside a pool"));

        // Dropping the loop closes both: the pool's stream ends with its Closed.
        drop(event_loop);
        let rest = until_end(&events);
        assert!(
            matches!(rest.last(), Some(Event::Closed { .. })),
            "{rest:?}"
        );
        assert!(pool.connections().is_empty());
        assert!(pool.request("anything", &json!({})).is_err());
        assert!(pool.close().is_ok(), "closing a closed pool is fine");
    });
}

#[test]
fn a_mio_pool_with_an_untrusted_certificate_fails_to_connect() {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let tls = EchoServer::start_tls(server_pki.server_config());
    let config = Builder::new(&format!("wss://localhost:{}/", tls.addr().port()))
        .unwrap()
        .root_certificates(other_ca.root_store())
        .session_config();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let event_loop = EventLoop::new().expect("event loop");
        let result = event_loop.connect_pool(config, Plain, PoolLimits::default());
        let _ = tx.send(result.map(|_| ()));
    });
    let result = rx
        .recv_timeout(Duration::from_secs(15))
        .expect("connect_pool did not return");
    // The certificate error stops the pool's only connection for good
    // (no retry could help), which ends the pool with that reason.
    let unknown_issuer = DisconnectReason::Wire(WireError::Certificate(
        rustls::CertificateError::UnknownIssuer,
    ));
    match result {
        Err(ConnectError::Closed(CloseReason::Stopped(reason))) => {
            assert_eq!(reason, unknown_issuer)
        }
        other => panic!("expected the certificate error, got {other:?}"),
    }
    assert_eq!(tls.connections_accepted(), 1, "no retry");
}
