//! `wsnova-bench`: wsnova-tokio, tokio-tungstenite and raw TCP side by side
//! against an echo server in a separate process.
//!
//! ```text
//! cargo run --release -p wsnova-bench [-- --quick] [-- --only CLIENT[,CLIENT]]
//! ```
//!
//! The parent process starts two echo servers, `--serve ws` and `--serve raw`
//! (this same binary running `wsnova_bench::server`, the code of the
//! `echo_server` binary: `cargo run` builds only this binary, so a sibling
//! `echo_server` could be missing or stale; `--server-bin
//! target/release/echo_server` uses that one instead). It then runs each
//! client in a child process of its own (`--child NAME`), so RSS figures are
//! that client's alone, in interleaved rounds, and prints a markdown table of
//! the medians. Everything runs on tokio current-thread runtimes; by default
//! the servers are pinned to one CPU and the client to the other, except for
//! the round trips, measured with the client on the servers' CPU (a
//! cross-CPU wake-up on this VM costs ~100 µs and hides what a client adds).

mod clients;
mod measure;
mod report;

use std::io::{BufRead as _, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};

use wsnova_bench::server;

use crate::clients::Servers;
use crate::measure::Plan;
use crate::report::Column;

const USAGE: &str = "\
usage: wsnova-bench [--quick] [--only CLIENT[,CLIENT...]] [--rounds N]
                    [--cpus split|same|any] [--server-bin PATH]

  --quick            a smoke run: a tenth of the messages, one round
  --rounds N         run every client N times, interleaved, and report
                     medians (default 3; 1 with --quick)
  --only CLIENT      measure only these clients (repeatable, comma-separated)
  --cpus split       echo servers on one CPU, the client on another, but on
                     the servers' CPU for the round trips (default)
  --cpus same        all on one CPU
  --cpus any         leave placement to the scheduler
  --server-bin PATH  run this echo server (e.g. target/release/echo_server)
                     instead of this binary's built-in one (`--serve`)

internal: wsnova-bench --serve [ws|raw] ...   the echo server
          wsnova-bench --child CLIENT --ws PORT --raw PORT [--cpu N] [--rtt-cpu N] [--quick]";

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

fn plan(quick: bool) -> Plan {
    if quick { Plan::quick() } else { Plan::full() }
}

fn value<'a>(
    args: &mut impl Iterator<Item = &'a String>,
    flag: &str,
) -> Result<&'a String, String> {
    args.next()
        .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
}

/// An echo server process; killed when dropped.
struct EchoServer {
    child: Child,
    // Held open: the server exits by itself when it closes (we died).
    _stdin: Option<ChildStdin>,
    port: u16,
}

