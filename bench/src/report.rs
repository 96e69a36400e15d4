//! The markdown report: one column per client, one row per metric, ratio
//! columns and a targets table once the wsnova column has numbers.

use std::fmt::Write as _;

use crate::measure::{self, LARGE, Metrics, Plan, SMALL};

/// Name of the client the ratios are about.
pub const WSNOVA: &str = "wsnova";
/// Name of the tokio-tungstenite column.
pub const TUNGSTENITE: &str = "tokio-tungstenite";
/// Name of the raw-TCP column.
pub const RAW: &str = "raw-tcp";

/// One client's outcome.
#[derive(Debug, Clone)]
pub struct Column {
    /// The client's name.
    pub name: String,
    /// Its metrics, or why it has none.
    pub result: Result<Metrics, String>,
}

impl Column {
    fn get(&self, key: &str) -> Option<f64> {
        self.result.as_ref().ok()?.get(key).copied()
    }
}

struct Row {
    label: String,
    key: &'static str,
    scale: f64,
    format: fn(f64) -> String,
}

impl Row {
    fn value(&self, column: &Column) -> Option<f64> {
        column.get(self.key).map(|v| v * self.scale)
    }
}

/// `1234567.8` → `1,234,568`.
pub fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if value < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
}

fn rows(plan: &Plan) -> Vec<Row> {
    const MIB: f64 = 1024.0 * 1024.0;
    let small = SMALL as f64 / MIB;
    let large = LARGE as f64 / MIB;
    vec![
        Row {
            label: format!("RTT p50, {SMALL} B (µs)"),
            key: measure::RTT_P50_US,
            scale: 1.0,
            format: one_decimal,
        },
        Row {
            label: format!("RTT p99, {SMALL} B (µs)"),
            key: measure::RTT_P99_US,
            scale: 1.0,
            format: one_decimal,
        },
        Row {
            label: format!(
                "{} × {SMALL} B pipelined (msg/s)",
                grouped(plan.small_n as f64)
            ),
            key: measure::SMALL_MSGS_PER_S,
            scale: 1.0,
            format: grouped,
        },
        Row {
            label: format!(
                "{} × {SMALL} B pipelined (MiB/s)",
                grouped(plan.small_n as f64)
            ),
            key: measure::SMALL_MSGS_PER_S,
            scale: small,
            format: grouped,
        },
        Row {
            label: format!(
                "{} × 16 KiB pipelined (msg/s)",
                grouped(plan.large_n as f64)
            ),
            key: measure::LARGE_MSGS_PER_S,
            scale: 1.0,
            format: grouped,
        },
        Row {
            label: format!(
                "{} × 16 KiB pipelined (MiB/s)",
                grouped(plan.large_n as f64)
            ),
            key: measure::LARGE_MSGS_PER_S,
            scale: large,
            format: grouped,
        },
        Row {
            label: format!("open {} connections (ms)", grouped(plan.conns as f64)),
            key: measure::OPEN_MS,
            scale: 1.0,
            format: one_decimal,
        },
        Row {
            label: "memory per idle connection, RSS (KiB)".into(),
            key: measure::IDLE_RSS_KIB,
            scale: 1.0,
            format: one_decimal,
        },
        Row {
            label: "memory per idle connection, allocated (KiB)".into(),
            key: measure::IDLE_DATA_KIB,
            scale: 1.0,
            format: one_decimal,
        },
        Row {
            label: "peak RSS (MiB)".into(),
            key: measure::PEAK_RSS_KIB,
            scale: 1.0 / 1024.0,
            format: one_decimal,
        },
    ]
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn times(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| format!("{r:.2}×"))
}

