//! `scale`: many idle connections on one client thread, then one broadcast
//! to all of them: wsnova-mio (one `EventLoop`) against tokio-tungstenite
//! (one task per connection on a tokio current-thread runtime).
//!
//! ```text
//! cargo run --release -p wsnova-bench --bin scale [-- --connections N | --quick]
//! ```
//!
//! For each client the parent starts a fresh broadcast server
//! (`scale --serve`, see `src/scale/server.rs`) and then the client in a
//! child process of its own (`scale --child NAME ...`), so the RSS figures
//! are that client's alone. The client raises `RLIMIT_NOFILE`, opens N
//! connections to the server (at most `--window` handshakes in flight),
//! reads its RSS before and after, asks the server for the broadcast on a
//! control connection and times, per connection, the arrival of the frame.
//! The parent prints a markdown table. By default the server is pinned to
//! one CPU and the client to another.
//!
//! A third column, raw TCP (`src/scale/raw_client.rs`), only opens the
//! same number of plain TCP connections on one mio `Poll` with the same
//! window, so that wsnova-mio's open time is compared with the floor in
//! the same run (the report prints the ratio).

#[path = "../scale/mod.rs"]
mod scale;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::time::Duration;

use scale::report::{self, Column};
use scale::{CLIENTS, ChildArgs, Metrics};

const USAGE: &str = "\
usage: scale [--connections N | --quick] [--only CLIENT[,CLIENT]] [--window N]
             [--cpus split|same|any]

  --connections N  idle connections per client (default 10000)
  --quick          1000 connections
  --only CLIENT    wsnova-mio, tokio-tungstenite, raw-tcp (comma-separated)
  --window N       handshakes in flight while opening (default 64)
  --cpus split     server on one CPU, client on another (default)
  --cpus same      server and client on one CPU
  --cpus any       no pinning

internal: scale --serve [--cpu N]
          scale --child CLIENT --port P --control P --connections N --window N [--cpu N]";

/// A client run that takes longer than this is stopped.
const CHILD_WATCHDOG: Duration = Duration::from_secs(300);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--serve") => serve(&args[1..]),
        Some("--child") => return child(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => parent(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale: {e}");
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

fn number<'a>(args: &mut impl Iterator<Item = &'a String>, flag: &str) -> Result<usize, String> {
    let v = value(args, flag)?;
    v.parse().map_err(|e| format!("{flag} {v:?}: {e}"))
}

/// Splits off `--cpu N` wherever it is.
fn take_cpu(args: &[String]) -> Result<(Option<usize>, Vec<String>), String> {
    let (mut cpu, mut rest) = (None, Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--cpu" {
            cpu = Some(number(&mut args, "--cpu")?);
        } else {
            rest.push(arg.clone());
        }
    }
    Ok((cpu, rest))
}

fn serve(args: &[String]) -> Result<(), String> {
    let (cpu, rest) = take_cpu(args)?;
    if let Some(other) = rest.first() {
        return Err(format!("unknown server argument {other:?}"));
    }
    scale::server::run(cpu).map_err(|e| e.to_string())
}

/// A broadcast server process; killed when dropped.
struct Server {
    child: Child,
    // Held open: the server exits by itself when it closes (we died).
    _stdin: Option<ChildStdin>,
    ports: (u16, u16),
}

