//! Record and replay (`wsnova_core::record`): a session recorded against
//! the mock exchange over a real socket replays with no divergence, with
//! dummy credentials, and its recording holds no secret; a changed adapter
//! setting or seed makes the replay report where it first differs.
#![cfg(feature = "net")]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wsnova_adapters::deribit::Deribit;
use wsnova_core::record::{RecordingSession, header, replay};
use wsnova_core::session::{CloseReason, Credentials, Event, Input, Output, SessionConfig};
use wsnova_core::wire::CloseCode;
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};

const TICKER: &str = "ticker.BTC-PERPETUAL.100ms";
/// Bound of the recorded run.
const RUN: Duration = Duration::from_secs(20);

fn config(url: &str, secret: &str) -> SessionConfig {
    let mut config = SessionConfig::new(url).expect("a valid url");
    config.seed = 42;
    config.fail_before_first_ready = true;
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, secret));
    config
}

/// Runs a recorded session against `url` over a blocking socket: once
/// ready, a request and a subscription; after three notifications, a
/// close. Returns the recording.
fn record(url: &str) -> String {
    let clock = Instant::now;
    let start = clock();
    let config = config(url, DEFAULT_CLIENT_SECRET);
    let mut session = RecordingSession::new(config, Deribit::new(), start, Vec::new());
    let unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    session.set_unix_time(start, unix.as_millis() as u64);
    session.connect(start).expect("connect");
    let mut socket: Option<(u64, TcpStream)> = None;
    let (mut notifications, mut buf) = (0, [0u8; 16 * 1024]);
    loop {
        assert!(
            clock() - start < RUN,
            "the recorded run took longer than {RUN:?}"
        );
        while let Some(output) = session.poll_output() {
            match output {
                Output::Dial {
                    generation,
                    host,
                    port,
                } => {
                    let stream = TcpStream::connect((host.as_str(), port)).expect("dial the mock");
                    socket = Some((generation, stream));
                    session.handle_input(clock(), Input::Connected { generation });
                }
                Output::CloseTransport { .. } => socket = None,
                Output::Event(Event::Ready) => {
                    session
                        .request(clock(), "public/get_time", "{}")
                        .expect("request");
                    session.subscribe(clock(), &[TICKER]).expect("subscribe");
                }
                Output::Event(Event::Notification { .. }) => {
                    notifications += 1;
                    if notifications == 3 {
                        session
                            .close(clock(), CloseCode::NORMAL, "done")
                            .expect("close");
                    }
                }
                Output::Event(Event::Closed { reason }) => {
                    assert_eq!(reason, CloseReason::User);
                    return String::from_utf8(session.finish().expect("recorded")).unwrap();
                }
                _ => {}
            }
        }
        let Some((generation, stream)) = socket.as_mut() else {
            panic!("no socket and not closed");
        };
        let generation = *generation;
        let pending = session.pending_transmit().to_vec();
        stream.write_all(&pending).expect("write");
        session.advance_transmit(pending.len());
        let wait = session
            .poll_timeout()
            .map(|at| at.saturating_duration_since(clock()));
        let wait = wait.unwrap_or(RUN).clamp(Duration::from_millis(1), RUN);
        stream.set_read_timeout(Some(wait)).unwrap();
        match stream.read(&mut buf) {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Ok(0) | Err(_) => session.handle_input(clock(), Input::Closed { generation }),
            Ok(n) => {
                session.handle_input(
                    clock(),
                    Input::Bytes {
                        generation,
                        data: &buf[..n],
                    },
                );
            }
        }
        session.handle_timeout(clock());
    }
}

#[test]
fn a_recording_against_the_mock_replays_with_no_divergence_and_no_secret() {
    let mock = MockDeribit::start(MockConfig::default());
    let recording = record(&mock.url());
    assert!(
        !recording.contains(DEFAULT_CLIENT_SECRET),
        "the secret leaked"
    );
    assert!(recording.contains("\"op\":\"authenticate\"") || recording.contains("public/auth"));
    assert!(
        recording.contains("access_token\\\":\\\"<redacted>"),
        "{recording}"
    );
    assert_eq!(header(&recording).unwrap().seed, 42);
    // Dummy credentials do: the auth request is compared redacted.
    let report = replay(&recording, config(&mock.url(), "dummy"), Deribit::new())
        .unwrap_or_else(|d| panic!("diverged: {d}"));
    assert!(report.compared > 10, "{report:?}");
}

#[test]
fn a_changed_adapter_setting_or_seed_is_reported_as_a_divergence() {
    let mock = MockDeribit::start(MockConfig::default());
    let recording = record(&mock.url());

    let heartbeat = Deribit::new().with_heartbeat(Duration::from_secs(10));
    let divergence = replay(&recording, config(&mock.url(), "dummy"), heartbeat)
        .expect_err("a heartbeat the recording never set up");
    let both = format!("{} {}", divergence.expected, divergence.got);
    assert!(both.contains("set_heartbeat"), "{divergence}");

    let mut reseeded = config(&mock.url(), "dummy");
    reseeded.seed = 43;
    let divergence = replay(&recording, reseeded, Deribit::new()).expect_err("another key");
    assert!(divergence.got.contains("Sec-WebSocket-Key"), "{divergence}");
}
