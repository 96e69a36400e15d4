//! The markdown tables of a scale run.

use std::fmt::Write as _;

use super::Metrics;

/// One client's column: its figures, or why it has none.
pub struct Column {
    /// The client's name.
    pub name: String,
    /// Its figures, or the error that ended its run.
    pub result: Result<Metrics, String>,
}

/// The connection count the memory target is stated for.
const TARGET_CONNECTIONS: f64 = 10_000.0;
/// The memory target (issue #18): client RSS with that many open, in MiB.
const TARGET_RSS_MIB: f64 = 48.0;

/// The open-time target: wsnova-mio at most this many times raw TCP's.
const TARGET_OPEN_RATIO: f64 = 2.0;

/// Converts a stored figure to the unit shown.
type Scale = fn(f64) -> f64;

fn kib_to_mib(v: f64) -> f64 {
    v / 1024.0
}

fn identity(v: f64) -> f64 {
    v
}

fn get(column: &Column, key: &str) -> Option<f64> {
    column.result.as_ref().ok()?.get(key).copied()
}

fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The results table, the targets table and any errors.
pub fn render(columns: &[Column], connections: usize) -> String {
    let n = thousands(connections as f64);
    // (label, key, scale, decimals)
    let rows: [(String, &str, Scale, usize); 11] = [
        (format!("open {n} connections (ms)"), "open_ms", identity, 1),
        (
            "client RSS before opening (MiB)".into(),
            "rss_before_kib",
            kib_to_mib,
            1,
        ),
        (
            format!("client RSS with {n} open (MiB)"),
            "rss_after_kib",
            kib_to_mib,
            1,
        ),
        (
            "RSS per connection (KiB)".into(),
            "rss_per_conn_kib",
            identity,
            2,
        ),
        (
            "allocated per connection, VmData (KiB)".into(),
            "data_per_conn_kib",
            identity,
            2,
        ),
        (
            "broadcast: trigger → first connection (ms)".into(),
            "bcast_first_ms",
            identity,
            2,
        ),
        (
            "broadcast: trigger → median connection (ms)".into(),
            "bcast_median_ms",
            identity,
            2,
        ),
        (
            "broadcast: trigger → last connection (ms)".into(),
            "bcast_last_ms",
            identity,
            2,
        ),
        (
            "client CPU, trigger → last connection (ms)".into(),
            "bcast_cpu_ms",
            identity,
            2,
        ),
        (
            format!("server: writing {n} frames (ms)"),
            "server_send_ms",
            identity,
            2,
        ),
        (
            "peak client RSS (MiB)".into(),
            "peak_rss_kib",
            kib_to_mib,
            1,
        ),
    ];
    let mut out = String::new();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let column = |name: &str| columns.iter().find(|c| c.name == name);
    // tokio-tungstenite ÷ wsnova-mio, when both ran.
    let pair = column("wsnova-mio").zip(column("tokio-tungstenite"));
    let _ = write!(out, "| metric | {} |", names.join(" | "));
    if pair.is_some() {
        let _ = write!(out, " tokio-tungstenite ÷ wsnova-mio |");
    }
    out.push('\n');
    out.push_str("|---|");
    for _ in 0..columns.len() + usize::from(pair.is_some()) {
        out.push_str("---:|");
    }
    out.push('\n');
    for (label, key, scale, decimals) in &rows {
        let _ = write!(out, "| {label} |");
        for column in columns {
            match get(column, key) {
                Some(v) => {
                    let _ = write!(out, " {:.*} |", *decimals, scale(v));
                }
                None => out.push_str(" — |"),
            }
        }
        if let Some((mio, tungstenite)) = pair {
            match (get(mio, key), get(tungstenite, key)) {
                (Some(a), Some(b)) if a > 0.0 => {
                    let _ = write!(out, " {:.2}× |", b / a);
                }
                _ => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }

    if let Some(mio) = column("wsnova-mio") {
        out.push_str("\n| target | wsnova-mio | met |\n|---|---|:---:|\n");
        let yes = |ok: bool| if ok { "yes" } else { "no" };
        if let (Some(before), Some(after), Some(per)) = (
            get(mio, "rss_before_kib"),
            get(mio, "rss_after_kib"),
            get(mio, "rss_per_conn_kib"),
        ) {
            let (mib, how) = if connections as f64 >= TARGET_CONNECTIONS {
                (
                    kib_to_mib(after),
                    format!("{:.1} MiB with {n} open", kib_to_mib(after)),
                )
            } else {
                let projected = kib_to_mib(before + per * TARGET_CONNECTIONS);
                (
                    projected,
                    format!(
                        "{:.1} MiB with {n} open; {projected:.1} MiB projected for 10,000",
                        kib_to_mib(after)
                    ),
                )
            };
            let _ = writeln!(
                out,
                "| 10,000 plain connections in at most {TARGET_RSS_MIB:.0} MiB of client RSS | {how} | {} |",
                yes(mib <= TARGET_RSS_MIB)
            );
        }
        if let (Some(mine), Some(raw)) = (
            get(mio, "open_ms"),
            column("raw-tcp").and_then(|c| get(c, "open_ms")),
        ) {
            let ratio = mine / raw.max(f64::MIN_POSITIVE);
            let _ = writeln!(
                out,
                "| {n} connections opened on one mio loop within {TARGET_OPEN_RATIO:.0}× raw TCP's time | \
                 {mine:.1} ms vs {raw:.1} ms: {ratio:.2}× | {} |",
                yes(ratio <= TARGET_OPEN_RATIO)
            );
        }
        if let (Some(mine), Some(theirs)) = (
            get(mio, "bcast_last_ms"),
            column("tokio-tungstenite").and_then(|c| get(c, "bcast_last_ms")),
        ) {
            let _ = writeln!(
                out,
                "| broadcast reaches every connection sooner than tokio-tungstenite | \
                 {mine:.2} ms vs {theirs:.2} ms (last connection) | {} |",
                yes(mine < theirs)
            );
        }
    }

    for column in columns {
        if let Err(e) = &column.result {
            let _ = writeln!(out, "\n{}: failed: {e}", column.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, figures: &[(&str, f64)]) -> Column {
        let metrics = figures.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        Column {
            name: name.into(),
            result: Ok(metrics),
        }
    }

    #[test]
    fn open_time_is_compared_with_raw_tcp_of_the_same_run() {
        let columns = [
            column("wsnova-mio", &[("open_ms", 300.0)]),
            column("tokio-tungstenite", &[("open_ms", 600.0)]),
            column("raw-tcp", &[("open_ms", 100.0)]),
        ];
        let table = render(&columns, 10_000);
        assert!(
            table.contains("| open 10,000 connections (ms) | 300.0 | 600.0 | 100.0 | 2.00× |"),
            "{table}"
        );
        assert!(
            table.contains("within 2× raw TCP's time | 300.0 ms vs 100.0 ms: 3.00× | no |"),
            "{table}"
        );
        let faster = [
            column("wsnova-mio", &[("open_ms", 150.0)]),
            column("raw-tcp", &[("open_ms", 100.0)]),
        ];
        let table = render(&faster, 10_000);
        assert!(table.contains("1.50× | yes |"), "{table}");
        assert!(
            !table.contains("÷"),
            "no ratio column without tokio-tungstenite: {table}"
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(10_000.0), "10,000");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
