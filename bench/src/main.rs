//! `wsnova-bench`: wsnova-tokio and wsnova-mio beside sockudo-ws,
//! tokio-websockets, fastwebsockets, tokio-tungstenite and raw TCP, against
//! an echo server in a separate process.
//!
//! ```text
//! cargo run --release -p wsnova-bench [-- --quick] [-- --only CLIENT[,CLIENT]]
//! cargo run --release -p wsnova-bench -- --callgrind
//! ```
//!
//! The parent process starts two echo servers, `--serve ws` and `--serve raw`
//! (this same binary running `wsnova_bench::server`, the code of the
//! `echo_server` binary; `--server-bin target/release/echo_server` uses that
//! one instead), pinned to one CPU. It then runs each client in a child
//! process of its own (`--child NAME`), so RSS figures are that client's
//! alone, with the client on the servers' CPU ("same") and on the other one
//! ("split"), clients and placements interleaved round after round, and
//! prints a markdown table: median and min–max range over the rounds, and
//! the wsnova clients' ratios to sockudo-ws and tokio-tungstenite.

mod callgrind;
mod clients;
mod measure;
mod parent;
mod report;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use wsnova_bench::server;

use crate::clients::{Job, Servers};
use crate::measure::{Plan, Workload};

const USAGE: &str = "\
usage: wsnova-bench [--quick] [--only CLIENT[,CLIENT...]] [--rounds N]
                    [--cpus both|same|split|any] [--server-bin PATH]
       wsnova-bench --callgrind [--quick] [--only CLIENT[,CLIENT...]]
       wsnova-bench --idle [--quick] [--only CLIENT[,CLIENT...]] [--rounds N]

  --quick            a smoke run that checks every client works (CI): few
                     messages, 100 connections, one round
  --rounds N         run every client N times, interleaved (default 3)
  --only CLIENT      measure only these clients (repeatable, comma-separated)
  --cpus both        echo servers on one CPU; the client on that CPU (same)
                     and on another (split), interleaved (default)
  --cpus same|split  only one of the two placements
  --cpus any         leave placement to the scheduler
  --server-bin PATH  run this echo server (e.g. target/release/echo_server)
                     instead of this binary's built-in one (`--serve`)
  --callgrind        instructions per message under valgrind's callgrind
  --idle             only the idle connections (memory and open time), each
                     client on the echo servers' CPU, N rounds (default 1)

internal: wsnova-bench --serve [ws|raw] ...   the echo server
          wsnova-bench --child CLIENT --ws PORT --raw PORT [--cpu N] [--quick]
                       [--idle | --workload rtt|small|large --count N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--serve") => server::Options::parse(args[1..].iter().cloned())
            .and_then(|options| server::run(options).map_err(|e| e.to_string())),
        Some("--child") => return child(&args[1..]),
        Some("-h" | "--help") => {
            println!(
                "{USAGE}\n\nclients: {} (default), {} (with --only)",
                clients::names().join(", "),
                clients::extra_names().join(", ")
            );
            Ok(())
        }
        _ => parent(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsnova-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn value<'a>(
    args: &mut impl Iterator<Item = &'a String>,
    flag: &str,
) -> Result<&'a String, String> {
    args.next()
        .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
}

/// Today's date and time (UTC), from `date`, for the report's heading.
pub fn sys_date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "date unknown".into(), |d| d.trim().to_string())
}

fn parent(args: &[String]) -> Result<(), String> {
    let (mut quick, mut only, mut server_bin, mut cpus) = (false, Vec::new(), None, "both");
    let (mut rounds, mut callgrind, mut idle_only) = (None, false, false);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--callgrind" => callgrind = true,
            "--idle" => idle_only = true,
            "--only" => only.extend(value(&mut args, "--only")?.split(',').map(str::to_owned)),
            "--rounds" => {
                let n = value(&mut args, "--rounds")?;
                rounds = Some(n.parse().map_err(|e| format!("--rounds {n:?}: {e}"))?);
            }
            "--cpus" => cpus = value(&mut args, "--cpus")?.as_str(),
            "--server-bin" => server_bin = Some(PathBuf::from(value(&mut args, "--server-bin")?)),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let defaults = clients::names();
    let known: Vec<&'static str> = defaults
        .iter()
        .copied()
        .chain(clients::extra_names())
        .collect();
    if let Some(bad) = only.iter().find(|o| !known.contains(&o.as_str())) {
        return Err(format!(
            "unknown client {bad:?} (known: {})",
            known.join(", ")
        ));
    }
    let clients: Vec<&'static str> = if only.is_empty() {
        defaults
    } else {
        known
            .into_iter()
            .filter(|name| only.iter().any(|o| o == name))
            .collect()
    };
    if callgrind {
        return callgrind::run(&clients, quick, server_bin.as_ref());
    }
    if idle_only {
        return idle(&clients, quick, rounds.unwrap_or(1), server_bin.as_ref());
    }
    parent::run(&parent::Options {
        quick,
        clients,
        rounds: rounds.unwrap_or(if quick { 1 } else { 3 }),
        cpus: cpus.to_string(),
        server_bin,
    })
}

