//! Runs every Autobahn|Testsuite case against a fuzzing server, echoing each
//! message back, then asks the server to write its report.
//!
//! ```text
//! cargo run --release -p wsnova-tokio --example tokio_autobahn_client -- ws://127.0.0.1:9001
//! ```

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_tokio::prelude::*;
use wsnova_tokio::{BackoffConfig, HeartbeatConfig, Limits, SessionConfig};

const AGENT: &str = "wsnova";
/// A case that takes longer is abandoned: the fuzzing server's own limit.
/// Its slowest cases (12.3.*, 13.3.*: thousands of compressed messages)
/// take 40 s on a quiet machine, and minutes beside a build that leaves the
/// server little CPU.
const CASE_LIMIT: Duration = Duration::from_secs(480);

fn config(url: &str) -> SessionConfig {
    let mut config = SessionConfig::new(url).expect("valid URL");
    config.heartbeat = HeartbeatConfig {
        ping_interval: None,
        idle_timeout: None,
        ..HeartbeatConfig::default()
    };
    // Never reconnect: each case is one connection.
    config.backoff = BackoffConfig {
        max_attempts: Some(0),
        ..BackoffConfig::default()
    };
    config.wire = config.wire.limits(Limits {
        max_frame_size: 64 << 20,
        max_message_size: 64 << 20,
    });
    config.queue_capacity = 1 << 20;
    config
}

/// Connects to `url`, echoes every message until the server closes, and
/// returns the text messages received.
async fn run(url: &str) -> Vec<String> {
    let builder = wsnova_tokio::Builder::from_config(config(url)).event_capacity(1 << 16);
    let Ok((client, mut events)) = builder.connect(Plain).await else {
        return Vec::new(); // cases that refuse the upgrade are judged by the server
    };
    let mut texts = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            Event::Message(Message::Text(text)) => {
                let _ = client.send_text(text.as_str()).await;
                texts.push(text.as_str().to_owned());
            }
            Event::Message(Message::Binary(data)) => {
                let _ = client.send_binary(&data).await;
            }
            Event::Closed { .. } => break,
            _ => {}
        }
    }
    texts
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let count_text = run(&format!("{base}/getCaseCount")).await;
    let count: u32 = count_text
        .first()
        .and_then(|t| t.trim().parse().ok())
        .expect("the fuzzing server sends its case count");
    println!("running {count} cases against {base}");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        if timeout(CASE_LIMIT, run(&url)).await.is_err() {
            println!("case {case}: timed out after {CASE_LIMIT:?}");
        }
    }
    run(&format!("{base}/updateReports?agent={AGENT}")).await;
    println!("done: report updated for agent {AGENT}");
}
