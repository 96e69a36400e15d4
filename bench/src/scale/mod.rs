//! The scale benchmark: many idle connections, then one broadcast to all.
//!
//! `server` is the broadcast server (its own process); `mio_client` and
//! `tungstenite_client` are the two measured clients and `raw_client` the
//! raw TCP floor for opening (each in a process of its own, so RSS is
//! theirs alone); `report` prints the table. This file
//! holds what the clients share: arguments, the per-connection receive
//! times, the control connection and the `METRIC` lines.

pub mod mio_client;
pub mod raw_client;
pub mod report;
pub mod server;
pub mod tungstenite_client;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use wsnova_bench::sys::status_kib;

/// The measured clients, in the order they run (`raw-tcp` only connects).
pub const CLIENTS: [&str; 3] = ["wsnova-mio", "tokio-tungstenite", "raw-tcp"];

/// Named figures a client run reports.
pub type Metrics = BTreeMap<String, f64>;

/// How long a client may wait for the broadcast to reach everyone.
pub const BROADCAST_TIMEOUT: Duration = Duration::from_secs(60);

/// What a client run is told.
#[derive(Debug, Clone)]
pub struct ChildArgs {
    /// The broadcast server's WebSocket port on 127.0.0.1.
    pub websocket: SocketAddr,
    /// Its control port.
    pub control: SocketAddr,
    /// How many connections to open.
    pub connections: usize,
    /// At most this many handshakes in flight.
    pub window: usize,
}

impl ChildArgs {
    /// The URL every connection dials.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.websocket)
    }

    /// Parses `--port P --control C --connections N --window W`.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let (mut port, mut control, mut connections, mut window) = (None, None, None, None);
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut number = |flag: &str| -> Result<usize, String> {
                let v = args.next().ok_or(format!("{flag} needs a value"))?;
                v.parse().map_err(|e| format!("{flag} {v:?}: {e}"))
            };
            match arg.as_str() {
                "--port" => port = Some(number("--port")?),
                "--control" => control = Some(number("--control")?),
                "--connections" => connections = Some(number("--connections")?),
                "--window" => window = Some(number("--window")?),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        let addr = |p: Option<usize>, flag: &str| {
            let p = p.ok_or(format!("a client run needs {flag}"))?;
            let p = u16::try_from(p).map_err(|e| format!("{flag} {p}: {e}"))?;
            Ok::<_, String>(SocketAddr::from((Ipv4Addr::LOCALHOST, p)))
        };
        Ok(Self {
            websocket: addr(port, "--port")?,
            control: addr(control, "--control")?,
            connections: connections.ok_or("a client run needs --connections")?,
            window: window.unwrap_or(64).max(1),
        })
    }
}

/// When each connection got the broadcast, as nanoseconds since `base`
/// (0: not yet). Written from the receiving thread, read after the last.
pub struct Recorder {
    base: Instant,
    times: Vec<AtomicU64>,
    received: AtomicUsize,
    done: Mutex<bool>,
    all_in: Condvar,
    /// For async waiters (tokio-tungstenite).
    pub notify: tokio::sync::Notify,
}

impl Recorder {
    /// For `n` connections.
    pub fn new(n: usize) -> Self {
        Self {
            base: Instant::now(),
            times: (0..n).map(|_| AtomicU64::new(0)).collect(),
            received: AtomicUsize::new(0),
            done: Mutex::new(false),
            all_in: Condvar::new(),
            notify: tokio::sync::Notify::new(),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        (at - self.base).as_nanos().max(1) as u64
    }

    /// Connection `i` got the broadcast now (the first time counts).
    pub fn record(&self, i: usize) {
        let now = self.nanos(Instant::now());
        if self.times[i]
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        if self.received.fetch_add(1, Ordering::AcqRel) + 1 == self.times.len() {
            *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.all_in.notify_all();
            self.notify.notify_one();
        }
    }

    /// How many connections got it so far.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::Acquire)
    }

    /// Blocks until every connection got it, or `timeout`; `true` if all did.
    pub fn wait_all(&self, timeout: Duration) -> bool {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        let (done, _) = self
            .all_in
            .wait_timeout_while(done, timeout, |done| !*done)
            .unwrap_or_else(|e| e.into_inner());
        *done
    }

    /// (first, median, last) delivery time after `trigger`, in ms, over the
    /// connections that got it.
    pub fn latencies_ms(&self, trigger: Instant) -> Option<(f64, f64, f64)> {
        let trigger = self.nanos(trigger);
        let mut times: Vec<u64> = self
            .times
            .iter()
            .map(|t| t.load(Ordering::Acquire))
            .filter(|&t| t != 0)
            .map(|t| t.saturating_sub(trigger))
            .collect();
        times.sort_unstable();
        let ms = |ns: u64| ns as f64 / 1e6;
        Some((
            ms(*times.first()?),
            ms(times[times.len() / 2]),
            ms(*times.last()?),
        ))
    }
}

