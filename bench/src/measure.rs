//! The measurements, generic over [`EchoClient`], run in a child process per
//! client so that RSS and peak RSS are that client's alone.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use wsnova_bench::sys::status_kib;

use crate::clients::{EchoClient, Servers};

/// The small message size, in bytes.
pub const SMALL: usize = 64;
/// The large message size, in bytes.
pub const LARGE: usize = 16 * 1024;

/// How much of everything to do, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The CPU the client runs on (already pinned by the caller), if pinned.
    pub cpu: Option<usize>,
    /// Untimed round trips before the timed ones.
    pub rtt_warmup: usize,
    /// Timed sequential round trips of [`SMALL`] bytes.
    pub rtt: usize,
    /// Pipelined [`SMALL`]-byte messages.
    pub small_n: usize,
    /// Timed runs of `small_n` (the median counts).
    pub small_reps: usize,
    /// Most [`SMALL`]-byte echoes outstanding.
    pub small_window: usize,
    /// Pipelined [`LARGE`]-byte messages.
    pub large_n: usize,
    /// Timed runs of `large_n` (the median counts).
    pub large_reps: usize,
    /// Most [`LARGE`]-byte echoes outstanding.
    pub large_window: usize,
    /// Idle connections opened for the memory and connect-time figures.
    pub conns: usize,
    /// Longest any one phase may take before the run is called stuck.
    pub phase_timeout: Duration,
    /// Stop after the idle connections (`--idle`): their memory and open
    /// time only.
    pub idle_only: bool,
}

impl Plan {
    /// The full run (the README's numbers).
    pub fn full() -> Self {
        Self {
            cpu: None,
            rtt_warmup: 2_000,
            rtt: 20_000,
            small_n: 200_000,
            // 200k x 64 B takes only 10-100 ms: repeat it for a steady median.
            small_reps: 5,
            // ~280 KiB and ~256 KiB outstanding: deep enough to batch well,
            // small enough for loopback socket buffers to hold all of it, so
            // writing half a window before reading cannot deadlock.
            small_window: 4096,
            // 800 MB each way.
            large_n: 50_000,
            large_reps: 1,
            large_window: 16,
            conns: 1_000,
            phase_timeout: Duration::from_secs(120),
            idle_only: false,
        }
    }

    /// A smoke run that only checks every client works: few messages, 100
    /// connections.
    pub fn quick() -> Self {
        Self {
            rtt_warmup: 100,
            rtt: 500,
            small_n: 20_000,
            small_reps: 1,
            large_n: 2_000,
            conns: 100,
            phase_timeout: Duration::from_secs(30),
            ..Self::full()
        }
    }
}

/// The quick or the full plan.
pub fn plan(quick: bool) -> Plan {
    if quick { Plan::quick() } else { Plan::full() }
}

/// Metric name → value, as printed by the child (`METRIC <name> <value>`).
pub type Metrics = BTreeMap<String, f64>;

/// Metric: median round trip, µs.
pub const RTT_P50_US: &str = "rtt_p50_us";
/// Metric: 99th-percentile round trip, µs.
pub const RTT_P99_US: &str = "rtt_p99_us";
/// Metric: pipelined [`SMALL`]-byte messages per second.
pub const SMALL_MSGS_PER_S: &str = "small_msgs_per_s";
/// Metric: pipelined [`LARGE`]-byte messages per second.
pub const LARGE_MSGS_PER_S: &str = "large_msgs_per_s";
/// Metric: time to open [`Plan::conns`] connections one after another, ms.
pub const OPEN_MS: &str = "open_ms";
/// Metric: RSS growth per idle connection, KiB.
pub const IDLE_RSS_KIB: &str = "idle_rss_kib";
/// Metric: `VmData` (allocated, touched or not) growth per idle connection, KiB.
pub const IDLE_DATA_KIB: &str = "idle_data_kib";
/// Metric: peak RSS (`VmHWM`) from the start of the 16 KiB run to the end, KiB.
pub const PEAK_RSS_KIB: &str = "peak_rss_kib";

/// Deterministic payload bytes.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn progress(client: &str, what: &str) {
    eprintln!("  [{client}] {what}");
}

async fn phase<T>(
    client: &str,
    what: &str,
    plan: &Plan,
    work: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    progress(client, what);
    match tokio::time::timeout(plan.phase_timeout, work).await {
        Ok(result) => result.map_err(|e| io::Error::new(e.kind(), format!("{what}: {e}"))),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what}: no progress after {:?}", plan.phase_timeout),
        )),
    }
}

fn kib(field: &str) -> io::Result<f64> {
    status_kib(field)
        .map(|v| v as f64)
        .ok_or_else(|| io::Error::other(format!("no {field} in /proc/self/status")))
}

