//! Runs every Autobahn|Testsuite case against a fuzzing server with the mio
//! driver (one [`EventLoop`](wsnova_mio::EventLoop), a blocking
//! [`Handle`](wsnova_mio::Handle)), echoing each message back, then asks the
//! server to write its report. The agent is `wsnova-mio`, so its results sit
//! next to the tokio driver's (`wsnova`) in the same report.
//!
//! ```text
//! cargo run --release -p wsnova-mio --example mio_autobahn_client -- ws://127.0.0.1:9001
//! ```

use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use wsnova_mio::prelude::*;
use wsnova_mio::{BackoffConfig, HeartbeatConfig, Limits, SessionConfig};

const AGENT: &str = "wsnova-mio";
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

/// Connects to `url`, echoes every message until the server closes (or
/// [`CASE_LIMIT`] passes), and returns the text messages received.
fn run(event_loop: &EventLoop, url: &str) -> Vec<String> {
    let builder = Builder::from_config(config(url)).event_capacity(1 << 16);
    let Ok((handle, events)) = builder.connect(event_loop, Plain) else {
        return Vec::new(); // cases that refuse the upgrade are judged by the server
    };
    let deadline = Instant::now() + CASE_LIMIT;
    let mut texts = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::Message(Message::Text(text))) => {
                let _ = handle.send_text(text.as_str());
                texts.push(text.as_str().to_owned());
            }
            Ok(Event::Message(Message::Binary(data))) => {
                let _ = handle.send_binary(&data);
            }
            Ok(Event::Closed { .. }) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                println!("{url}: timed out after {CASE_LIMIT:?}");
                break;
            }
        }
    }
    texts
}

fn main() {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let event_loop = EventLoop::new().expect("start the event loop");
    let count_text = run(&event_loop, &format!("{base}/getCaseCount"));
    let count: u32 = count_text
        .first()
        .and_then(|t| t.trim().parse().ok())
        .expect("the fuzzing server sends its case count");
    println!("running {count} cases against {base}");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        run(&event_loop, &url);
    }
    run(&event_loop, &format!("{base}/updateReports?agent={AGENT}"));
    println!("done: report updated for agent {AGENT}");
}
