//! The parent process: starts the two echo servers, runs every client in a
//! child process of its own for each CPU placement, interleaved round after
//! round, and prints the report.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::measure::{self, Metrics};
use crate::report::{self, Column};

/// An echo server process; killed when dropped.
pub struct EchoServer {
    child: Child,
    // Held open: the server exits by itself when it closes (we died).
    _stdin: Option<ChildStdin>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl EchoServer {
    /// Starts `mode` (`ws` or `raw`), pinned to `cpu` if given, and waits
    /// for its `LISTENING <port>` line.
    pub fn spawn(
        server_bin: Option<&PathBuf>,
        mode: &str,
        cpu: Option<usize>,
    ) -> Result<Self, String> {
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

/// Parses a child's `METRIC <name> <value>` and `ERROR <why>` lines.
pub fn parse_child_output(stdout: &[u8], success: bool, status: &str) -> Result<Metrics, String> {
    let mut metrics = Metrics::new();
    let mut error = None;
    for line in String::from_utf8_lossy(stdout).lines() {
        if let Some(e) = line.strip_prefix("ERROR ") {
            error = Some(e.to_string());
        } else if let Some((key, v)) = line.strip_prefix("METRIC ").and_then(|r| r.split_once(' '))
        {
            if let Ok(v) = v.parse() {
                metrics.insert(key.to_string(), v);
            }
        }
    }
    match (success, error) {
        (true, None) => Ok(metrics),
        (_, Some(e)) => Err(e),
        (false, None) => Err(format!("the run ended with {status}")),
    }
}

/// The arguments that start one client's child process (less its CPU).
pub struct ChildSpawn {
    /// This binary.
    pub exe: PathBuf,
    /// The WebSocket echo's port.
    pub ws_port: u16,
    /// The raw TCP echo's port.
    pub raw_port: u16,
    /// Pass `--quick`.
    pub quick: bool,
}

impl ChildSpawn {
    /// A `--child name` command (the caller adds more arguments).
    pub fn command(&self, name: &str) -> Command {
        let mut command = Command::new(&self.exe);
        command.args(["--child", name]);
        command.args([
            "--ws",
            &self.ws_port.to_string(),
            "--raw",
            &self.raw_port.to_string(),
        ]);
        if self.quick {
            command.arg("--quick");
        }
        command
    }

    /// Runs `--child name` on `cpu` and collects its `METRIC` lines.
    pub fn run(&self, name: &str, cpu: Option<usize>) -> Result<Metrics, String> {
        let mut command = self.command(name);
        if let Some(cpu) = cpu {
            command.args(["--cpu", &cpu.to_string()]);
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot start the {name} run: {e}"))?;
        parse_child_output(
            &output.stdout,
            output.status.success(),
            &output.status.to_string(),
        )
    }
}

/// Where the client runs relative to the echo servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// `same` or `split` (or `any`).
    pub name: &'static str,
    /// The client's CPU, if pinned.
    pub client_cpu: Option<usize>,
}

/// The servers' CPU and the placements to measure, from `--cpus`
/// (`both`, `same`, `split` or `any`) and the CPUs this process may use.
pub fn placements(
    cpus: &str,
    allowed: &[usize],
) -> Result<(Option<usize>, Vec<Placement>), String> {
    let same = |cpu: usize| Placement {
        name: "same",
        client_cpu: Some(cpu),
    };
    let split = |cpu: usize| Placement {
        name: "split",
        client_cpu: Some(cpu),
    };
    match (cpus, allowed) {
        ("any", _) | (_, []) => Ok((
            None,
            vec![Placement {
                name: "any",
                client_cpu: None,
            }],
        )),
        ("same" | "both", [server]) | ("same", [server, ..]) => {
            Ok((Some(*server), vec![same(*server)]))
        }
        ("split", [_]) => Err("--cpus split needs two CPUs".into()),
        ("split", [server, client, ..]) => Ok((Some(*server), vec![split(*client)])),
        ("both", [server, client, ..]) => Ok((Some(*server), vec![same(*server), split(*client)])),
        (other, _) => Err(format!(
            "--cpus {other:?}: expected both, same, split or any"
        )),
    }
}

/// What the parent was asked to do.
pub struct Options {
    /// `--quick`.
    pub quick: bool,
    /// The clients, in column order.
    pub clients: Vec<&'static str>,
    /// Interleaved rounds.
    pub rounds: usize,
    /// `--cpus`.
    pub cpus: String,
    /// `--server-bin`.
    pub server_bin: Option<PathBuf>,
}

/// Runs every client in every placement, `rounds` times interleaved, and
/// prints the report.
pub fn run(options: &Options) -> Result<(), String> {
    let allowed = wsnova_bench::sys::allowed_cpus();
    let (server_cpu, placements) = placements(&options.cpus, &allowed)?;
    let ws = EchoServer::spawn(options.server_bin.as_ref(), "ws", server_cpu)?;
    let raw = EchoServer::spawn(options.server_bin.as_ref(), "raw", server_cpu)?;
    let mode = if options.quick { "quick" } else { "full" };
    let server_at = server_cpu.map_or("unpinned".to_string(), |c| format!("on CPU {c}"));
    eprintln!(
        "wsnova-bench ({mode}): echo servers {server_at}, 127.0.0.1:{} (ws) and :{} (raw)",
        ws.port, raw.port
    );
    let spawn = ChildSpawn {
        exe: std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?,
        ws_port: ws.port,
        raw_port: raw.port,
        quick: options.quick,
    };
    let mut columns: Vec<Column> = options
        .clients
        .iter()
        .map(|name| Column::new(name, placements.iter().map(|p| p.name)))
        .collect();
    // Rounds interleave clients and placements, so a slow spell on the
    // machine hits them all alike.
    let rounds = options.rounds.max(1);
    for round in 1..=rounds {
        for placement in &placements {
            for column in columns.iter_mut() {
                if column.error.is_some() {
                    continue;
                }
                eprintln!(
                    "{} ({}, round {round} of {rounds}):",
                    column.name, placement.name
                );
                match spawn.run(&column.name, placement.client_cpu) {
                    Ok(metrics) => column.push(placement.name, metrics),
                    Err(e) => column.error = Some(e),
                }
            }
        }
    }
    drop((ws, raw));

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = crate::sys_date();
    let where_ = placements
        .iter()
        .map(|p| match (p.name, p.client_cpu) {
            ("same", Some(c)) => format!("same = client on the servers' CPU {c}"),
            ("split", Some(c)) => format!("split = client on CPU {c}"),
            _ => "no CPU pinning".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "wsnova-bench, {mode} run, {date}, {cores} CPUs; echo servers {server_at}; {where_}; \
         {rounds} interleaved round(s): median (min–max over rounds); each client in its \
         own process on a tokio current-thread runtime (wsnova-mio: its own mio loop)\n"
    );
    print!(
        "{}",
        report::render(&columns, &measure::plan(options.quick))
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_follow_the_allowed_cpus() {
        let (server, both) = placements("both", &[2, 5]).unwrap();
        assert_eq!(server, Some(2));
        assert_eq!(
            both,
            [
                Placement {
                    name: "same",
                    client_cpu: Some(2)
                },
                Placement {
                    name: "split",
                    client_cpu: Some(5)
                }
            ]
        );
        let (_, one_cpu) = placements("both", &[3]).unwrap();
        assert_eq!(one_cpu.len(), 1);
        assert_eq!(one_cpu[0].name, "same");
        assert!(placements("split", &[3]).is_err());
        assert_eq!(placements("any", &[0, 1]).unwrap().0, None);
        assert!(placements("diagonal", &[0, 1]).is_err());
    }

    #[test]
    fn child_output_gives_metrics_or_the_error() {
        let ok = parse_child_output(b"noise\nMETRIC a 1.5\nMETRIC b x\n", true, "exit 0");
        assert_eq!(
            ok.unwrap().into_iter().collect::<Vec<_>>(),
            [("a".to_string(), 1.5)]
        );
        let failed = parse_child_output(b"METRIC a 1\nERROR refused\n", false, "exit 1");
        assert_eq!(failed.unwrap_err(), "refused");
        let died = parse_child_output(b"", false, "signal 9");
        assert_eq!(died.unwrap_err(), "the run ended with signal 9");
    }
}
