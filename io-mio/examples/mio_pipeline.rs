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
use wsnova_mio::{Builder, Connection, Event, EventLoop, Message, Plain};

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

/// Round-trip times in 100 ns buckets up to 10 ms (the last bucket holds
/// the rest): recording one costs the same at any count.
struct Latencies(Vec<u32>);

impl Latencies {
    const BUCKET_NS: u128 = 100;

    fn new() -> Latencies {
        Latencies(vec![0; 100_001])
    }

    fn record(&mut self, took: Duration) {
        let bucket = (took.as_nanos() / Self::BUCKET_NS).min(100_000) as usize;
        self.0[bucket] += 1;
    }

    /// The `q` quantile, if anything was recorded.
    fn quantile(&self, q: f64) -> Option<Duration> {
        let total: u64 = self.0.iter().map(|&n| u64::from(n)).sum();
        let want = ((total as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, &n) in self.0.iter().enumerate() {
            seen += u64::from(n);
            if seen >= want && total > 0 {
                return Some(Duration::from_nanos(bucket as u64 * Self::BUCKET_NS as u64));
            }
        }
        None
    }
}

fn report(mode: &str, size: usize, count: usize, took: Duration, latencies: Latencies) {
    let rate = count as f64 / took.as_secs_f64();
    print!("{mode} {size} B: {count} messages in {took:.2?}, {rate:.0} msg/s");
    if let (Some(p50), Some(p99)) = (latencies.quantile(0.5), latencies.quantile(0.99)) {
        print!(", latency p50 {p50:.1?} p99 {p99:.1?}");
    }
    println!();
}

fn config(url: &str) -> Result<Builder, Box<dyn std::error::Error>> {
    Ok(Builder::new(url)?.event_capacity(2 * WINDOW))
}

/// The embedding API in a loop of its own; `window` 1 measures round trips.
fn embed(
    url: &str,
    text: &str,
    count: usize,
    window: usize,
) -> Result<Latencies, Box<dyn std::error::Error>> {
    let mut poll = Poll::new()?;
    let registry = Arc::new(poll.registry().try_clone()?);
    let mut conn = Connection::new(config(url)?, Plain, registry, Token(0));
    conn.connect()?;
    let mut events = Events::with_capacity(64);
    let (mut sent, mut received, mut ready) = (0, 0, false);
    let mut latencies = Latencies::new();
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
        // The usual embedding loop: sleep until the connection's deadline
        // (or a readiness), hand it the events, then fire what is due.
        let wait = conn.poll_timeout().map_or(STEP, |at| {
            at.saturating_duration_since(Instant::now()).min(STEP)
        });
        poll.poll(&mut events, Some(wait))?;
        if events.is_empty() && wait == STEP {
            return Err(format!("no progress in {STEP:?} ({received} of {count})").into());
        }
        for event in events.iter() {
            conn.handle_event(event);
        }
        if let Some(at) = conn.poll_timeout() {
            let now = Instant::now();
            if at <= now {
                conn.handle_timeout(now);
            }
        }
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Ready => ready = true,
                Event::Message(_) => {
                    received += 1;
                    if window == 1 {
                        latencies.record(last_send.elapsed());
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
) -> Result<Latencies, Box<dyn std::error::Error>> {
    let event_loop = EventLoop::new()?;
    let (handle, events) = event_loop.connect(config(url)?, Plain)?;
    let mut latencies = Latencies::new();
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
                        latencies.record(sent_at.elapsed());
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
