//! The markdown report: one column per client, a row per metric and CPU
//! placement, each cell the median with the min–max range over rounds, and
//! ratio columns of the wsnova clients against sockudo-ws and
//! tokio-tungstenite (medians of the same run).

use std::fmt::Write as _;

use crate::measure::{self, LARGE, Metrics, Plan, SMALL};

/// The wsnova clients that get ratio columns.
pub const WSNOVA: [&str; 2] = ["wsnova-tokio", "wsnova-mio"];
/// The peers the ratios are against.
pub const PEERS: [&str; 2] = ["sockudo-ws", "tokio-tungstenite"];

/// One client's runs, per placement.
#[derive(Debug, Clone)]
pub struct Column {
    /// The client's name.
    pub name: String,
    /// Per placement (`same`, `split`, …), the metrics of every round.
    pub runs: Vec<(String, Vec<Metrics>)>,
    /// Why it stopped, if it failed.
    pub error: Option<String>,
}

impl Column {
    /// An empty column for `name` with these placements.
    pub fn new<'a>(name: &str, placements: impl Iterator<Item = &'a str>) -> Self {
        Self {
            name: name.to_string(),
            runs: placements.map(|p| (p.to_string(), Vec::new())).collect(),
            error: None,
        }
    }

    /// Adds one round's metrics in `placement`.
    pub fn push(&mut self, placement: &str, metrics: Metrics) {
        if let Some((_, runs)) = self.runs.iter_mut().find(|(p, _)| p == placement) {
            runs.push(metrics);
        }
    }

    /// Median, min and max of `key` over the rounds in `placement`.
    fn stats(&self, placement: &str, key: &str) -> Option<Stats> {
        let (_, runs) = self.runs.iter().find(|(p, _)| p == placement)?;
        let mut values: Vec<f64> = runs.iter().filter_map(|m| m.get(key).copied()).collect();
        values.sort_by(f64::total_cmp);
        Some(Stats {
            median: *values.get(values.len() / 2)?,
            min: values[0],
            max: values[values.len() - 1],
            n: values.len(),
        })
    }
}

/// Median (upper median for an even count), min and max of some rounds.
#[derive(Debug, Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
    n: usize,
}

struct Row {
    label: String,
    key: &'static str,
    scale: f64,
    decimals: usize,
}

/// `1234567.8` → `1,234,568` (with `decimals` after the point).
pub fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if value < 0.0 && !text.trim_start_matches(['0', '.']).is_empty() {
        out.insert(0, '-');
    }
    out
}

fn rows(plan: &Plan) -> Vec<Row> {
    let row = |label: String, key, scale, decimals| Row {
        label,
        key,
        scale,
        decimals,
    };
    vec![
        row(
            format!("{SMALL} B pipelined (M msg/s)"),
            measure::SMALL_MSGS_PER_S,
            1e-6,
            2,
        ),
        row(
            "16 KiB pipelined (MB/s)".into(),
            measure::LARGE_MSGS_PER_S,
            LARGE as f64 / 1e6,
            0,
        ),
        row(
            format!("RTT p50, {SMALL} B (µs)"),
            measure::RTT_P50_US,
            1.0,
            1,
        ),
        row(
            format!("RTT p99, {SMALL} B (µs)"),
            measure::RTT_P99_US,
            1.0,
            1,
        ),
        row(
            format!("idle memory / connection, RSS ({} conns, KiB)", plan.conns),
            measure::IDLE_RSS_KIB,
            1.0,
            1,
        ),
        row(
            "idle memory / connection, allocated (KiB)".into(),
            measure::IDLE_DATA_KIB,
            1.0,
            1,
        ),
        row(
            format!("open {} connections (ms)", plan.conns),
            measure::OPEN_MS,
            1.0,
            0,
        ),
        row(
            "max RSS in the 16 KiB run (MiB)".into(),
            measure::PEAK_RSS_KIB,
            1.0 / 1024.0,
            1,
        ),
    ]
}

fn cell(stats: Option<Stats>, row: &Row) -> String {
    match stats {
        None => "n/a".into(),
        Some(s) if s.n == 1 => grouped(s.median * row.scale, row.decimals),
        Some(s) => format!(
            "{} ({}–{})",
            grouped(s.median * row.scale, row.decimals),
            grouped(s.min * row.scale, row.decimals),
            grouped(s.max * row.scale, row.decimals)
        ),
    }
}