/// `--idle`: each client's idle connections only, `rounds` times, every
/// client in a child process of its own on the echo servers' CPU; prints
/// one line per client and round (KiB per connection and open time).
fn idle(
    clients: &[&'static str],
    quick: bool,
    rounds: usize,
    server_bin: Option<&PathBuf>,
) -> Result<(), String> {
    let cpu = wsnova_bench::sys::allowed_cpus().first().copied();
    let ws = parent::EchoServer::spawn(server_bin, "ws", cpu)?;
    let raw = parent::EchoServer::spawn(server_bin, "raw", cpu)?;
    let spawn = parent::ChildSpawn {
        exe: std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?,
        ws_port: ws.port,
        raw_port: raw.port,
        quick,
    };
    let conns = measure::plan(quick).conns;
    let at = cpu.map_or("unpinned".into(), |c| format!("CPU {c}"));
    println!(
        "idle connections, {conns} per client, servers and clients on {at}, {}\n",
        sys_date()
    );
    println!("| client | round | RSS / conn (KiB) | allocated / conn (KiB) | open {conns} (ms) |");
    println!("|---|---:|---:|---:|---:|");
    for round in 1..=rounds.max(1) {
        for name in clients {
            let mut command = spawn.command(name);
            command.arg("--idle");
            if let Some(cpu) = cpu {
                command.args(["--cpu", &cpu.to_string()]);
            }
            let output = command
                .stderr(std::process::Stdio::inherit())
                .output()
                .map_err(|e| format!("cannot start the {name} run: {e}"))?;
            let metrics = parent::parse_child_output(
                &output.stdout,
                output.status.success(),
                &output.status.to_string(),
            );
            let get = |m: &measure::Metrics, key| m.get(key).copied().unwrap_or(f64::NAN);
            match metrics {
                Ok(m) => println!(
                    "| {name} | {round} | {:.2} | {:.2} | {:.0} |",
                    get(&m, measure::IDLE_RSS_KIB),
                    get(&m, measure::IDLE_DATA_KIB),
                    get(&m, measure::OPEN_MS)
                ),
                Err(e) => println!("| {name} | {round} | failed: {e} | | |"),
            }
        }
    }
    Ok(())
}

fn child(args: &[String]) -> ExitCode {
    let parsed = (|| -> Result<(String, Servers, Plan, Job), String> {
        let mut args = args.iter();
        let name = value(&mut args, "--child")?.clone();
        let (mut ws, mut raw, mut quick, mut cpu) = (None, None, false, None);
        let mut idle_only = false;
        let (mut workload, mut count) = (None, None);
        let number = |n: &String| n.parse::<usize>().map_err(|e| format!("{n:?}: {e}"));
        let port = |s: &String| s.parse::<u16>().map_err(|e| format!("port {s:?}: {e}"));
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--ws" => ws = Some(port(value(&mut args, "--ws")?)?),
                "--raw" => raw = Some(port(value(&mut args, "--raw")?)?),
                "--quick" => quick = true,
                "--idle" => idle_only = true,
                "--cpu" => cpu = Some(number(value(&mut args, "--cpu")?)?),
                "--workload" => {
                    let w = value(&mut args, "--workload")?;
                    workload = Some(Workload::parse(w).ok_or_else(|| format!("--workload {w:?}"))?);
                }
                "--count" => count = Some(number(value(&mut args, "--count")?)?),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        let addr = |p: Option<u16>, which| {
            p.map(|p| SocketAddr::from((Ipv4Addr::LOCALHOST, p)))
                .ok_or(format!("--child needs --{which} PORT"))
        };
        let servers = Servers {
            websocket: addr(ws, "ws")?,
            raw: addr(raw, "raw")?,
        };
        let plan = Plan {
            cpu,
            idle_only,
            ..measure::plan(quick)
        };
        let job = match workload {
            Some(w) => Job::Workload(w, count.unwrap_or_else(|| callgrind::count(w, quick))),
            None => Job::Measure,
        };
        Ok((name, servers, plan, job))
    })();
    let outcome = parsed.and_then(|(name, servers, plan, job)| {
        if let Some(cpu) = plan.cpu {
            wsnova_bench::sys::pin_to_cpu(cpu).map_err(|e| e.to_string())?;
        }
        if let Err(e) = wsnova_bench::sys::raise_nofile_limit() {
            eprintln!("  cannot raise RLIMIT_NOFILE: {e}");
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime
            .block_on(clients::run(&name, servers, &plan, job))
            .map_err(|e| e.to_string())
    });
    match outcome {
        Ok(metrics) => {
            for (key, value) in metrics {
                println!("METRIC {key} {value}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("ERROR {e}");
            eprintln!("  error: {e}");
            ExitCode::FAILURE
        }
    }
}