/// The control connection to the broadcast server.
pub struct Control {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

/// The server's account of one broadcast.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// Frames written at once.
    pub written: usize,
    /// Frames left for later (a full socket buffer).
    pub deferred: usize,
    /// Sockets that failed.
    pub failed: usize,
    /// Time the server spent in its write loop.
    pub micros: u64,
}

impl Control {
    /// Connects (blocking).
    pub fn connect(addr: SocketAddr) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("control connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        Ok(Self { stream, reader })
    }

    /// Asks for the broadcast; returns the time it was asked.
    pub fn trigger(&mut self) -> Result<Instant, String> {
        let at = Instant::now();
        self.stream
            .write_all(b"BROADCAST\n")
            .map_err(|e| format!("control write: {e}"))?;
        Ok(at)
    }

    /// Reads the server's `SENT` line (blocking).
    pub fn sent(&mut self) -> Result<Sent, String> {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| format!("control read: {e}"))?;
        let fields: Vec<u64> = line
            .trim()
            .strip_prefix("SENT ")
            .map(|rest| rest.split(' ').filter_map(|f| f.parse().ok()).collect())
            .unwrap_or_default();
        match fields[..] {
            [written, deferred, failed, micros] => Ok(Sent {
                written: written as usize,
                deferred: deferred as usize,
                failed: failed as usize,
                micros,
            }),
            _ => Err(format!("the server said {line:?}, not SENT ...")),
        }
    }

    /// Tells the server to exit (it closes every connection first).
    pub fn quit(mut self) {
        let _ = self.stream.write_all(b"QUIT\n");
        let mut rest = String::new();
        let _ = self.reader.read_line(&mut rest); // EOF once it is gone
    }
}

/// RSS and allocated memory right now, in KiB.
pub fn memory_kib() -> (f64, f64) {
    let get = |field| status_kib(field).unwrap_or(0) as f64;
    (get("VmRSS"), get("VmData"))
}

/// CPU time all this process's threads have run so far, from
/// `/proc/self/task/*/schedstat` (nanoseconds, unlike `/proc/self/stat`'s
/// 10 ms ticks).
pub fn cpu_time() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            stat.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum();
    Duration::from_nanos(nanos)
}

/// The figures every client reports, from what it measured.
pub struct Measured {
    /// Connections opened.
    pub connections: usize,
    /// Time to open them all.
    pub open: Duration,
    /// (RSS, VmData) in KiB before opening.
    pub before: (f64, f64),
    /// (RSS, VmData) in KiB with all open.
    pub after: (f64, f64),
    /// When the broadcast was asked for.
    pub trigger: Instant,
    /// Whether every connection got it in time.
    pub all_received: bool,
    /// Client CPU time (all threads) from the trigger to the last arrival.
    pub broadcast_cpu: Duration,
}

impl Measured {
    /// The `METRIC` figures, after the broadcast.
    pub fn metrics(&self, recorder: &Recorder, sent: Sent) -> Result<Metrics, String> {
        let n = self.connections as f64;
        let mut m = Metrics::new();
        m.insert("connections".into(), n);
        m.insert("open_ms".into(), self.open.as_secs_f64() * 1e3);
        m.insert("rss_before_kib".into(), self.before.0);
        m.insert("rss_after_kib".into(), self.after.0);
        m.insert(
            "rss_per_conn_kib".into(),
            (self.after.0 - self.before.0) / n,
        );
        m.insert(
            "data_per_conn_kib".into(),
            (self.after.1 - self.before.1) / n,
        );
        m.insert("received".into(), recorder.received() as f64);
        m.insert("server_written".into(), sent.written as f64);
        m.insert("server_deferred".into(), sent.deferred as f64);
        m.insert("server_failed".into(), sent.failed as f64);
        m.insert("server_send_ms".into(), sent.micros as f64 / 1e3);
        m.insert(
            "bcast_cpu_ms".into(),
            self.broadcast_cpu.as_secs_f64() * 1e3,
        );
        if let Some((first, median, last)) = recorder.latencies_ms(self.trigger) {
            m.insert("bcast_first_ms".into(), first);
            m.insert("bcast_median_ms".into(), median);
            m.insert("bcast_last_ms".into(), last);
        }
        m.insert(
            "peak_rss_kib".into(),
            status_kib("VmHWM").unwrap_or(0) as f64,
        );
        if !self.all_received {
            return Err(format!(
                "only {} of {} connections got the broadcast within {BROADCAST_TIMEOUT:?}",
                recorder.received(),
                self.connections
            ));
        }
        Ok(m)
    }
}
