//! What the pool API tests of both drivers share: limits that force one
//! connection per stream, what the Deribit mock saw per connection, and a
//! one-purpose WebSocket server that records the close frame it gets.

#![allow(dead_code)] // each test file uses its part

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tungstenite::Message;
use wsnova_core::pool::PoolLimits;
use wsnova_core::session::{RateClass, RateLimitConfig, RateLimits};
use wsnova_tests::deribit::{ConnId, MockDeribit};

/// One stream per connection: a second channel opens a second connection.
pub fn one_per_connection() -> PoolLimits {
    PoolLimits {
        max_streams_per_connection: Some(1),
        ..PoolLimits::default()
    }
}

/// `public/auth` requests the mock received on `conn`.
pub fn auth_requests(mock: &MockDeribit, conn: ConnId) -> usize {
    let stats = mock.stats();
    let on =
        |r: &&wsnova_tests::deribit::RequestRecord| r.conn == conn && r.method == "public/auth";
    stats.requests.iter().filter(on).count()
}

/// When the mock received each `method` request, per connection.
pub fn request_times(mock: &MockDeribit, method: &str) -> BTreeMap<ConnId, Vec<Instant>> {
    let mut times: BTreeMap<ConnId, Vec<Instant>> = BTreeMap::new();
    for r in mock.stats().requests.iter().filter(|r| r.method == method) {
        times.entry(r.conn).or_default().push(r.at);
    }
    times
}

/// A bucket of `burst` credits (room for a subscribe), refilled with five
/// requests' `cost` a second: past the burst, requests on one connection
/// go one every 200 ms.
pub fn five_per_second(burst: u64, cost: u64) -> RateLimits {
    let limit = RateLimitConfig {
        capacity: burst,
        refill_amount: cost * 5,
        refill_interval: Duration::from_secs(1),
        queue_capacity: 64,
    };
    RateLimits::default().with(RateClass::DEFAULT, limit)
}

/// Polls `check` every 20 ms for up to 10 s (for states no event reports,
/// such as the mock's records or a status counter).
pub fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// A WebSocket server on an ephemeral port that answers nothing and
/// reports the code and reason of every close frame it receives.
pub struct CloseRecorder {
    pub url: String,
    pub closes: mpsc::Receiver<(u16, String)>,
}

impl CloseRecorder {
    pub fn start() -> CloseRecorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("ws://{}/", listener.local_addr().expect("addr"));
        let (tx, closes) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let Ok(mut ws) = tungstenite::accept(stream) else {
                        return;
                    };
                    while let Ok(message) = ws.read() {
                        if let Message::Close(frame) = message {
                            let (code, reason) = frame
                                .map(|f| (u16::from(f.code), f.reason.to_string()))
                                .unwrap_or((1005, String::new()));
                            let _ = tx.send((code, reason));
                        }
                    }
                });
            }
        });
        CloseRecorder { url, closes }
    }
}

/// Both connections served requests, and past the `burst` each
/// connection's requests came at least 150 ms apart on average (five a
/// second is 200 ms; with no limit they come within milliseconds).
pub fn assert_spaced(times: &BTreeMap<ConnId, Vec<Instant>>, burst: u64) {
    assert_eq!(times.len(), 2, "both connections served: {times:?}");
    for (conn, at) in times {
        let limited = at.len().saturating_sub(burst as usize) as u32;
        assert!(limited >= 2, "connection {conn} got {} requests", at.len());
        let span = at[at.len() - 1] - at[0];
        let least = Duration::from_millis(150) * limited;
        assert!(span >= least, "connection {conn}: {} in {span:?}", at.len());
    }
}

/// Messages the pool's connections have read, in all.
pub fn messages_in(status: &wsnova_core::pool::PoolStatus) -> u64 {
    let each = status
        .connections
        .iter()
        .map(|c| c.status.stats.messages_in);
    each.sum()
}