/// Runs every measurement with client `C`, in this order: idle connections
/// (on a fresh heap, so freed buffers of later phases cannot hide their
/// cost), round trips, 64 B throughput, 16 KiB throughput; peak RSS of the
/// 16 KiB run last.
pub async fn run<C: EchoClient>(servers: Servers, plan: &Plan) -> io::Result<Metrics> {
    let name = C::NAME;
    let addr = servers.addr(C::SERVER);
    let small = C::message(&payload(SMALL));
    let large = C::message(&payload(LARGE));
    let mut metrics = Metrics::new();

    let mut conn = phase(name, "connect", plan, async {
        let mut conn = C::connect(addr).await?;
        conn.round_trip(&small).await?;
        Ok(conn)
    })
    .await?;

    let mut idle = Vec::with_capacity(plan.conns);
    let (rss, data) = (kib("VmRSS")?, kib("VmData")?);
    let open = phase(
        name,
        &format!("open {} idle connections", plan.conns),
        plan,
        async {
            let start = Instant::now();
            for _ in 0..plan.conns {
                idle.push(C::connect(addr).await?);
            }
            Ok(start.elapsed())
        },
    )
    .await?;
    let per_conn = |after: f64, before: f64| (after - before) / plan.conns.max(1) as f64;
    metrics.insert(IDLE_RSS_KIB.into(), per_conn(kib("VmRSS")?, rss));
    metrics.insert(IDLE_DATA_KIB.into(), per_conn(kib("VmData")?, data));
    metrics.insert(OPEN_MS.into(), open.as_secs_f64() * 1e3);
    if plan.idle_only {
        // Straight out: the idle connections are not closed one by one.
        std::mem::forget(idle);
        return Ok(metrics);
    }
    drop(idle);

    let mut samples = Vec::with_capacity(plan.rtt);
    phase(
        name,
        &format!("{} round trips of {SMALL} B", plan.rtt),
        plan,
        async {
            for _ in 0..plan.rtt_warmup {
                conn.round_trip(&small).await?;
            }
            for _ in 0..plan.rtt {
                let start = Instant::now();
                conn.round_trip(&small).await?;
                samples.push(start.elapsed());
            }
            Ok(())
        },
    )
    .await?;
    samples.sort_unstable();
    if !samples.is_empty() {
        metrics.insert(
            RTT_P50_US.into(),
            percentile(&samples, 50.0).as_secs_f64() * 1e6,
        );
        metrics.insert(
            RTT_P99_US.into(),
            percentile(&samples, 99.0).as_secs_f64() * 1e6,
        );
    }

    for (key, msg, size, n, reps, window) in [
        (
            SMALL_MSGS_PER_S,
            &small,
            SMALL,
            plan.small_n,
            plan.small_reps,
            plan.small_window,
        ),
        (
            LARGE_MSGS_PER_S,
            &large,
            LARGE,
            plan.large_n,
            plan.large_reps,
            plan.large_window,
        ),
    ] {
        if size == LARGE {
            // Resets VmHWM (Linux >= 4.0), so peak RSS is the 16 KiB run's.
            let _ = std::fs::write("/proc/self/clear_refs", "5");
        }
        let what = format!("{reps} x {n} x {size} B pipelined, window {window}");
        let mut rates = phase(name, &what, plan, async {
            conn.pipelined(msg, n / 10, window).await?; // warm-up
            let mut rates = Vec::with_capacity(reps);
            for _ in 0..reps.max(1) {
                let start = Instant::now();
                conn.pipelined(msg, n, window).await?;
                rates.push(n as f64 / start.elapsed().as_secs_f64());
            }
            Ok(rates)
        })
        .await?;
        rates.sort_by(f64::total_cmp);
        metrics.insert(key.into(), rates[rates.len() / 2]);
    }

    phase(name, "close", plan, conn.close()).await?;
    metrics.insert(PEAK_RSS_KIB.into(), kib("VmHWM")?);
    Ok(metrics)
}

/// One workload of the callgrind mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Sequential [`SMALL`]-byte round trips.
    RoundTrip,
    /// Pipelined [`SMALL`]-byte messages.
    Small,
    /// Pipelined [`LARGE`]-byte messages.
    Large,
}

impl Workload {
    /// All three, in report order.
    pub const ALL: [Workload; 3] = [Self::RoundTrip, Self::Small, Self::Large];

    /// The `--workload` value.
    pub fn name(self) -> &'static str {
        match self {
            Self::RoundTrip => "rtt",
            Self::Small => "small",
            Self::Large => "large",
        }
    }

    /// Parses a `--workload` value.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == name)
    }
}

/// Connects, does `n` of `workload` and closes: the whole child run under
/// callgrind, where runs with `n` and `2n` differ by `n` messages' work.
pub async fn workload<C: EchoClient>(
    servers: Servers,
    plan: &Plan,
    workload: Workload,
    n: usize,
) -> io::Result<Metrics> {
    let addr = servers.addr(C::SERVER);
    let small = C::message(&payload(SMALL));
    let large = C::message(&payload(LARGE));
    let mut conn = C::connect(addr).await?;
    conn.round_trip(&small).await?;
    match workload {
        Workload::RoundTrip => {
            for _ in 0..n {
                conn.round_trip(&small).await?;
            }
        }
        Workload::Small => conn.pipelined(&small, n, plan.small_window).await?,
        Workload::Large => conn.pipelined(&large, n, plan.large_window).await?,
    }
    conn.close().await?;
    let mut metrics = Metrics::new();
    metrics.insert("messages".into(), n as f64);
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&samples, 100.0), Duration::from_micros(100));
        assert_eq!(percentile(&samples[..1], 99.0), Duration::from_micros(1));
    }
}
