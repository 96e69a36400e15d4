//! Tracing output never carries secrets: everything logged at TRACE during a
//! full Deribit session (credentials auth, token refreshes, a private
//! request, private and public subscriptions, a dropped connection and the
//! reconnect, then signature auth) is captured and searched for the client
//! secret, the tokens the mock issued and HMAC signatures.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_adapters::deribit::{AuthMethod, Deribit};
use wsnova_core::session::{Credentials, Event, SessionConfig, SessionState};
use wsnova_tests::deribit::{MockConfig, MockDeribit};

const CLIENT_ID: &str = "observed-client";
const CLIENT_SECRET: &str = "Zq7-very-secret-value-9xK";

/// A `MakeWriter` appending everything to one shared buffer.
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

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The longest run of characters the mock's tokens (and hex signatures) are
/// made of: `[A-Za-z0-9_-]`. Tokens carry a 64-character part, signatures
/// are 64 hex digits.
fn longest_token_like_run(text: &str) -> (usize, &str) {
    let mut best = (0, "");
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let token_char = c.is_ascii_alphanumeric() || c == '-' || c == '_';
        match (token_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s > best.0 {
                    best = (i - s, &text[s..i]);
                }
                start = None;
            }
            _ => {}
        }
    }
    best
}

async fn wait_for(events: &mut wsnova_tokio::Events, what: &str, pred: impl Fn(&Event) -> bool) {
    timeout(Duration::from_secs(10), async {
        while let Some(event) = events.next().await {
            if pred(&event) {
                return;
            }
        }
        panic!("events ended before {what}");
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

fn config(mock: &MockDeribit) -> SessionConfig {
    let mut config = SessionConfig::new(&mock.url()).unwrap();
    config.credentials = Some(Credentials::new(CLIENT_ID, CLIENT_SECRET));
    config.request_timeout = Duration::from_secs(5);
    config.backoff.base = Duration::from_millis(20);
    config.backoff.max_delay = Duration::from_millis(200);
    config
}

#[tokio::test]
async fn tracing_output_tells_the_story_and_never_carries_secrets() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .init();

    let mock = MockDeribit::start(MockConfig {
        token_lifetime: Duration::from_secs(2), // refreshed after 1.6 s
        ..MockConfig::default().with_account(CLIENT_ID, CLIENT_SECRET)
    });

    // 1. client_credentials: the secret travels in the auth request's params.
    let (client, mut events) = timeout(
        Duration::from_secs(10),
        wsnova_tokio::Builder::from_config(config(&mock))
            .name("deribit-observed")
            .connect(Deribit::new()),
    )
    .await
    .expect("connect in time")
    .expect("connect");
    assert!(client.status().authenticated);
    client
        .subscribe(&[
            "user.orders.BTC-PERPETUAL.raw",
            "ticker.BTC-PERPETUAL.100ms",
        ])
        .await
        .unwrap();
    let summary = client
        .request(
            "private/get_account_summary",
            &serde_json::json!({"currency": "BTC"}),
        )
        .await
        .expect("a private request");
    let summary: serde_json::Value = serde_json::from_str(summary.as_str()).unwrap();
    assert!(summary["equity"].is_number(), "{summary}");

    // Token refreshes (80 % of 2 s), twice.
    let refreshes_before = mock.request_count("public/auth");
    // (`wait_until` blocks the thread: poll from the runtime instead.)
    timeout(Duration::from_secs(10), async {
        while mock.request_count("public/auth") < refreshes_before + 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the token is refreshed");
    client
        .request(
            "private/get_positions",
            &serde_json::json!({"currency": "BTC"}),
        )
        .await
        .expect("a private request after the refresh");

    // A dropped connection: the reconnect, re-auth and resubscription.
    let dropped = mock.faults().live().drop_now();
    assert!(dropped >= 1);
    wait_for(&mut events, "the disconnect", |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .await;
    wait_for(&mut events, "ready again", |e| matches!(e, Event::Ready)).await;
    assert_eq!(client.status().state, SessionState::Ready);
    client.ping().await.expect("a ping");
    let stats = client.status().stats;
    assert!(stats.ping_rtt.samples >= 1, "{stats:?}");
    assert!(stats.ping_rtt.p50.is_some() && stats.ping_rtt.p50 <= stats.ping_rtt.p99);
    assert!(stats.reconnects >= 1);
    assert!(stats.request_latency.samples >= 2, "{stats:?}");
    assert!(stats.request_latency.p50 <= stats.request_latency.p99);
    client.close().await.unwrap();

    // 2. client_signature: an HMAC of the secret goes out instead.
    let (client, _events) = timeout(
        Duration::from_secs(10),
        wsnova_tokio::Builder::from_config(config(&mock))
            .connect(Deribit::new().with_auth_method(AuthMethod::Signature)),
    )
    .await
    .expect("connect in time")
    .expect("connect with a signature");
    assert!(client.status().authenticated);
    client.close().await.unwrap();
    drop(client);
    // Both sessions have logged their end before the output is read.
    timeout(Duration::from_secs(5), async {
        while capture.text().matches("session closed").count() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("both sessions log their close");

    let text = capture.text();
    if let Ok(path) = std::env::var("WSNOVA_TRACE_DUMP") {
        std::fs::write(path, &text).unwrap(); // to read the story by eye
    }
    assert!(!text.is_empty(), "tracing captured nothing");
    // The story: transitions, the loss with its reason and delay, the reconnect.
    for needle in [
        "state transition",
        "wsnova{name=deribit-observed",
        "conn{generation=2}",
        "connection lost: reconnecting after backoff",
        "delay_ms=",
        "reconnecting",
        "state transition: ready",
        "authenticated",
        "refreshing the access token",
        "subscriptions confirmed",
        "request sent",
        "session closed",
    ] {
        assert!(text.contains(needle), "no {needle:?} in the trace:\n{text}");
    }
    // No secret, token or signature.
    assert!(!text.contains(CLIENT_SECRET), "the client secret leaked");
    assert!(
        !text.contains("access_token"),
        "a token field leaked:\n{text}"
    );
    assert!(!text.contains("refresh_token\":"), "a token field leaked");
    assert!(!text.contains("signature\""), "a signature field leaked");
    let (len, run) = longest_token_like_run(&text);
    assert!(
        len < 40,
        "something token- or signature-like leaked ({len} chars): {run}"
    );
}
