//! `wsnova-bench --quick`, the run CI makes, end to end: every client in
//! its own process against the real echo servers, on one CPU placement to
//! keep it short. The run must exit 0 and report a figure (no `error`) for
//! every client.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A debug build of all clients takes well under this.
const LIMIT: Duration = Duration::from_secs(300);

#[test]
fn quick_run_reports_every_client() {
    let child = Command::new(env!("CARGO_BIN_EXE_wsnova-bench"))
        .args(["--quick", "--cpus", "any"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wsnova-bench");
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let output = match finished.recv_timeout(LIMIT) {
        Ok(output) => output.expect("wait for wsnova-bench"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("wsnova-bench --quick took over {LIMIT:?}");
        }
    };
    let status = output.status;
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(status.success(), "exit {status}; output:\n{out}");
    let header = out
        .lines()
        .find(|l| l.starts_with("| metric |"))
        .unwrap_or_else(|| panic!("no table in:\n{out}"));
    for client in [
        "wsnova-tokio",
        "wsnova-mio",
        "sockudo-ws",
        "tokio-websockets",
        "fastwebsockets",
        "tokio-tungstenite",
        "raw-tcp",
    ] {
        assert!(
            header.contains(&format!(" {client} |")),
            "{client} missing: {header}"
        );
    }
    assert!(!out.contains("error"), "a client failed:\n{out}");
    let rtt = out
        .lines()
        .find(|l| l.starts_with("| RTT p50"))
        .expect("an RTT row");
    assert!(!rtt.contains("n/a"), "{rtt}");
}
