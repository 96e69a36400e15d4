//! A client in a child process: the test binary runs itself again with one
//! test selected and the scenario in its environment; the child prints each
//! event with its time and, at the end, its peak RSS (`VmHWM`), which the
//! parent parses into a [`Report`]. A child process alone gives a memory
//! bound that other tests running in parallel cannot disturb.

use std::process::{Command, Stdio};
use std::time::Duration;

/// The variable that tells the child what to run.
pub const ENV: &str = "WSNOVA_HOSTILE_CHILD";

/// What the child runs: a client for `driver` with this configuration (the
/// `SessionConfig` file form, TOML), for `run_for`, or until `stop_after`
/// events whose `Debug` text contains `stop_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSpec {
    /// `"tokio"` or `"mio"`.
    pub driver: String,
    /// `"plain"` or `"json_rpc"`.
    pub adapter: String,
    /// The session configuration, TOML.
    pub config: String,
    /// The longest the child runs.
    pub run_for: Duration,
    /// Stop early after this many events containing `stop_on`.
    pub stop_after: usize,
    /// Text of the events counted by `stop_after`.
    pub stop_on: String,
}

impl ChildSpec {
    fn encode(&self) -> String {
        [
            self.driver.clone(),
            self.adapter.clone(),
            self.run_for.as_millis().to_string(),
            self.stop_after.to_string(),
            self.stop_on.clone(),
            self.config.clone(),
        ]
        .join("\u{1f}")
    }

    /// The spec the parent passed, if this process is a child.
    pub fn from_env() -> Option<ChildSpec> {
        let text = std::env::var(ENV).ok()?;
        let mut parts = text.splitn(6, '\u{1f}');
        let mut next = || parts.next().unwrap_or_default().to_owned();
        Some(ChildSpec {
            driver: next(),
            adapter: next(),
            run_for: Duration::from_millis(next().parse().unwrap_or(0)),
            stop_after: next().parse().unwrap_or(0),
            stop_on: next(),
            config: next(),
        })
    }

    /// Whether the child may stop, having seen `events`.
    pub fn done(&self, events: &[(Duration, String)]) -> bool {
        self.stop_after > 0
            && events
                .iter()
                .filter(|(_, e)| e.contains(&self.stop_on))
                .count()
                >= self.stop_after
    }
}

/// What a child saw.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Each event's time since the child started its client, and its `Debug` text.
    pub events: Vec<(Duration, String)>,
    /// The child's peak resident set size, in KiB (`VmHWM`).
    pub peak_rss_kb: u64,
}

impl Report {
    /// The events whose text contains `needle`, with their times.
    pub fn matching(&self, needle: &str) -> Vec<(Duration, String)> {
        self.events
            .iter()
            .filter(|(_, e)| e.contains(needle))
            .cloned()
            .collect()
    }
}

/// Prints one event for the parent (call from the child).
pub fn print_event(at: Duration, event: &str) {
    println!("HOSTILE-EV {} {}", at.as_micros(), event.replace('\n', " "));
}

/// Prints the peak RSS for the parent (call from the child, last).
pub fn print_peak() {
    println!("HOSTILE-PEAK {}", peak_rss_kb());
}

/// This process's peak resident set size in KiB (Linux `VmHWM`; 0 elsewhere).
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `test` (the child entry of the current test binary) in a child
/// process with `spec`, and waits for its report. The child is killed if
/// it outlives `spec.run_for` by more than 30 s.
pub fn run(test: &str, spec: &ChildSpec) -> Report {
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ENV, spec.encode())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("piped");
    let pid = child.id();
    let limit = spec.run_for + Duration::from_secs(30);
    let watchdog = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = Command::new("kill").arg(pid.to_string()).status();
    });
    let text = std::io::read_to_string(stdout).unwrap_or_default();
    let status = child.wait().expect("the child ends");
    let _ = watchdog.join();
    assert!(status.success(), "the child failed ({status}):\n{text}");
    parse(&text)
}

fn parse(text: &str) -> Report {
    let mut report = Report::default();
    for line in text.lines() {
        // The test harness may have printed on the same line first.
        let line = line.find("HOSTILE-").map_or(line, |at| &line[at..]);
        if let Some(rest) = line.strip_prefix("HOSTILE-EV ") {
            let (us, event) = rest.split_once(' ').unwrap_or((rest, ""));
            let at = Duration::from_micros(us.parse().unwrap_or(0));
            report.events.push((at, event.to_owned()));
        } else if let Some(kb) = line.strip_prefix("HOSTILE-PEAK ") {
            report.peak_rss_kb = kb.trim().parse().unwrap_or(0);
        }
    }
    report
}
