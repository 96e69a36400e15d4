//! Debian packages the real-server tests need (`tinyproxy`, `microsocks`,
//! `redis-server`): found on the `PATH`, or installed with `apt-get` when
//! the tests run as root, as `cargo test --workspace` does on a fresh
//! machine — the way [`python`](crate::python) makes its venv.
//!
//! One install runs at a time across all test processes (`flock` on a file
//! in the temporary directory) and is bounded in time. When a binary is
//! still missing the test fails with the command that installs it: no test
//! skips silently because a server is absent.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Serialises installs within this process (`flock` does it across them).
static INSTALLING: Mutex<()> = Mutex::new(());

/// How long `apt-get update` plus the install may take, in seconds.
const INSTALL_TIMEOUT_SECS: &str = "600";

/// Whether `binary` is an executable file in one of the `PATH`'s directories.
pub fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(binary).is_file()))
}

/// Makes sure `binary` (from the Debian `package`) is installed: installs it
/// with `apt-get` when missing and running as root, and otherwise fails the
/// test with the command to run.
///
/// ```no_run
/// wsnova_tests::packages::require("redis-server", "redis-server");
/// ```
pub fn require(binary: &str, package: &str) {
    if on_path(binary) {
        return;
    }
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if !on_path(binary) && is_root() && on_path("apt-get") && on_path("flock") {
        let lock = std::env::temp_dir().join("wsnova-apt-get.lock");
        let script = format!(
            "command -v {binary} >/dev/null || {{ apt-get update -qq && \
             DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {package}; }}"
        );
        let status = Command::new("timeout")
            .arg(INSTALL_TIMEOUT_SECS)
            .arg("flock")
            .arg(&lock)
            .args(["sh", "-c", &script])
            .status();
        eprintln!("installing {package} with apt-get: {status:?}");
    }
    assert!(
        on_path(binary),
        "`{binary}` is not installed and could not be installed here: the tests need it. \
         Install it with `apt-get install -y {package}` (bash .ci/run does this on a fresh machine)."
    );
}

/// Whether this process runs as root (uid 0), read from `/proc` so no
/// `unsafe` call is needed.
fn is_root() -> bool {
    let status = Path::new("/proc/self/status");
    std::fs::read_to_string(status).is_ok_and(|text| {
        text.lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}
