//! A real WebSocket echo server (tokio-tungstenite), plain or over TLS.
//!
//! The server listens on `127.0.0.1:0` (an ephemeral port), runs on its own
//! thread with its own single-threaded tokio runtime and serves any number of
//! connections. It echoes text and binary messages, answers pings (done by
//! tungstenite) and completes the close handshake echoing the client's close
//! code. Messages and frames up to [`MAX_MESSAGE_SIZE`] are accepted.
//!
//! Dropping the [`EchoServer`] stops it: the listener closes, open
//! connections are dropped, and the thread is joined (bounded).
//!
//! Controls for reconnection tests act on every live connection while the
//! listener stays open: [`EchoServer::kill_connections`] drops the sockets
//! without a close frame, [`EchoServer::close_connections`] starts a close
//! handshake with a given code.
//!
//! ```no_run
//! use wsnova_tests::EchoServer;
//!
//! let server = EchoServer::start();
//! println!("connect to {}", server.url()); // ws://127.0.0.1:<port>/
//! drop(server); // stops and joins the server thread
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

#[cfg(test)]
mod tests;

/// Largest message and frame payload the echo server accepts (64 MiB).
pub const MAX_MESSAGE_SIZE: usize = 64 << 20;

/// How long dropping the server waits for connection tasks to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long a control call waits for the server thread to acknowledge it.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// What a control call asks of every live connection.
#[derive(Debug, Clone)]
enum Control {
    /// Drop the socket: no close frame, no shutdown handshake.
    Kill,
    /// Send a close frame, then finish the close handshake as usual.
    Close(u16, String),
}

/// A control call on its way to the accept loop, with the reply channel
/// that gets the number of live connections it reached.
type ControlRequest = (Control, std::sync::mpsc::Sender<usize>);

/// A running echo server; dropping it shuts it down.
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    tls: bool,
    accepted: Arc<AtomicUsize>,
    live: Arc<AtomicUsize>,
    controls: mpsc::UnboundedSender<ControlRequest>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    /// Starts a plain (`ws://`) echo server.
    ///
    /// # Panics
    ///
    /// If the listener cannot be bound or the thread cannot be spawned.
    pub fn start() -> EchoServer {
        Self::spawn(None)
    }

    /// Starts a TLS (`wss://`) echo server using `config`, e.g.
    /// [`TestPki::server_config`](crate::TestPki::server_config).
    ///
    /// # Panics
    ///
    /// If the listener cannot be bound or the thread cannot be spawned.
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> EchoServer {
        Self::spawn(Some(TlsAcceptor::from(config)))
    }

    /// The address the server listens on (always `127.0.0.1:<port>`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to connect to: `ws://127.0.0.1:<port>/` for a plain server,
    /// `wss://localhost:<port>/` for a TLS server (so the host matches a
    /// certificate issued for `localhost`; resolve it to [`addr`](Self::addr)).
    pub fn url(&self) -> String {
        let port = self.addr.port();
        if self.tls {
            format!("wss://localhost:{port}/")
        } else {
            format!("ws://127.0.0.1:{port}/")
        }
    }

    /// Number of TCP connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Number of accepted connections whose task has not ended yet.
    pub fn live_connections(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Ends every live connection abruptly: its socket is dropped without a
    /// close frame (the peer sees EOF, or a reset if data was unread). The
    /// listener stays open. Returns how many connections were told; each
    /// drops its socket as soon as its task runs (asynchronously).
    ///
    /// Blocks the calling thread for as long as the server thread takes to
    /// acknowledge (microseconds; bounded).
    ///
    /// # Panics
    ///
    /// If the server thread does not answer within a few seconds.
    pub fn kill_connections(&self) -> usize {
        self.control(Control::Kill)
    }

    /// Sends a close frame with `code` and `reason` to every live connection
    /// (upgraded or not yet: a connection still in its upgrade gets it right
    /// after), then completes the close handshake. The listener stays open.
    /// Returns how many connections were told.
    ///
    /// # Panics
    ///
    /// If the server thread does not answer within a few seconds.
    pub fn close_connections(&self, code: u16, reason: &str) -> usize {
        self.control(Control::Close(code, reason.to_owned()))
    }

    fn control(&self, control: Control) -> usize {
        let (reply, answer) = std::sync::mpsc::channel();
        self.controls
            .send((control, reply))
            .expect("echo server thread is running");
        answer
            .recv_timeout(CONTROL_TIMEOUT)
            .expect("echo server acknowledges a control call")
    }

    fn spawn(tls: Option<TlsAcceptor>) -> EchoServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("set listener non-blocking");
        let addr = listener.local_addr().expect("listener address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let live = Arc::new(AtomicUsize::new(0));
        let (shutdown, shutdown_rx) = oneshot::channel();
        let (controls, controls_rx) = mpsc::unbounded_channel();
        let is_tls = tls.is_some();
        let counters = Counters {
            accepted: Arc::clone(&accepted),
            live: Arc::clone(&live),
        };
        let thread = std::thread::Builder::new()
            .name(format!("echo-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build echo server runtime");
                runtime.block_on(accept_loop(
                    listener,
                    tls,
                    counters,
                    controls_rx,
                    shutdown_rx,
                ));
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })
            .expect("spawn echo server thread");
        EchoServer {
            addr,
            tls: is_tls,
            accepted,
            live,
            controls,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The runtime shutdown is bounded by SHUTDOWN_GRACE.
            let _ = thread.join();
        }
    }
}