impl EchoServer {
    fn spawn(server_bin: Option<&PathBuf>, mode: &str, cpu: Option<usize>) -> Result<Self, String> {
        let mut command = match server_bin {
            Some(bin) => Command::new(bin),
            None => {
                let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
                let mut command = Command::new(exe);
                command.arg("--serve");
                command
            }
        };
        if let Some(cpu) = cpu {
            command.args(["--cpu", &cpu.to_string()]);
        }
        let mut child = command
            .args([mode, "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the {mode} echo server: {e}"))?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .map_err(|e| e.to_string());
        let port = read.and_then(|_| {
            line.trim()
                .strip_prefix("LISTENING ")
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| {
                    format!("the {mode} echo server said {line:?}, not LISTENING <port>")
                })
        });
        let mut server = Self {
            child,
            _stdin: stdin,
            port: 0,
        };
        // On error, dropping `server` kills the process.
        server.port = port?;
        Ok(server)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How to start one client's measurement process.
struct ChildSpawn {
    exe: PathBuf,
    ws_port: u16,
    raw_port: u16,
    cpu: Option<usize>,
    rtt_cpu: Option<usize>,
    quick: bool,
}

impl ChildSpawn {
    /// Runs `--child name` and collects its `METRIC` lines.
    fn run(&self, name: &str) -> Result<measure::Metrics, String> {
        let mut command = Command::new(&self.exe);
        command.args(["--child", name]);
        command.args([
            "--ws",
            &self.ws_port.to_string(),
            "--raw",
            &self.raw_port.to_string(),
        ]);
        if let Some(cpu) = self.cpu {
            command.args(["--cpu", &cpu.to_string()]);
        }
        if let Some(cpu) = self.rtt_cpu {
            command.args(["--rtt-cpu", &cpu.to_string()]);
        }
        if self.quick {
            command.arg("--quick");
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot start the {name} run: {e}"))?;
        let mut metrics = measure::Metrics::new();
        let mut error = None;
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            if let Some(e) = line.strip_prefix("ERROR ") {
                error = Some(e.to_string());
            } else if let Some((key, v)) =
                line.strip_prefix("METRIC ").and_then(|r| r.split_once(' '))
            {
                if let Ok(v) = v.parse() {
                    metrics.insert(key.to_string(), v);
                }
            }
        }
        match (output.status.success(), error) {
            (true, None) => Ok(metrics),
            (_, Some(e)) => Err(e),
            (false, None) => Err(format!("the run ended with {}", output.status)),
        }
    }
}

fn parent(args: &[String]) -> Result<(), String> {
    let (mut quick, mut only, mut server_bin, mut cpus) = (false, Vec::new(), None, "split");
    let mut rounds = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
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
    let known: Vec<&str> = defaults
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
    let selected: Vec<&str> = if only.is_empty() {
        defaults
    } else {
        known
            .into_iter()
            .filter(|name| only.iter().any(|o| o == name))
            .collect()
    };

    let allowed = wsnova_bench::sys::allowed_cpus();
    let (server_cpu, client_cpu, rtt_cpu, placement) = match (cpus, allowed.as_slice()) {
        ("any", _) | (_, []) => (None, None, None, "no CPU pinning".to_string()),
        ("same", [cpu, ..]) | ("split", [cpu]) => (
            Some(*cpu),
            Some(*cpu),
            None,
            format!("servers and client pinned to CPU {cpu}"),
        ),
        ("split", [server, client, ..]) => (
            Some(*server),
            Some(*client),
            Some(*server),
            format!(
                "servers pinned to CPU {server}, client to CPU {client} \
                 (to CPU {server} for the round trips)"
            ),
        ),
        (other, _) => return Err(format!("--cpus {other:?}: expected same, split or any")),
    };

    let ws = EchoServer::spawn(server_bin.as_ref(), "ws", server_cpu)?;
    let raw = EchoServer::spawn(server_bin.as_ref(), "raw", server_cpu)?;
    let mode = if quick { "quick" } else { "full" };
    eprintln!(
        "wsnova-bench ({mode}, {placement}): echo servers on 127.0.0.1:{} (ws) and :{} (raw)",
        ws.port, raw.port
    );

    let rounds = rounds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let spawn = ChildSpawn {
        exe: std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?,
        ws_port: ws.port,
        raw_port: raw.port,
        cpu: client_cpu,
        rtt_cpu,
        quick,
    };
    // Rounds interleave the clients, so a slow spell on the machine hits
    // them all alike; each figure is the median over the rounds.
    let mut runs: Vec<Vec<measure::Metrics>> = vec![Vec::new(); selected.len()];
    let mut errors: Vec<Option<String>> = vec![None; selected.len()];
    for round in 1..=rounds {
        for (i, name) in selected.iter().enumerate() {
            if errors[i].is_some() {
                continue;
            }
            eprintln!("{name} (round {round} of {rounds}):");
            match spawn.run(name) {
                Ok(metrics) => runs[i].push(metrics),
                Err(e) => errors[i] = Some(e),
            }
        }
    }
    let columns: Vec<Column> = selected
        .iter()
        .zip(runs.iter().zip(errors))
        .map(|(name, (runs, error))| Column {
            name: name.to_string(),
            result: match error {
                Some(e) => Err(e),
                None => Ok(measure::median(runs)),
            },
        })
        .collect();
    drop((ws, raw));

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "wsnova-bench, {mode} run, median of {rounds} round(s), {cores} cores, {placement}; \
         each client in its own process on a tokio current-thread runtime, echo servers \
         in two more processes\n"
    );
    print!("{}", report::render(&columns, &plan(quick)));
    Ok(())
}

fn child(args: &[String]) -> ExitCode {
    let parsed = (|| -> Result<(String, Servers, Plan), String> {
        let mut args = args.iter();
        let name = value(&mut args, "--child")?.clone();
        let (mut ws, mut raw, mut quick, mut cpu, mut rtt_cpu) = (None, None, false, None, None);
        let cpu_arg = |n: &String| n.parse().map_err(|e| format!("cpu {n:?}: {e}"));
        let port = |s: &String| s.parse::<u16>().map_err(|e| format!("port {s:?}: {e}"));
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--ws" => ws = Some(port(value(&mut args, "--ws")?)?),
                "--raw" => raw = Some(port(value(&mut args, "--raw")?)?),
                "--quick" => quick = true,
                "--cpu" => cpu = Some(cpu_arg(value(&mut args, "--cpu")?)?),
                "--rtt-cpu" => rtt_cpu = Some(cpu_arg(value(&mut args, "--rtt-cpu")?)?),
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
            rtt_cpu,
            ..plan(quick)
        };
        Ok((name, servers, plan))
    })();
    let outcome = parsed.and_then(|(name, servers, plan)| {
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
            .block_on(clients::run(&name, servers, &plan))
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
