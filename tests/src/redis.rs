//! A real `redis-server` for tests: started on an ephemeral loopback port as
//! a child process (no persistence, no config file), stopped and restarted on
//! the same port on request, killed when dropped.
//!
//! `redis-server` is the Debian package of the same name, installed with
//! `apt-get` when missing (see [`packages`](crate::packages)); still missing,
//! it fails the test with how to install it: no cluster test skips silently.
//!
//! ```no_run
//! use wsnova_tests::redis::RedisServer;
//! let mut redis = RedisServer::start();
//! println!("{}", redis.url()); // redis://127.0.0.1:…/
//! redis.stop(); // now unreachable
//! redis.restart(); // same port, empty data set
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::packages::require;
use crate::proxies::free_port;

/// How long the server may take to answer its first `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A `redis-server` child process on `127.0.0.1:<ephemeral>`.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    addr: SocketAddr,
}

impl RedisServer {
    /// Starts a server on a fresh ephemeral port and waits (bounded) until it
    /// answers `PING`. Panics with how to install it when it is missing.
    pub fn start() -> Self {
        require("redis-server", "redis-server");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut server = Self { child: None, addr };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:PORT/`, for the `redis` crate's clients.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the server process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server: clients now see connection refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, with an empty data set (it
    /// keeps nothing on disk), and waits until it answers `PING`.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.addr.port().to_string();
        let mut command = Command::new("redis-server");
        command.args([
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--loglevel",
            "warning",
        ]);
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while !self.answers_ping() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("redis-server exited at start ({status}) on {}", self.addr);
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING on {} in time",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One `PING` over RESP on a fresh connection.
    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