/// The server-side tungstenite limits: large enough for 16 MiB+ messages.
fn server_ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE))
}

/// The server's connection counters, shared with the [`EchoServer`] handle.
struct Counters {
    accepted: Arc<AtomicUsize>,
    live: Arc<AtomicUsize>,
}

/// Decrements the live-connection count when a connection task ends (or
/// is dropped at shutdown).
struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    tls: Option<TlsAcceptor>,
    counters: Counters,
    mut controls: mpsc::UnboundedReceiver<ControlRequest>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("register listener with tokio");
    // One control channel per connection; closed ones are pruned on use.
    let mut connections: Vec<mpsc::UnboundedSender<Control>> = Vec::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            Some((control, reply)) = controls.recv() => {
                connections.retain(|c| c.send(control.clone()).is_ok());
                let _ = reply.send(connections.len());
            }
            res = listener.accept() => {
                let Ok((tcp, _peer)) = res else {
                    // e.g. EMFILE: back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                counters.accepted.fetch_add(1, Ordering::SeqCst);
                counters.live.fetch_add(1, Ordering::SeqCst);
                let guard = LiveGuard(Arc::clone(&counters.live));
                let (control_tx, control_rx) = mpsc::unbounded_channel();
                connections.retain(|c| !c.is_closed());
                connections.push(control_tx);
                let _ = tcp.set_nodelay(true);
                match tls.clone() {
                    None => {
                        tokio::spawn(async move {
                            let _guard = guard;
                            serve(tcp, control_rx).await;
                        });
                    }
                    Some(acceptor) => {
                        tokio::spawn(async move {
                            let _guard = guard;
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                serve(stream, control_rx).await;
                            }
                        });
                    }
                }
            }
        }
    }
}

/// Upgrades `stream` and echoes until the connection ends.
async fn serve<S>(stream: S, controls: mpsc::UnboundedReceiver<Control>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Ok(ws) =
        tokio_tungstenite::accept_async_with_config(stream, Some(server_ws_config())).await
    else {
        return;
    };
    // `None`: killed; drop the socket without a close frame or FIN handshake.
    if let Some(mut inner) = echo(ws, controls).await {
        // FIN (and close_notify for TLS) after the close handshake.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, inner.shutdown()).await;
    }
}

/// The echo loop. Replies are batched: they are only flushed once no further
/// message is immediately available (or a ping / close needs answering).
/// Returns the stream after a normal end, `None` when a control killed it.
async fn echo<S>(
    mut ws: WebSocketStream<S>,
    mut controls: mpsc::UnboundedReceiver<Control>,
) -> Option<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut unflushed = false;
    let mut controlled = true;
    loop {
        let next = if unflushed {
            match ws.next().now_or_never() {
                Some(next) => next,
                None => {
                    if ws.flush().await.is_err() {
                        break;
                    }
                    unflushed = false;
                    continue;
                }
            }
        } else {
            tokio::select! {
                control = controls.recv(), if controlled => {
                    match control {
                        Some(Control::Kill) => return None,
                        Some(Control::Close(code, reason)) => {
                            let frame = CloseFrame {
                                code: CloseCode::from(code),
                                reason: reason.into(),
                            };
                            // The reply and the end of the stream follow as usual.
                            if ws.send(Message::Close(Some(frame))).await.is_err() {
                                break;
                            }
                        }
                        // The server is shutting down; the runtime ends this task.
                        None => controlled = false,
                    }
                    continue;
                }
                next = ws.next() => next,
            }
        };
        match next {
            Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                if ws.feed(msg).await.is_err() {
                    break;
                }
                unflushed = true;
            }
            // tungstenite queued the pong / close reply; make sure it goes out.
            Some(Ok(Message::Ping(_) | Message::Close(_))) => unflushed = true,
            Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
            Some(Err(_)) | None => break,
        }
    }
    Some(ws.into_inner())
}
