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
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::WebSocketConfig;

#[cfg(test)]
mod tests;

/// Largest message and frame payload the echo server accepts (64 MiB).
pub const MAX_MESSAGE_SIZE: usize = 64 << 20;

/// How long dropping the server waits for connection tasks to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running echo server; dropping it shuts it down.
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    tls: bool,
    accepted: Arc<AtomicUsize>,
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

    fn spawn(tls: Option<TlsAcceptor>) -> EchoServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("set listener non-blocking");
        let addr = listener.local_addr().expect("listener address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let (shutdown, shutdown_rx) = oneshot::channel();
        let is_tls = tls.is_some();
        let counter = Arc::clone(&accepted);
        let thread = std::thread::Builder::new()
            .name(format!("echo-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build echo server runtime");
                runtime.block_on(accept_loop(listener, tls, counter, shutdown_rx));
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })
            .expect("spawn echo server thread");
        EchoServer {
            addr,
            tls: is_tls,
            accepted,
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

async fn accept_loop(
    listener: std::net::TcpListener,
    tls: Option<TlsAcceptor>,
    accepted: Arc<AtomicUsize>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("register listener with tokio");
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            res = listener.accept() => {
                let Ok((tcp, _peer)) = res else {
                    // e.g. EMFILE: back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                let _ = tcp.set_nodelay(true);
                match tls.clone() {
                    None => { tokio::spawn(serve(tcp)); }
                    Some(acceptor) => {
                        tokio::spawn(async move {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                serve(stream).await;
                            }
                        });
                    }
                }
            }
        }
    }
}

/// Upgrades `stream` and echoes until the connection ends.
async fn serve<S>(stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Ok(ws) =
        tokio_tungstenite::accept_async_with_config(stream, Some(server_ws_config())).await
    else {
        return;
    };
    let mut inner = echo(ws).await;
    // FIN (and close_notify for TLS) after the close handshake.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, inner.shutdown()).await;
}

/// The echo loop. Replies are batched: they are only flushed once no further
/// message is immediately available (or a ping / close needs answering).
async fn echo<S>(mut ws: WebSocketStream<S>) -> S
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut unflushed = false;
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
            ws.next().await
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
    ws.into_inner()
}