impl Server {
    fn spawn(cpu: Option<usize>) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut command = Command::new(exe);
        command.arg("--serve");
        if let Some(cpu) = cpu {
            command.args(["--cpu", &cpu.to_string()]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the broadcast server: {e}"))?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line);
        let mut server = Self {
            child,
            _stdin: stdin,
            ports: (0, 0),
        };
        read.map_err(|e| e.to_string())?;
        let ports: Vec<u16> = line
            .trim()
            .strip_prefix("LISTENING ")
            .map(|rest| rest.split(' ').filter_map(|p| p.parse().ok()).collect())
            .unwrap_or_default();
        match ports[..] {
            [websocket, control] => server.ports = (websocket, control),
            _ => {
                return Err(format!(
                    "the server said {line:?}, not LISTENING <port> <port>"
                ));
            }
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one client against a fresh server and collects its `METRIC` lines.
fn run_client(
    name: &str,
    connections: usize,
    window: usize,
    (server_cpu, client_cpu): (Option<usize>, Option<usize>),
) -> Result<Metrics, String> {
    let server = Server::spawn(server_cpu)?;
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut command = Command::new(exe);
    command.args(["--child", name]);
    command.args(["--port", &server.ports.0.to_string()]);
    command.args(["--control", &server.ports.1.to_string()]);
    command.args(["--connections", &connections.to_string()]);
    command.args(["--window", &window.to_string()]);
    if let Some(cpu) = client_cpu {
        command.args(["--cpu", &cpu.to_string()]);
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start the {name} run: {e}"))?;
    drop(server);
    let mut metrics = Metrics::new();
    let mut error = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Some(e) = line.strip_prefix("ERROR ") {
            error = Some(e.to_string());
        } else if let Some((key, v)) = line.strip_prefix("METRIC ").and_then(|r| r.split_once(' '))
            && let Ok(v) = v.parse()
        {
            metrics.insert(key.to_string(), v);
        }
    }
    match (output.status.success(), error) {
        (true, None) => Ok(metrics),
        (_, Some(e)) => Err(e),
        (false, None) => Err(format!("the run ended with {}", output.status)),
    }
}

fn parent(args: &[String]) -> Result<(), String> {
    let (mut connections, mut window, mut cpus, mut only) = (10_000, 64, "split", Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--connections" => connections = number(&mut args, "--connections")?,
            "--quick" => connections = 1_000,
            "--window" => window = number(&mut args, "--window")?.max(1),
            "--cpus" => cpus = value(&mut args, "--cpus")?.as_str(),
            "--only" => only.extend(value(&mut args, "--only")?.split(',').map(str::to_owned)),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    if let Some(bad) = only.iter().find(|o| !CLIENTS.contains(&o.as_str())) {
        return Err(format!(
            "unknown client {bad:?} (known: {})",
            CLIENTS.join(", ")
        ));
    }
    let selected: Vec<&str> = CLIENTS
        .into_iter()
        .filter(|name| only.is_empty() || only.iter().any(|o| o == name))
        .collect();
    // The parent needs no descriptors, but say early if the limit is too low.
    let limit =
        wsnova_bench::sys::raise_nofile_limit().map_err(|e| format!("RLIMIT_NOFILE: {e}"))?;
    if (limit as usize) < connections + 64 {
        eprintln!(
            "scale: warning: RLIMIT_NOFILE hard limit is {limit}, below {connections} connections \
             (raise it with `ulimit -Hn` as root)"
        );
    }
    let allowed = wsnova_bench::sys::allowed_cpus();
    let (placement, description) = match (cpus, allowed.as_slice()) {
        ("any", _) | (_, [] | [_]) => ((None, None), "no CPU pinning".to_string()),
        ("same", [cpu, ..]) => (
            (Some(*cpu), Some(*cpu)),
            format!("server and client pinned to CPU {cpu}"),
        ),
        ("split", [server, client, ..]) => (
            (Some(*server), Some(*client)),
            format!("server pinned to CPU {server}, client to CPU {client}"),
        ),
        (other, _) => return Err(format!("--cpus {other:?}: expected split, same or any")),
    };
    let columns: Vec<Column> = selected
        .iter()
        .map(|name| {
            eprintln!("scale: {name}, {connections} connections ...");
            Column {
                name: name.to_string(),
                result: run_client(name, connections, window, placement),
            }
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "scale: {connections} idle connections per client, then one 8-byte binary frame to \
         all; {cores} cores, {description}; handshake window {window}; wsnova-mio: one \
         EventLoop, Plain adapter, heartbeats off, event callback; tokio-tungstenite: one \
         task per connection on a current-thread runtime; raw-tcp: plain TCP connects on \
         one mio Poll, open once writable, no upgrade (so no broadcast); each client in its \
         own process against a fresh server process\n"
    );
    print!("{}", report::render(&columns, connections));
    Ok(())
}

fn child(args: &[String]) -> ExitCode {
    let outcome = (|| {
        let (cpu, rest) = take_cpu(args)?;
        let (name, rest) = rest.split_first().ok_or("--child needs a client name")?;
        let args = ChildArgs::parse(rest)?;
        if let Some(cpu) = cpu {
            wsnova_bench::sys::pin_to_cpu(cpu).map_err(|e| e.to_string())?;
        }
        let limit =
            wsnova_bench::sys::raise_nofile_limit().map_err(|e| format!("RLIMIT_NOFILE: {e}"))?;
        if (limit as usize) < args.connections + 16 {
            return Err(format!(
                "RLIMIT_NOFILE is {limit}: too low for {} connections",
                args.connections
            ));
        }
        std::thread::spawn(|| {
            std::thread::sleep(CHILD_WATCHDOG);
            println!("ERROR no result after {CHILD_WATCHDOG:?}");
            std::process::exit(1);
        });
        match name.as_str() {
            "wsnova-mio" => scale::mio_client::run(&args),
            "tokio-tungstenite" => scale::tungstenite_client::run(&args),
            "raw-tcp" => scale::raw_client::run(&args),
            other => Err(format!("unknown client {other:?}")),
        }
    })();
    let code = match outcome {
        Ok(metrics) => {
            for (key, value) in metrics {
                println!("METRIC {key} {value}");
            }
            0
        }
        Err(e) => {
            println!("ERROR {e}");
            eprintln!("  error: {e}");
            1
        }
    };
    // Straight out: no teardown of thousands of connections.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}
