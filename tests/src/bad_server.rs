//! A misbehaving WebSocket "server" on raw TCP (tokio), for bad-input tests
//! of real drivers.
//!
//! It listens on `127.0.0.1:0`, runs on its own thread with its own
//! single-threaded runtime, and treats every connection the same way: it
//! reads the upgrade request, then does what its [`Misbehaviour`] says —
//! answer with a correct `101` followed by hand-made bytes (an invalid frame,
//! an oversized message), or answer with arbitrary bytes instead of a `101`.
//! Afterwards it reads what the client sends until the client closes the
//! socket (or [`READ_TIMEOUT`] passes) and reports it as a
//! [`ConnectionReport`]: the request head, the client's frames (unmasked)
//! and whether the client closed its side.
//!
//! ```no_run
//! use wsnova_tests::bad_server::{BadServer, Misbehaviour};
//! use wsnova_tests::mem_peer::raw_server_frame;
//!
//! # async fn demo() {
//! let mut server = BadServer::start(Misbehaviour::AfterUpgrade(
//!     raw_server_frame(0x81, &[0xc3, 0x28]), // text with invalid UTF-8
//! ));
//! println!("connect to {}", server.url());
//! // ... connect a client, then:
//! let report = server.next_report().await.expect("a connection");
//! assert_eq!(report.close_code(), Some(1007));
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::mem_peer::handshake_response;

/// How long the server waits for the request head, and then for the client
/// to close, before it reports and drops the connection.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest request head the server reads.
const MAX_HEAD: usize = 16 * 1024;

/// What the server does once it has read the upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Answer with a correct `101`, then send these bytes (e.g. frames
    /// built with [`raw_server_frame`](crate::mem_peer::raw_server_frame)) in
    /// the same write.
    AfterUpgrade(Vec<u8>),
    /// Answer with these bytes instead of a `101` (a refusal, garbage).
    Respond(Vec<u8>),
}

impl Misbehaviour {
    /// `HTTP/1.1 <status> <reason>` with a JSON body and its `Content-Length`.
    ///
    /// ```
    /// use wsnova_tests::bad_server::Misbehaviour;
    /// let Misbehaviour::Respond(bytes) = Misbehaviour::json_refusal(401, "Unauthorized", "{}")
    /// else { unreachable!() };
    /// assert!(bytes.starts_with(b"HTTP/1.1 401 Unauthorized\r\n"));
    /// assert!(bytes.ends_with(b"\r\n\r\n{}"));
    /// ```
    pub fn json_refusal(status: u16, reason: &str, body: &str) -> Misbehaviour {
        Misbehaviour::Respond(
            format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }
}

/// A frame the client sent, as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFrame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode (0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong, ...).
    pub opcode: u8,
    /// Whether the frame was masked (every client frame must be).
    pub masked: bool,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

/// What happened on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    /// The client's request head (up to and including the blank line),
    /// lossily decoded.
    pub request: String,
    /// Frames the client sent after the server's answer, in order.
    pub frames: Vec<ClientFrame>,
    /// Bytes after the last complete frame (a truncated or unparsable frame).
    pub trailing: Vec<u8>,
    /// `true` when the client closed the connection (EOF or reset) within
    /// [`READ_TIMEOUT`]; `false` when the server gave up waiting.
    pub client_closed: bool,
}

impl ConnectionReport {
    /// The status code of the client's first close frame, if it sent one
    /// with a code.
    pub fn close_code(&self) -> Option<u16> {
        self.frames
            .iter()
            .find(|f| f.opcode == 0x8)
            .and_then(|f| f.payload.get(..2))
            .map(|code| u16::from_be_bytes([code[0], code[1]]))
    }
}

