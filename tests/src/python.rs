//! Python's `websockets` as an independent peer: finds (or makes) a Python
//! that can import it, and runs a server script as a child process.
//!
//! The Python is, in this order:
//!
//! 1. `$WSNOVA_PYTHON`, if set and `websockets` (≥ 13) imports in it;
//! 2. `<workspace>/target/pyenv/bin/python`, if `websockets` imports in it;
//! 3. otherwise that venv is made: `python3 -m venv target/pyenv`, then
//!    `target/pyenv/bin/pip install websockets==`[`WEBSOCKETS_VERSION`]
//!    (each step bounded in time; needs PyPI).
//!
//! The answer is found once per process. A [`PythonServer`] is killed when
//! dropped; the fixture scripts also exit on their own when stdin closes.
//!
//! ```no_run
//! use wsnova_tests::python::PythonServer;
//!
//! let server = PythonServer::start("python_echo_server.py");
//! println!("connect to {}", server.url()); // ws://127.0.0.1:<port>/
//! drop(server); // kills the child
//! ```

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `websockets` release installed into the venv.
pub const WEBSOCKETS_VERSION: &str = "17.4";

/// How long `python3 -m venv` may take.
const VENV_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `pip install` may take.
const PIP_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the import check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to print its port.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The workspace root (the parent of this crate's folder).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The venv this module makes: `<workspace>/target/pyenv`.
pub fn venv_dir() -> PathBuf {
    workspace_dir().join("target").join("pyenv")
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// A Python interpreter in which `websockets` imports, found or made once
/// per process (see the [module docs](self)).
///
/// # Errors
///
/// Why none could be found or made (every attempt, with its output).
pub fn python() -> Result<&'static Path, String> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(find_or_make)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

fn find_or_make() -> Result<PathBuf, String> {
    let mut tried = Vec::new();
    if let Some(python) = std::env::var_os("WSNOVA_PYTHON") {
        let python = PathBuf::from(python);
        match websockets_version(&python) {
            Ok(_) => return Ok(python),
            Err(e) => tried.push(format!("$WSNOVA_PYTHON={}: {e}", python.display())),
        }
    }
    let venv = venv_dir();
    let python = venv_python(&venv);
    if python.exists() {
        match websockets_version(&python) {
            Ok(_) => return Ok(python),
            Err(e) => tried.push(format!("{}: {e}", python.display())),
        }
    }
    match make_venv(&venv) {
        Ok(()) => match websockets_version(&python) {
            Ok(_) => Ok(python),
            Err(e) => {
                tried.push(format!("{} after installing: {e}", python.display()));
                Err(tried.join("\n"))
            }
        },
        Err(e) => {
            tried.push(e);
            Err(tried.join("\n"))
        }
    }
}

/// `websockets.version.version` in `python`, if its asyncio API imports.
fn websockets_version(python: &Path) -> Result<String, String> {
    let out = run(
        Command::new(python).args([
            "-c",
            "import websockets.asyncio.server, websockets.version as v; print(v.version)",
        ]),
        CHECK_TIMEOUT,
    )?;
    Ok(out.trim().to_owned())
}

/// `python3 -m venv <venv>` and `pip install websockets==<pin>`.
fn make_venv(venv: &Path) -> Result<(), String> {
    if let Some(parent) = venv.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    }
    run(
        Command::new("python3").arg("-m").arg("venv").arg(venv),
        VENV_TIMEOUT,
    )?;
    run(
        Command::new(venv_python(venv)).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("websockets=={WEBSOCKETS_VERSION}"),
        ]),
        PIP_TIMEOUT,
    )?;
    Ok(())
}

/// Runs `cmd` to completion within `limit` (killed after it); its stdout on
/// success, a description with stdout and stderr otherwise.
fn run(cmd: &mut Command, limit: Duration) -> Result<String, String> {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: {e}"))?;
    // Drained on threads, so a chatty child never blocks on a full pipe.
    let stdout = drain(child.stdout.take().expect("piped"));
    let stderr = drain(child.stderr.take().expect("piped"));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what}: still running after {limit:?}, killed"));
            }
            Err(e) => return Err(format!("{what}: {e}")),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{what}: {status}\nstdout: {stdout}\nstderr: {stderr}"
        ))
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
}

/// A Python server script running as a child process; killed on drop.
#[derive(Debug)]
pub struct PythonServer {
    child: Child,
    /// Held open: the scripts exit when it closes.
    _stdin: ChildStdin,
    port: u16,
}

impl PythonServer {
    /// Runs `tests/fixtures/<script>` with [`python`] and waits (bounded) for
    /// the port it prints on its first stdout line.
    ///
    /// # Panics
    ///
    /// If no Python with `websockets` can be found or made, or the script
    /// does not print a port in time. The message says how to provide one.
    pub fn start(script: &str) -> PythonServer {
        let python = python().unwrap_or_else(|e| {
            panic!(
                "no Python with `websockets` for the interop tests. Set WSNOVA_PYTHON to one, \
                 or let the tests make {} (needs python3 with venv and PyPI):\n{e}",
                venv_dir().display()
            )
        });
        let path = fixture(script);
        let mut child = Command::new(python)
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {} {}: {e}", python.display(), path.display()));
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Keep draining, so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let mut server = PythonServer {
            child,
            _stdin: stdin,
            port: 0,
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            other => panic!(
                "{} printed no port within {START_TIMEOUT:?}: {other:?} (exit: {:?})",
                path.display(),
                server.child.try_wait()
            ),
        };
        server.port = line
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{} printed {line:?}, not a port: {e}", path.display()));
        server
    }

    /// The port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ws://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