/// Renders the results table.
pub fn render(columns: &[Column], plan: &Plan) -> String {
    let find = |name: &str| columns.iter().find(|c| c.name == name && c.error.is_none());
    let mut ratios = Vec::new();
    for w in WSNOVA.iter().filter_map(|n| find(n)) {
        for p in PEERS.iter().filter_map(|n| find(n)) {
            ratios.push((format!("{} ÷ {}", w.name, p.name), w, p));
        }
    }
    let placements: Vec<&str> = columns
        .first()
        .map(|c| c.runs.iter().map(|(p, _)| p.as_str()).collect())
        .unwrap_or_default();

    let mut out = String::new();
    let mut header = "| metric | CPUs |".to_string();
    let mut rule = "|---|---|".to_string();
    for name in columns
        .iter()
        .map(|c| c.name.as_str())
        .chain(ratios.iter().map(|(n, ..)| n.as_str()))
    {
        let _ = write!(header, " {name} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for row in rows(plan) {
        for placement in &placements {
            let mut line = format!("| {} | {placement} |", row.label);
            for column in columns {
                let text = match &column.error {
                    Some(_) => "error".to_string(),
                    None => cell(column.stats(placement, row.key), &row),
                };
                let _ = write!(line, " {text} |");
            }
            for (_, w, p) in &ratios {
                let ratio = match (w.stats(placement, row.key), p.stats(placement, row.key)) {
                    (Some(a), Some(b)) if b.median > 0.0 => format!("{:.2}×", a.median / b.median),
                    _ => "n/a".into(),
                };
                let _ = write!(line, " {ratio} |");
            }
            let _ = writeln!(out, "{line}");
        }
    }
    for column in columns {
        if let Some(e) = &column.error {
            let _ = writeln!(out, "\n{}: error: {e}", column.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(scale: f64) -> Metrics {
        let mut m = Metrics::new();
        m.insert(measure::RTT_P50_US.into(), 20.0 * scale);
        m.insert(measure::RTT_P99_US.into(), 40.0 * scale);
        m.insert(measure::SMALL_MSGS_PER_S.into(), 1_000_000.0 / scale);
        m.insert(measure::LARGE_MSGS_PER_S.into(), 100_000.0 / scale);
        m.insert(measure::OPEN_MS.into(), 100.0 * scale);
        m.insert(measure::IDLE_RSS_KIB.into(), 4.0 * scale);
        m.insert(measure::IDLE_DATA_KIB.into(), 6.0 * scale);
        m.insert(measure::PEAK_RSS_KIB.into(), 10_240.0 * scale);
        m
    }

    fn column(name: &str, scales: &[f64]) -> Column {
        let mut c = Column::new(name, ["same", "split"].into_iter());
        for s in scales {
            c.push("same", metrics(*s));
            c.push("split", metrics(*s * 2.0));
        }
        c
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0.0, 0), "0");
        assert_eq!(grouped(999.4, 0), "999");
        assert_eq!(grouped(1000.0, 0), "1,000");
        assert_eq!(grouped(1_234_567.8, 0), "1,234,568");
        assert_eq!(grouped(-4321.0, 0), "-4,321");
        assert_eq!(grouped(1234.567, 2), "1,234.57");
    }

    #[test]
    fn cells_give_median_and_range_per_placement() {
        let text = render(&[column("raw-tcp", &[1.0, 2.0, 4.0])], &Plan::full());
        assert!(text.starts_with("| metric | CPUs | raw-tcp |\n|---|---|---:|\n"));
        assert!(text.contains("| RTT p50, 64 B (µs) | same | 40.0 (20.0–80.0) |"));
        assert!(text.contains("| RTT p50, 64 B (µs) | split | 80.0 (40.0–160.0) |"));
        assert!(text.contains("| 64 B pipelined (M msg/s) | same | 0.50 (0.25–1.00) |"));
        assert!(!text.contains('÷'));
    }

    #[test]
    fn wsnova_columns_get_ratios_against_both_peers() {
        let columns = [
            column("wsnova-tokio", &[1.0]),
            column("sockudo-ws", &[2.0]),
            column("tokio-tungstenite", &[0.5]),
        ];
        let text = render(&columns, &Plan::quick());
        assert!(text.contains("| wsnova-tokio ÷ sockudo-ws | wsnova-tokio ÷ tokio-tungstenite |"));
        assert!(
            text.contains(
                "| 64 B pipelined (M msg/s) | same | 1.00 | 0.50 | 2.00 | 2.00× | 0.50× |"
            )
        );
        assert!(!text.contains("wsnova-mio ÷"));
    }

    #[test]
    fn failed_columns_say_so() {
        let mut failed = column("wsnova-tokio", &[]);
        failed.error = Some("not wired".into());
        let text = render(&[failed, column("raw-tcp", &[1.0])], &Plan::full());
        assert!(text.contains("| RTT p50, 64 B (µs) | same | error | 20.0 |"));
        assert!(text.contains("wsnova-tokio: error: not wired"));
        assert!(!text.contains('÷'));
    }
}