/// A running bad server; dropping it shuts it down.
#[derive(Debug)]
pub struct BadServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    reports: mpsc::UnboundedReceiver<ConnectionReport>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BadServer {
    /// Starts a server that treats every connection with `behaviour`.
    ///
    /// # Panics
    ///
    /// If the listener cannot be bound or the thread cannot be spawned.
    pub fn start(behaviour: Misbehaviour) -> BadServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("set listener non-blocking");
        let addr = listener.local_addr().expect("listener address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let (report_tx, reports) = mpsc::unbounded_channel();
        let (shutdown, shutdown_rx) = oneshot::channel();
        let counter = Arc::clone(&accepted);
        let thread = std::thread::Builder::new()
            .name(format!("bad-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build bad server runtime");
                runtime.block_on(accept_loop(
                    listener,
                    behaviour,
                    counter,
                    report_tx,
                    shutdown_rx,
                ));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("spawn bad server thread");
        BadServer {
            addr,
            accepted,
            reports,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The address the server listens on (`127.0.0.1:<port>`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Number of TCP connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The report of the next connection to finish (in the order they
    /// finish). Waits until one does; bound it with a timeout. `None` once
    /// the server has stopped.
    pub async fn next_report(&mut self) -> Option<ConnectionReport> {
        self.reports.recv().await
    }
}

impl Drop for BadServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    behaviour: Misbehaviour,
    accepted: Arc<AtomicUsize>,
    reports: mpsc::UnboundedSender<ConnectionReport>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("register listener with tokio");
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            res = listener.accept() => {
                let Ok((tcp, _peer)) = res else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                let behaviour = behaviour.clone();
                let reports = reports.clone();
                tokio::spawn(async move {
                    if let Some(report) = misbehave(tcp, &behaviour).await {
                        let _ = reports.send(report);
                    }
                });
            }
        }
    }
}

/// Serves one connection; `None` when it ended before a full request head.
async fn misbehave(mut tcp: TcpStream, behaviour: &Misbehaviour) -> Option<ConnectionReport> {
    let _ = tcp.set_nodelay(true);
    let mut buf = Vec::new();
    let head_len = tokio::time::timeout(READ_TIMEOUT, read_head(&mut tcp, &mut buf))
        .await
        .ok()??;
    let request = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    let answer = match behaviour {
        Misbehaviour::AfterUpgrade(bytes) => {
            let key = header(&request, "sec-websocket-key")?;
            let mut answer = handshake_response(key, "").into_bytes();
            answer.extend_from_slice(bytes);
            answer
        }
        Misbehaviour::Respond(bytes) => bytes.clone(),
    };
    let mut rest = buf.split_off(head_len);
    let client_closed = if tcp.write_all(&answer).await.is_err() {
        true
    } else {
        tokio::time::timeout(READ_TIMEOUT, read_to_end(&mut tcp, &mut rest))
            .await
            .is_ok()
    };
    let (frames, used) = parse_client_frames(&rest);
    Some(ConnectionReport {
        request,
        frames,
        trailing: rest[used..].to_vec(),
        client_closed,
    })
}

/// Reads until the blank line; the head's length, `None` on EOF or overflow.
async fn read_head(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(end + 4);
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads until EOF or an error (a reset counts as the client closing).
async fn read_to_end(tcp: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    loop {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The value of header `name` (lower-case) in a request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Parses client (normally masked) frames; returns them and the number of
/// bytes they used.
///
/// ```
/// use wsnova_tests::bad_server::parse_client_frames;
/// use wsnova_tests::mem_peer::raw_client_frame;
///
/// let mut bytes = raw_client_frame(0x88, [1, 2, 3, 4], &1007u16.to_be_bytes());
/// bytes.push(0x81); // a truncated next frame
/// let (frames, used) = parse_client_frames(&bytes);
/// assert_eq!(frames.len(), 1);
/// assert_eq!((frames[0].opcode, frames[0].masked), (0x8, true));
/// assert_eq!(frames[0].payload, 1007u16.to_be_bytes());
/// assert_eq!(used, bytes.len() - 1);
/// ```
pub fn parse_client_frames(bytes: &[u8]) -> (Vec<ClientFrame>, usize) {
    let mut frames = Vec::new();
    let mut at = 0;
    while let Some((frame, len)) = parse_frame(&bytes[at..]) {
        frames.push(frame);
        at += len;
    }
    (frames, at)
}

fn parse_frame(b: &[u8]) -> Option<(ClientFrame, usize)> {
    let (&b0, &b1) = (b.first()?, b.get(1)?);
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(b.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let mask: [u8; 4] = if masked {
        let m = b.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        m
    } else {
        [0; 4]
    };
    let len = usize::try_from(len).ok()?;
    let payload = b.get(at..at.checked_add(len)?)?;
    let payload = payload
        .iter()
        .zip(mask.iter().cycle())
        .map(|(x, m)| x ^ m)
        .collect();
    Some((
        ClientFrame {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0f,
            masked,
            payload,
        },
        at + len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem_peer::{handshake_request, raw_client_frame, raw_server_frame};

    async fn within<F: std::future::Future>(fut: F) -> F::Output {
        tokio::time::timeout(Duration::from_secs(5), fut)
            .await
            .expect("test timed out")
    }

    #[test]
    fn parses_all_three_length_encodings_and_unmasks() {
        let mut bytes = Vec::new();
        for len in [0usize, 125, 126, 65_535, 65_536] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            bytes.extend(raw_client_frame(0x82, [9, 8, 7, 6], &payload));
        }
        bytes.extend(raw_server_frame(0x89, b"unmasked"));
        let (frames, used) = parse_client_frames(&bytes);
        assert_eq!(used, bytes.len());
        let lens: Vec<usize> = frames.iter().map(|f| f.payload.len()).collect();
        assert_eq!(lens, [0, 125, 126, 65_535, 65_536, 8]);
        assert!(
            frames[..5]
                .iter()
                .all(|f| f.masked && f.fin && f.opcode == 2)
        );
        assert_eq!(frames[4].payload[300], 300usize as u8);
        assert!(!frames[5].masked);
        assert_eq!(frames[5].payload, b"unmasked");
    }

    #[test]
    fn finds_headers_case_insensitively() {
        let head = handshake_request("abc==", "X-Thing: 1");
        assert_eq!(header(&head, "sec-websocket-key"), Some("abc=="));
        assert_eq!(header(&head, "x-thing"), Some("1"));
        assert_eq!(header(&head, "missing"), None);
    }

    #[tokio::test]
    async fn upgrades_misbehaves_and_reports_the_clients_frames() {
        let mut server =
            BadServer::start(Misbehaviour::AfterUpgrade(raw_server_frame(0x81, b"hi")));
        within(async {
            let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
            let key = "dGhlIHNhbXBsZSBub25jZQ==";
            tcp.write_all(handshake_request(key, "").as_bytes())
                .await
                .unwrap();
            let mut want = handshake_response(key, "").into_bytes();
            want.extend(raw_server_frame(0x81, b"hi"));
            let mut got = vec![0u8; want.len()];
            tcp.read_exact(&mut got).await.unwrap();
            assert_eq!(got, want);
            tcp.write_all(&raw_client_frame(
                0x88,
                [1, 2, 3, 4],
                &1000u16.to_be_bytes(),
            ))
            .await
            .unwrap();
            drop(tcp);
            let report = server.next_report().await.unwrap();
            assert!(report.request.starts_with("GET / HTTP/1.1\r\n"));
            assert!(report.client_closed);
            assert_eq!(report.close_code(), Some(1000));
            assert!(report.trailing.is_empty());
        })
        .await;
        assert_eq!(server.connections_accepted(), 1);
    }

    #[tokio::test]
    async fn responds_with_the_given_bytes_instead_of_a_101() {
        let mut server = BadServer::start(Misbehaviour::Respond(b"SSH-2.0-x\r\n".to_vec()));
        within(async {
            let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
            tcp.write_all(handshake_request("k==", "").as_bytes())
                .await
                .unwrap();
            let mut got = [0u8; 11];
            tcp.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"SSH-2.0-x\r\n");
            tcp.write_all(b"\x81").await.unwrap(); // half a frame
            drop(tcp);
            let report = server.next_report().await.unwrap();
            assert!(report.frames.is_empty());
            assert_eq!(report.trailing, b"\x81");
            assert_eq!(report.close_code(), None);
        })
        .await;
    }
}
