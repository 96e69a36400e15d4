//! `wsnova-bench --callgrind`: instructions per message, counted by
//! valgrind's callgrind, which stays put on a noisy machine where timings
//! do not.
//!
//! Each client runs each workload (64 B round trips, 64 B pipelined, 16 KiB
//! pipelined) twice in a child process under callgrind, with `n` and `2n`
//! messages; the difference of the two totals divided by `n` is the cost of
//! one message with the connection's setup, the runtime's start and the
//! process's exit taken out. The echo servers run natively.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::measure::Workload;
use crate::parent::{ChildSpawn, EchoServer, parse_child_output};

/// Messages in the shorter run of each workload (the longer has twice as
/// many).
pub fn count(workload: Workload, quick: bool) -> usize {
    let n = match workload {
        Workload::RoundTrip => 2_000,
        Workload::Small => 20_000,
        Workload::Large => 1_000,
    };
    if quick { n / 10 } else { n }
}

/// The total instructions (`summary:` or `totals:` line) of a callgrind
/// output file.
pub fn total_instructions(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Runs `name` doing `n` messages of `workload` under callgrind; its total
/// instructions.
fn instructions(
    spawn: &ChildSpawn,
    dir: &Path,
    name: &str,
    workload: Workload,
    n: usize,
) -> Result<u64, String> {
    let out = dir.join(format!("callgrind.{name}.{}.{n}", workload.name()));
    let child = spawn.command(name);
    let mut command = std::process::Command::new("valgrind");
    command
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(child.get_program())
        .args(child.get_args())
        .args(["--workload", workload.name(), "--count", &n.to_string()]);
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start valgrind: {e}"))?;
    parse_child_output(
        &output.stdout,
        output.status.success(),
        &output.status.to_string(),
    )?;
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    total_instructions(&text).ok_or_else(|| format!("{}: no totals line", out.display()))
}

/// Measures every client and prints a markdown table.
pub fn run(clients: &[&str], quick: bool, server_bin: Option<&PathBuf>) -> Result<(), String> {
    let ws = EchoServer::spawn(server_bin, "ws", None)?;
    let raw = EchoServer::spawn(server_bin, "raw", None)?;
    let spawn = ChildSpawn {
        exe: std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?,
        ws_port: ws.port,
        raw_port: raw.port,
        quick,
    };
    let dir = std::env::temp_dir();
    let mut table = String::from(
        "| client | instructions / 64 B round trip | instructions / 64 B pipelined message \
         | instructions / 16 KiB pipelined message |\n|---|---:|---:|---:|\n",
    );
    for name in clients {
        let _ = write!(table, "| {name} |");
        for workload in Workload::ALL {
            let n = count(workload, quick);
            eprintln!(
                "{name}: {} × {n} and × {} under callgrind",
                workload.name(),
                2 * n
            );
            let cell = instructions(&spawn, &dir, name, workload, n).and_then(|once| {
                let twice = instructions(&spawn, &dir, name, workload, 2 * n)?;
                Ok(twice.saturating_sub(once) as f64 / n as f64)
            });
            let _ = match cell {
                Ok(per) => write!(table, " {} |", crate::report::grouped(per, 0)),
                Err(e) => {
                    eprintln!("  {name} {}: {e}", workload.name());
                    write!(table, " error |")
                }
            };
        }
        table.push('\n');
    }
    drop((ws, raw));
    println!(
        "wsnova-bench --callgrind{}: instructions per message in user space and in the \
         client process only, (total of a run with 2n messages − total with n) / n\n",
        if quick { " --quick" } else { "" }
    );
    print!("{table}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_totals_line() {
        let text = "events: Ir\nfl=x\n1 2\nsummary: 123456\n";
        assert_eq!(total_instructions(text), Some(123_456));
        assert_eq!(total_instructions("totals: 42 7\n"), Some(42));
        assert_eq!(total_instructions("events: Ir\n"), None);
    }
}
