//! Real proxy servers for tests: `tinyproxy` (HTTP CONNECT, with optional
//! Basic credentials) and `microsocks` (SOCKS5, with optional RFC 1929
//! username/password), each started on an ephemeral loopback port as a
//! child process and killed when dropped.
//!
//! Both are Debian packages, installed with `apt-get` when missing (see
//! [`packages`](crate::packages)); a binary still missing fails the test
//! with a message that says how to install it: no proxy test skips silently.
//!
//! ```no_run
//! use wsnova_tests::proxies::{Microsocks, Tinyproxy};
//! let http = Tinyproxy::start(Some(("alice", "s3cret")));
//! let socks = Microsocks::start(None);
//! println!("{} and {}", http.url(), socks.url()); // http://alice:s3cret@127.0.0.1:…
//! ```

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::packages::require;

/// How long a proxy may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A proxy child process; killed (and reaped) on drop.
#[derive(Debug)]
struct Running {
    child: Child,
    addr: SocketAddr,
    /// Its scratch directory (config, output), removed on drop.
    dir: Option<PathBuf>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// An ephemeral loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// A fresh directory for one proxy's files.
fn scratch_dir(name: &str, port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wsnova-{name}-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory for the proxy");
    dir
}

/// Spawns `command` (its output goes to `dir/output`) and waits until it
/// accepts connections on `addr`.
fn spawn(mut command: Command, addr: SocketAddr, dir: PathBuf) -> Running {
    let output = dir.join("output");
    let file = std::fs::File::create(&output).expect("the proxy's output file");
    let child = command
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("clone a file handle"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    let mut running = Running {
        child,
        addr,
        dir: Some(dir),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = running.child.try_wait() {
            let said = std::fs::read_to_string(&output).unwrap_or_default();
            panic!("{command:?} exited at start ({status}): {said}");
        }
        assert!(
            Instant::now() < deadline,
            "{command:?} did not listen on {addr} in time"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    running
}

/// `user:password@` for a proxy URL, percent-encoding what must be.
fn userinfo(credentials: Option<(&str, &str)>) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    credentials.map_or_else(String::new, |(u, p)| {
        format!("{}:{}@", encode(u), encode(p))
    })
}

/// `tinyproxy`: an HTTP proxy that tunnels with `CONNECT`.
#[derive(Debug)]
pub struct Tinyproxy {
    running: Running,
    credentials: Option<(String, String)>,
}

impl Tinyproxy {
    /// Starts tinyproxy on `127.0.0.1:<ephemeral>`, requiring these Basic
    /// credentials when given (tinyproxy's config syntax takes no spaces,
    /// `:` or `@` in them); every `CONNECT` port is allowed.
    pub fn start(credentials: Option<(&str, &str)>) -> Tinyproxy {
        Self::start_with(credentials, &[])
    }

    /// [`start`](Self::start) with extra configuration lines, e.g.
    /// `"ConnectPort 443"` to refuse tunnels to every other port with 403.
    pub fn start_with(credentials: Option<(&str, &str)>, extra: &[&str]) -> Tinyproxy {
        require("tinyproxy", "tinyproxy");
        let port = free_port();
        let dir = scratch_dir("tinyproxy", port);
        let mut config = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nLogLevel Info\n\
             LogFile \"{}\"\nAllow 127.0.0.1\nDisableViaHeader Yes\n",
            dir.join("tinyproxy.log").display()
        );
        if let Some((user, password)) = credentials {
            config.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        for line in extra {
            config.push_str(line);
            config.push('\n');
        }
        let file = dir.join("tinyproxy.conf");
        std::fs::write(&file, config).expect("write tinyproxy's config");
        let mut command = Command::new("tinyproxy");
        command.arg("-d").arg("-c").arg(&file);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        Tinyproxy {
            running: spawn(command, addr, dir),
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// `http://[user:password@]127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        let creds = self
            .credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()));
        format!("http://{}{}", userinfo(creds), self.addr())
    }

    /// The URL with other credentials (`None`: none at all).
    pub fn url_with(&self, credentials: Option<(&str, &str)>) -> String {
        format!("http://{}{}", userinfo(credentials), self.addr())
    }
}

/// `microsocks`: a SOCKS5 proxy that resolves host names itself.
#[derive(Debug)]
pub struct Microsocks {
    running: Running,
    credentials: Option<(String, String)>,
}

impl Microsocks {
    /// Starts microsocks on `127.0.0.1:<ephemeral>`, requiring RFC 1929
    /// username/password when given.
    pub fn start(credentials: Option<(&str, &str)>) -> Microsocks {
        require("microsocks", "microsocks");
        let port = free_port();
        let mut command = Command::new("microsocks");
        command.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
        if let Some((user, password)) = credentials {
            command.args(["-u", user, "-P", password]);
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        Microsocks {
            running: spawn(command, addr, scratch_dir("microsocks", port)),
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// `socks5h://[user:password@]127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        let creds = self
            .credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()));
        self.url_with(creds)
    }

    /// The URL with other credentials (`None`: none at all).
    pub fn url_with(&self, credentials: Option<(&str, &str)>) -> String {
        format!("socks5h://{}{}", userinfo(credentials), self.addr())
    }
}
