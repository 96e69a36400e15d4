//! A proxy password never reaches the logs: everything traced at TRACE
//! while both drivers connect through tinyproxy and microsocks with
//! credentials (and fail with wrong ones) is searched for the password and
//! for its Basic (base64) form.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::driver::Builder;
use wsnova_core::session::{Event, Plain};
use wsnova_tests::EchoServer;
use wsnova_tests::proxies::{Microsocks, Tinyproxy};

const PASSWORD: &str = "Pw7-proxy-secret-3xQ";
const WRONG: &str = "Wrong-proxy-secret-8yZ";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[tokio::test]
async fn proxy_passwords_never_reach_the_logs() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .init();
    let echo = EchoServer::start();
    let http = Tinyproxy::start(Some(("alice", PASSWORD)));
    let socks = Microsocks::start(Some(("alice", PASSWORD)));
    for proxy in [http.url(), socks.url()] {
        let builder = || Builder::new(&echo.url()).unwrap().proxy(&proxy).unwrap();
        let (client, mut events) = timeout(
            Duration::from_secs(10),
            wsnova_tokio::connect(builder(), Plain),
        )
        .await
        .unwrap()
        .unwrap();
        client.send_text("hi").await.unwrap();
        while !matches!(events.next().await, Some(Event::Message(_))) {}
        client.close().await.unwrap();
        let event_loop = wsnova_mio::EventLoop::new().unwrap();
        let (handle, _events) = event_loop.connect(builder(), Plain).unwrap();
        handle.close().unwrap();
        let wrong = proxy.replace(PASSWORD, WRONG);
        let builder = Builder::new(&echo.url()).unwrap().proxy(&wrong).unwrap();
        let failed = timeout(
            Duration::from_secs(10),
            wsnova_tokio::connect(builder, Plain),
        )
        .await
        .unwrap();
        assert!(failed.is_err());
    }
    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(logs.contains("dialing"), "the dials were traced");
    assert!(
        logs.contains("alice:<redacted>"),
        "the proxy is named, redacted"
    );
    for secret in [PASSWORD, WRONG] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
        let basic = data_encoding::BASE64.encode(format!("alice:{secret}").as_bytes());
        assert!(!logs.contains(&basic), "the Basic token leaked");
    }
}
