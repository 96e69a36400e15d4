//! `Builder::record` and `Builder::record_to` on both drivers: a tokio
//! application and a mio application each record their session against the
//! Deribit mock; the recording replays through the core's replayer with no
//! divergence (dummy credentials), and holds no secret.
#![cfg(feature = "net")]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use wsnova_adapters::deribit::Deribit;
use wsnova_core::record::{header, replay};
use wsnova_core::session::{CloseReason, Credentials, Event, SessionConfig};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};

const TICKER: &str = "ticker.BTC-PERPETUAL.100ms";
/// Bound of every wait.
const STEP: Duration = Duration::from_secs(10);

/// The session configuration both drivers start from (and the replay uses,
/// with another secret).
fn config(url: &str, secret: &str) -> SessionConfig {
    let mut config = SessionConfig::new(url).expect("a valid url");
    config.seed = 42;
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, secret));
    config.proxy_from_env = false;
    config
}

/// What a driver's session config is: it gives up before the first
/// `Ready` (retrying was not asked for).
fn replay_config(url: &str) -> SessionConfig {
    let mut config = config(url, "dummy");
    config.fail_before_first_ready = true;
    config
}

fn check(recording: &str, url: &str) {
    assert!(
        !recording.contains(DEFAULT_CLIENT_SECRET),
        "the secret leaked"
    );
    assert!(
        recording.contains("access_token\\\":\\\"<redacted>"),
        "the token is redacted: {recording}"
    );
    assert!(recording.contains("\"op\":\"subscribe\""), "{recording}");
    assert_eq!(header(recording).unwrap().seed, 42);
    let report = replay(recording, replay_config(url), Deribit::new())
        .unwrap_or_else(|d| panic!("diverged: {d}\n{recording}"));
    assert!(report.compared > 10, "{report:?}");
    // The replay does compare: another seed is another upgrade key.
    let mut reseeded = replay_config(url);
    reseeded.seed = 43;
    let divergence = replay(recording, reseeded, Deribit::new()).expect_err("another key");
    assert!(divergence.got.contains("Sec-WebSocket-Key"), "{divergence}");
}

#[test]
fn a_tokio_application_records_to_a_file_and_the_recording_replays() {
    let mock = MockDeribit::start(MockConfig::default());
    let path =
        std::env::temp_dir().join(format!("wsnova-record-tokio-{}.jsonl", std::process::id()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(4 * STEP, async {
            let builder =
                wsnova_tokio::Builder::from_config(config(&mock.url(), DEFAULT_CLIENT_SECRET))
                    .record(&path);
            let (client, mut events) = wsnova_tokio::connect(builder, Deribit::new())
                .await
                .expect("connect");
            client
                .request("public/get_time", &json!({}))
                .await
                .expect("a response");
            client.subscribe(&[TICKER]).await.expect("subscribed");
            let mut notifications = 0;
            while notifications < 3 {
                if let Some(Event::Notification { .. }) = events.recv().await {
                    notifications += 1;
                }
            }
            client.close().await.expect("close");
            loop {
                match events.recv().await {
                    Some(Event::Closed { reason }) => {
                        assert_eq!(reason, CloseReason::User);
                        break;
                    }
                    Some(_) => {}
                    None => panic!("the events ended without Closed"),
                }
            }
        })
        .await
        .expect("the tokio run in time");
    });
    let recording = std::fs::read_to_string(&path).expect("the recording");
    let _ = std::fs::remove_file(&path);
    check(&recording, &mock.url());
}

/// A writer the test keeps a handle on.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_mio_application_records_to_a_writer_and_the_recording_replays() {
    let mock = MockDeribit::start(MockConfig::default());
    let sink = Shared::default();
    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let builder = wsnova_mio::Builder::from_config(config(&mock.url(), DEFAULT_CLIENT_SECRET))
        .record_to(sink.clone());
    let (handle, events) = event_loop
        .connect(builder, Deribit::new())
        .expect("connect");
    handle
        .request("public/get_time", &json!({}))
        .expect("a response");
    handle.subscribe(&[TICKER]).expect("subscribed");
    let mut notifications = 0;
    while notifications < 3 {
        if let Event::Notification { .. } = events.recv_timeout(STEP).expect("an event in time") {
            notifications += 1;
        }
    }
    handle.close().expect("close");
    loop {
        if let Event::Closed { reason } = events.recv_timeout(STEP).expect("an event in time") {
            assert_eq!(reason, CloseReason::User);
            break;
        }
    }
    let recording = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    check(&recording, &mock.url());
}

#[test]
fn a_recording_file_that_cannot_be_created_fails_connect() {
    let mock = MockDeribit::start(MockConfig::default());
    let path = std::env::temp_dir()
        .join("wsnova-no-such-dir")
        .join("x")
        .join("rec.jsonl");
    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let builder = wsnova_mio::Builder::new(&mock.url()).unwrap().record(&path);
    let err = event_loop
        .connect(builder, Deribit::new())
        .expect_err("the file cannot be created");
    assert!(err.to_string().contains("rec.jsonl"), "{err}");
    assert_eq!(mock.connections_accepted(), 0, "nothing was dialled");
}
