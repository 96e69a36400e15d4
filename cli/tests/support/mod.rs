// Each test file uses a part of this module.
#![allow(dead_code)]

//! Runs the built `wsnova` binary with arguments, stdin and environment,
//! under a bound: a test that hangs fails instead.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The bound of one run of the binary.
pub const RUN: Duration = Duration::from_secs(30);

/// What a finished run left behind.
#[derive(Debug)]
pub struct Run {
    /// The exit status.
    pub status: ExitStatus,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl Run {
    /// The exit code (panics if a signal ended the process).
    pub fn code(&self) -> i32 {
        self.status.code().expect("an exit code, not a signal")
    }

    /// Stdout's lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// A `wsnova` command with `args`, a clean environment for credentials.
pub fn wsnova(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wsnova"));
    command
        .args(args)
        .env_remove("WSNOVA_CLIENT_ID")
        .env_remove("WSNOVA_CLIENT_SECRET");
    command
}

/// Runs `command` with `input` on stdin (then closed), waits at most [`RUN`].
pub fn run(mut command: Command, input: &str) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wsnova");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    finish(child)
}

/// Waits for `child` at most [`RUN`] (killing it after), collecting its output.
pub fn finish(mut child: Child) -> Run {
    // A pipe the caller took (or did not ask for) reads as empty.
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let deadline = Instant::now() + RUN;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let out = stdout.join().unwrap_or_default();
            let err = stderr.join().unwrap_or_default();
            panic!("wsnova did not finish within {RUN:?}\nstdout:\n{out}\nstderr:\n{err}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Run {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}
