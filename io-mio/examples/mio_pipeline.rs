//! Throughput and latency of the mio driver against an echo server:
//! the embedding `Connection` and the blocking `Handle`, pipelined or one
//! round trip at a time.
//!
//! ```text
//! cargo run --release -p wsnova-bench --bin echo_server      # prints LISTENING <port>
//! cargo run --release -p wsnova-mio --example mio_pipeline -- ws://127.0.0.1:<port>/ MODE COUNT [SIZE]
//! ```
//!
//! `MODE` is `embed-pipeline`, `embed-rtt`, `handle-pipeline` or
//! `handle-rtt`; `SIZE` the text payload in bytes (64 by default).
//! Pipelined runs keep up to 4,096 messages in flight (fed, then one
//! flush per burst); round trips send one message and wait for its echo.
//! It prints messages per second and, for round trips, the median and
//! 99th percentile latency. For instruction counts, run it under
//! `valgrind --tool=callgrind` at two counts and divide the difference.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wsnova_mio::mio::{Events, Poll, Token};
use wsnova_mio::{Connection, Event, EventLoop, Message, Plain, SessionConfig};

/// Messages in flight at most in the pipelined runs.
const WINDOW: usize = 4096;
/// The bound on every wait: a lost echo ends the run with an error.
const STEP: Duration = Duration::from_secs(10);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, mode, count, rest @ ..] = args.as_slice() else {
        return Err("usage: mio_pipeline URL MODE COUNT [SIZE]".into());
    };
    let count: usize = count.parse()?;
    let size: usize = rest.first().map_or(Ok(64), |s| s.parse())?;
    let text = "x".repeat(size);
    let started = Instant::now();
    let latencies = match mode.as_str() {
        "embed-pipeline" => embed(url, &text, count, WINDOW)?,
        "embed-rtt" => embed(url, &text, count, 1)?,
        "handle-pipeline" => handle(url, &text, count, WINDOW)?,
        "handle-rtt" => handle(url, &text, count, 1)?,
        other => return Err(format!("unknown mode {other:?}").into()),
    };
    report(mode, size, count, started.elapsed(), latencies);
    Ok(())
}

fn report(mode: &str, size: usize, count: usize, took: Duration, mut latencies: Vec<Duration>) {
    let rate = count as f64 / took.as_secs_f64();
    print!("{mode} {size} B: {count} messages in {took:.2?}, {rate:.0} msg/s");
    if !latencies.is_empty() {
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        print!(", latency p50 {:.1?} p99 {:.1?}", at(0.5), at(0.99));
    }
    println!();
}

fn config(url: &str) -> Result<SessionConfig, Box<dyn std::error::Error>> {
    let mut config = SessionConfig::new(url)?;
    config.event_capacity = 2 * WINDOW;
    Ok(config)
}

/// The embedding API in a loop of its own; `window` 1 measures round trips.
fn embed(
    url: &str,
    text: &str,
    count: usize,
    window: usize,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let mut poll = Poll::new()?;
    let registry = Arc::new(poll.registry().try_clone()?);
    let mut conn = Connection::new(config(url)?, Plain, registry, Token(0));
    conn.connect()?;
    let mut events = Events::with_capacity(64);
    let (mut sent, mut received, mut ready) = (0, 0, false);
    let mut latencies = Vec::new();
    let mut last_send = Instant::now();
    while received < count {
        if ready && sent < count && sent - received < window {
            while sent < count && sent - received < window {
                conn.feed_text(text)?;
                sent += 1;
            }
            conn.flush();
            last_send = Instant::now();
        }
        let now = Instant::now();
        let wait = conn
            .poll_timeout()
            .map_or(STEP, |at| at.saturating_duration_since(now).min(STEP));
        poll.poll(&mut events, Some(wait))?;
        if events.is_empty() && conn.poll_timeout().is_none_or(|at| at > Instant::now()) {
            return Err(format!("no progress in {STEP:?} ({received} of {count})").into());
        }
        for event in events.iter() {
            conn.handle_event(event);
        }
        if conn.poll_timeout().is_some_and(|at| at <= Instant::now()) {
            conn.handle_timeout(Instant::now());
        }
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Ready => ready = true,
                Event::Message(_) => {
                    received += 1;
                    if window == 1 {
                        latencies.push(last_send.elapsed());
                    }
                }
                Event::Disconnected { .. } | Event::Closed { .. } => {
                    return Err(format!("connection lost: {event:?}").into());
                }
                _ => {}
            }
        }
    }
    Ok(latencies)
}

/// The blocking `Handle` on an `EventLoop`; `window` 1 measures round trips.
fn handle(
    url: &str,
    text: &str,
    count: usize,
    window: usize,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let event_loop = EventLoop::new()?;
    let (handle, events) = event_loop.connect(config(url)?, Plain)?;
    let mut latencies = Vec::new();
    let (mut sent, mut received) = (0, 0);
    while received < count {
        let sent_at = Instant::now();
        while sent < count && sent - received < window {
            handle.feed_text(text)?;
            sent += 1;
        }
        handle.flush()?;
        // Take what came back; at least one.
        loop {
            match events.recv_timeout(STEP)? {
                Event::Message(Message::Text(_)) => {
                    received += 1;
                    if window == 1 {
                        latencies.push(sent_at.elapsed());
                    }
                    if received == sent || window == 1 || sent - received < window / 2 {
                        break;
                    }
                }
                event @ (Event::Disconnected { .. } | Event::Closed { .. }) => {
                    return Err(format!("connection lost: {event:?}").into());
                }
                _ => {}
            }
        }
    }
    handle.close()?;
    Ok(latencies)
}
