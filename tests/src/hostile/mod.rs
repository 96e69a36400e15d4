//! The hostile-server kit: a TCP "server" that attacks the client the way a
//! broken or malicious peer would — an upgrade that never answers, a head
//! one byte at a time or a mebibyte long, a wrong accept key, `503` with
//! `Retry-After`, silence after the upgrade, a ping flood while never
//! reading, ten thousand one-byte fragments, a reset in the middle of a
//! frame, and a storm of accepted-then-closed connections.
//!
//! Each [`Scenario`] is played on every accepted connection, on its own
//! thread (blocking `std::net`, no runtime), so the client under test may
//! reconnect as often as it likes; [`HostileServer::accepted`] records when
//! each connection came, for reconnect timing. Dropping the server stops
//! every thread within [`POLL`]. [`child`] runs a client in a child process
//! and reports its events and its peak RSS, for memory bounds.
//!
//! ```no_run
//! use wsnova_tests::hostile::{HostileServer, Scenario};
//! let server = HostileServer::start(Scenario::WrongAccept);
//! println!("connect to {}", server.url());
//! ```

pub mod child;
mod scenario;

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use scenario::{Scenario, http_date};

/// How often a waiting scenario thread looks at the stop flag.
pub const POLL: Duration = Duration::from_millis(50);

/// The largest request head the server reads.
const MAX_HEAD: usize = 16 * 1024;

/// A hostile server on `127.0.0.1` (an ephemeral port), playing one scenario.
pub struct HostileServer {
    addr: SocketAddr,
    accepted: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HostileServer {
    /// Listens and plays `scenario` on every connection.
    pub fn start(scenario: Scenario) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("local address");
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, flag) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                log.lock().unwrap().push(Instant::now());
                let (scenario, flag) = (scenario.clone(), flag.clone());
                std::thread::spawn(move || {
                    let _ = scenario.play(stream, &flag);
                });
            }
        });
        HostileServer {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// `ws://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// When each connection was accepted, in order.
    pub fn accepted(&self) -> Vec<Instant> {
        self.accepted.lock().unwrap().clone()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads the upgrade request head; returns it with its `Sec-WebSocket-Key`.
/// With `peek`, nothing is consumed: the head stays unread in the kernel
/// (closing the socket then sends a reset, RFC 793 §3.5 / RFC 2525 §2.17).
pub(crate) fn read_head(stream: &mut TcpStream, peek: bool) -> io::Result<(usize, String)> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = vec![0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        let n = if peek {
            stream.peek(&mut buf)?
        } else {
            stream.read(&mut buf[len..])?
        };
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        len = if peek { n } else { len + n };
        let head = &buf[..len];
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&head[..end]);
            let key = text
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("sec-websocket-key")
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default();
            return Ok((end + 4, key));
        }
        if len == buf.len() {
            return Err(io::ErrorKind::InvalidData.into());
        }
        if peek {
            std::thread::sleep(Duration::from_millis(5)); // the rest of the head is on its way
        }
    }
}

/// Waits until `stop` is set or the peer closes (reading and discarding
/// what it sends unless `read` is false), at most `limit`.
pub(crate) fn hold(stream: &mut TcpStream, stop: &AtomicBool, read: bool, limit: Duration) {
    let until = Instant::now() + limit;
    let _ = stream.set_read_timeout(Some(POLL));
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        if !read {
            std::thread::sleep(POLL);
            continue;
        }
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}