/// Renders the results table (and, with a wsnova column, the targets table).
pub fn render(columns: &[Column], plan: &Plan) -> String {
    let find = |name: &str| columns.iter().find(|c| c.name == name);
    let wsnova = find(WSNOVA).filter(|c| c.result.is_ok());
    let mut comparisons = Vec::new();
    if let Some(w) = wsnova {
        for other in [TUNGSTENITE, RAW] {
            if let Some(o) = find(other) {
                comparisons.push((format!("{WSNOVA} ÷ {other}"), w, o));
            }
        }
    }

    let mut out = String::new();
    let mut header = "| metric |".to_string();
    let mut rule = "|---|".to_string();
    for name in columns
        .iter()
        .map(|c| c.name.as_str())
        .chain(comparisons.iter().map(|(n, ..)| n.as_str()))
    {
        let _ = write!(header, " {name} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for row in rows(plan) {
        let mut line = format!("| {} |", row.label);
        for column in columns {
            let cell = match (&column.result, row.value(column)) {
                (Err(_), _) => "error".to_string(),
                (Ok(_), Some(v)) => (row.format)(v),
                (Ok(_), None) => "n/a".to_string(),
            };
            let _ = write!(line, " {cell} |");
        }
        for (_, w, o) in &comparisons {
            let _ = write!(line, " {} |", times(ratio(row.value(w), row.value(o))));
        }
        let _ = writeln!(out, "{line}");
    }
    for column in columns {
        if let Err(e) = &column.result {
            let _ = writeln!(out, "\n{}: error: {e}", column.name);
        }
    }

    if let Some(w) = wsnova {
        let get = |name: &str, key: &str| find(name).and_then(|c| c.get(key));
        let small = measure::SMALL_MSGS_PER_S;
        let large = measure::LARGE_MSGS_PER_S;
        let p50 = measure::RTT_P50_US;
        let targets: [(&str, Option<f64>, bool, f64, bool); 6] = [
            (
                "64 B pipelined ≥ 1.5× tokio-tungstenite",
                ratio(w.get(small), get(TUNGSTENITE, small)),
                true,
                1.5,
                true,
            ),
            (
                "64 B pipelined ≥ 0.6× raw TCP",
                ratio(w.get(small), get(RAW, small)),
                true,
                0.6,
                true,
            ),
            (
                "16 KiB pipelined ≥ 0.9× raw TCP",
                ratio(w.get(large), get(RAW, large)),
                true,
                0.9,
                true,
            ),
            (
                "p50 RTT ≤ 1.05× raw TCP",
                ratio(w.get(p50), get(RAW, p50)),
                false,
                1.05,
                true,
            ),
            (
                "idle memory per connection (RSS) ≤ 8 KiB",
                w.get(measure::IDLE_RSS_KIB),
                false,
                8.0,
                false,
            ),
            // The "tokio-tungstenite holds ~130 KiB" is this figure.
            (
                "idle memory per connection (allocated) ≤ 8 KiB",
                w.get(measure::IDLE_DATA_KIB),
                false,
                8.0,
                false,
            ),
        ];
        let _ = writeln!(
            out,
            "\n| wsnova target | measured | met |\n|---|---:|:---:|"
        );
        for (label, value, at_least, bound, is_ratio) in targets {
            let measured = match value {
                Some(v) if is_ratio => format!("{v:.2}×"),
                Some(v) => format!("{v:.1} KiB"),
                None => "n/a".into(),
            };
            let met = match value {
                Some(v) if (at_least && v >= bound) || (!at_least && v <= bound) => "yes",
                Some(_) => "**no**",
                None => "n/a",
            };
            let _ = writeln!(out, "| {label} | {measured} | {met} |");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, scale: f64) -> Column {
        let mut m = Metrics::new();
        m.insert(measure::RTT_P50_US.into(), 20.0 * scale);
        m.insert(measure::RTT_P99_US.into(), 40.0 * scale);
        m.insert(measure::SMALL_MSGS_PER_S.into(), 1_000_000.0 / scale);
        m.insert(measure::LARGE_MSGS_PER_S.into(), 100_000.0 / scale);
        m.insert(measure::OPEN_MS.into(), 100.0 * scale);
        m.insert(measure::IDLE_RSS_KIB.into(), 4.0 * scale);
        m.insert(measure::IDLE_DATA_KIB.into(), 6.0 * scale);
        m.insert(measure::PEAK_RSS_KIB.into(), 10_240.0 * scale);
        Column {
            name: name.into(),
            result: Ok(m),
        }
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0.0), "0");
        assert_eq!(grouped(999.4), "999");
        assert_eq!(grouped(1000.0), "1,000");
        assert_eq!(grouped(1_234_567.8), "1,234,568");
        assert_eq!(grouped(-4321.0), "-4,321");
    }

    #[test]
    fn without_wsnova_there_are_no_ratios() {
        let text = render(&[column(TUNGSTENITE, 2.0), column(RAW, 1.0)], &Plan::full());
        assert!(text.starts_with("| metric | tokio-tungstenite | raw-tcp |\n|---|---:|---:|\n"));
        assert!(text.contains("| RTT p50, 64 B (µs) | 40.0 | 20.0 |"));
        assert!(text.contains("| 200,000 × 64 B pipelined (msg/s) | 500,000 | 1,000,000 |"));
        assert!(text.contains("| open 1,000 connections (ms) | 200.0 | 100.0 |"));
        assert!(!text.contains('÷') && !text.contains("target"));
    }

    #[test]
    fn wsnova_gets_ratio_columns_and_targets() {
        let columns = [
            column(WSNOVA, 1.0),
            column(TUNGSTENITE, 2.0),
            column(RAW, 0.5),
        ];
        let text = render(&columns, &Plan::quick());
        assert!(text.contains("| wsnova ÷ tokio-tungstenite | wsnova ÷ raw-tcp |"));
        assert!(text.contains(
            "| 20,000 × 64 B pipelined (msg/s) | 1,000,000 | 500,000 | 2,000,000 | 2.00× | 0.50× |"
        ));
        assert!(text.contains("| 64 B pipelined ≥ 1.5× tokio-tungstenite | 2.00× | yes |"));
        assert!(text.contains("| 64 B pipelined ≥ 0.6× raw TCP | 0.50× | **no** |"));
        assert!(text.contains("| p50 RTT ≤ 1.05× raw TCP | 2.00× | **no** |"));
        assert!(text.contains("| idle memory per connection (RSS) ≤ 8 KiB | 4.0 KiB | yes |"));
        assert!(
            text.contains("| idle memory per connection (allocated) ≤ 8 KiB | 6.0 KiB | yes |")
        );
    }

    #[test]
    fn failed_columns_say_so() {
        let failed = Column {
            name: WSNOVA.into(),
            result: Err("not wired".into()),
        };
        let text = render(&[failed, column(RAW, 1.0)], &Plan::full());
        assert!(text.contains("| RTT p50, 64 B (µs) | error | 20.0 |"));
        assert!(text.contains("wsnova: error: not wired"));
        assert!(!text.contains("target"));
    }
}
