//! The listener: its thread and runtime, the accept loop (with refusals),
//! the WebSocket upgrade and the registration of each connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::sync::oneshot;
use tokio_tungstenite::WebSocketStream;
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::http::StatusCode;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

use super::armed::ArmedFaults;
use super::conn::{self, Conn, Ending};
use super::faults::RefuseMode;
use super::state::{ConnEvent, Shared};
use super::stats::{ConnectionInfo, FaultKind};

/// The WebSocket path Deribit serves.
pub(crate) const PATH: &str = "/ws/api/v2";

/// How long dropping the server waits for its tasks to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long a server-initiated close waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How long a client gets to complete the upgrade.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds the listener and starts the server thread.
pub(crate) fn spawn(shared: Arc<Shared>) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<()>) {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", shared.config.port)).expect("bind 127.0.0.1");
    listener
        .set_nonblocking(true)
        .expect("set listener non-blocking");
    let addr = listener.local_addr().expect("listener address");
    let (shutdown, shutdown_rx) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name(format!("mock-deribit-{}", addr.port()))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build mock Deribit runtime");
            runtime.block_on(accept_loop(listener, shared, shutdown_rx));
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        })
        .expect("spawn mock Deribit thread");
    (addr, shutdown, thread)
}

async fn accept_loop(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("register listener with tokio");
    loop {
        let paused = shared.with(|st| st.plan.paused_until(Instant::now()));
        if let Some(until) = paused {
            tokio::select! {
                _ = &mut shutdown => return,
                () = tokio::time::sleep_until(until.into()) => {}
                () = shared.wake.notified() => {}
            }
            continue;
        }
        let (tcp, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => return,
            () = shared.wake.notified() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // e.g. EMFILE: back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let (held, refusal) = shared.with(|st| {
            st.stats.connections_accepted += 1;
            let now = Instant::now();
            if let Some(until) = st.plan.paused_until(now) {
                return (Some(until), None);
            }
            let refusal = st.plan.refuse(now, &st.config.chaos);
            if refusal.is_some() {
                st.stats.connections_refused += 1;
                st.record_fault(None, FaultKind::Refuse);
            }
            (None, refusal)
        });
        if let Some(until) = held {
            // Slipped in as accepting paused: served once the pause is over,
            // as if it had waited in the backlog.
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                tokio::time::sleep_until(until.into()).await;
                serve(tcp, peer, shared).await;
            });
            continue;
        }
        match refusal {
            None => {
                tokio::spawn(serve(tcp, peer, Arc::clone(&shared)));
            }
            Some(RefuseMode::Close) => drop(tcp),
            Some(RefuseMode::Http(status)) => {
                tokio::spawn(reject(tcp, status));
            }
            Some(RefuseMode::Blackhole | RefuseMode::NoAccept) => {
                tokio::spawn(blackhole(tcp));
            }
        }
    }
}

/// Holds the connection open, discarding what arrives, until the client
/// gives up (or the server stops).
async fn blackhole(mut tcp: TcpStream) {
    let mut buf = [0u8; 4096];
    while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// Answers the upgrade request with HTTP `status`.
async fn reject(tcp: TcpStream, status: u16) {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    // The signature is tungstenite's handshake callback's.
    #[allow(clippy::result_large_err)]
    let callback = move |_: &Request, _: Response| -> Result<Response, ErrorResponse> {
        let mut response = ErrorResponse::new(Some("connection refused by the mock".to_owned()));
        *response.status_mut() = status;
        Err(response)
    };
    let upgrade = tokio_tungstenite::accept_hdr_async(tcp, callback);
    let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade).await;
}

fn ws_config(max_frame_bytes: usize) -> WebSocketConfig {
    // Generous: the mock itself refuses messages over `max_frame_bytes`
    // with a JSON-RPC error, which needs the message to be read first.
    let limit = (16 << 20).max(max_frame_bytes.saturating_mul(2));
    WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit))
}

/// Upgrades (on [`PATH`] only), registers and serves a connection.
async fn serve(tcp: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        if request.uri().path() == PATH {
            return Ok(response);
        }
        let mut not_found = ErrorResponse::new(Some("not found".to_owned()));
        *not_found.status_mut() = StatusCode::NOT_FOUND;
        Err(not_found)
    };
    let config = Some(ws_config(shared.config.max_frame_bytes));
    let upgrade = tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, config);
    let Ok(Ok(ws)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade).await else {
        return;
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let now = Instant::now();
    let id = shared.with(|st| {
        let id = st.next_conn;
        st.next_conn += 1;
        for fault in st.plan.for_new_connection() {
            let _ = tx.send(ConnEvent::Fault(fault));
        }
        st.conns.insert(id, tx);
        let info = ConnectionInfo {
            id,
            peer,
            established_at: now,
            account: None,
            subscriptions: Default::default(),
            heartbeat_interval: None,
            cancel_on_disconnect: None,
            ended: None,
        };
        st.stats.connections.insert(id, info);
        id
    });
    let config = &shared.config;
    let faults = ArmedFaults::new(config.seed, id, &config.chaos, now);
    let conn = Conn::new(id, Arc::clone(&shared), faults);
    run(ws, conn, rx).await;
}

/// Serves an upgraded connection until it ends.
async fn run(
    mut ws: WebSocketStream<TcpStream>,
    mut conn: Conn,
    mut events: UnboundedReceiver<ConnEvent>,
) {
    loop {
        let deadline = conn.deadline();
        let sleep = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            // Faults and order events first: a fault applied before a request
            // was sent takes effect before that request is handled.
            biased;
            event = events.recv() => match event {
                Some(event) => conn.on_event(event, Instant::now()),
                None => return,
            },
            msg = ws.next(), if !conn.faults.stalled => conn.on_message(msg, Instant::now()),
            () = sleep => conn.on_timer(Instant::now()),
        }
        if let Err(e) = conn.flush(&mut ws).await {
            let reason = conn::end_reason(&e);
            conn.ending.get_or_insert(Ending::Gone(reason));
        }
        let Some(ending) = conn.ending.take() else {
            continue;
        };
        match ending {
            Ending::Gone(reason) => conn.wind_down(reason),
            Ending::Drop(reason) => {
                conn.wind_down(reason);
                drop(ws);
            }
            Ending::Close(code, reason_text, reason) => {
                conn.wind_down(reason);
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason_text.into(),
                };
                let _ = tokio::time::timeout(CLOSE_GRACE, async {
                    if ws.close(Some(frame)).await.is_ok() {
                        while let Some(Ok(_)) = ws.next().await {}
                    }
                })
                .await;
            }
        }
        return;
    }
}
