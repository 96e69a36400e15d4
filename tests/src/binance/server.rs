//! The listener: its thread and runtime, the market's ticker, the upgrade
//! (which endpoint, which initial streams) and the registration of each
//! connection.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, oneshot};
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::http::StatusCode;

use super::conn::{self, Conn};
use super::market::Tick;
use super::state::{ConnInfo, Endpoint, Shared};

/// The WebSocket API's path.
pub(crate) const API_PATH: &str = "/ws-api/v3";

const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
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
        .name(format!("mock-binance-{}", addr.port()))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build mock Binance runtime");
            runtime.block_on(accept_loop(listener, shared, shutdown_rx));
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        })
        .expect("spawn mock Binance thread");
    (addr, shutdown, thread)
}

async fn accept_loop(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("register listener with tokio");
    let (ticks, _) = broadcast::channel::<Arc<Vec<Tick>>>(4096);
    tokio::spawn(ticker(Arc::clone(&shared), ticks.clone()));
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve(tcp, peer, Arc::clone(&shared), ticks.subscribe()));
    }
}

/// Moves the market every tick (unless paused) and tells the connections.
async fn ticker(shared: Arc<Shared>, tx: broadcast::Sender<Arc<Vec<Tick>>>) {
    let mut interval = tokio::time::interval(shared.config.tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let ticks = shared.with(|st| (!st.plan.paused).then(|| st.market.tick()));
        if let Some(ticks) = ticks {
            let _ = tx.send(Arc::new(ticks));
        }
    }
}

/// Which endpoint a path is, and its initial streams.
fn route(uri: &tungstenite::http::Uri) -> Option<(Endpoint, BTreeSet<String>)> {
    let split = |s: &str| {
        s.split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let path = uri.path();
    if path == API_PATH {
        return Some((Endpoint::Api, BTreeSet::new()));
    }
    if path == "/ws" {
        return Some((Endpoint::Raw, BTreeSet::new()));
    }
    if let Some(streams) = path.strip_prefix("/ws/") {
        return Some((Endpoint::Raw, split(streams)));
    }
    if path == "/stream" || path == "/stream/" {
        let streams = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|kv| kv.strip_prefix("streams="))
            .map(split)
            .unwrap_or_default();
        return Some((Endpoint::Combined, streams));
    }
    None
}

async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    ticks: broadcast::Receiver<Arc<Vec<Tick>>>,
) {
    let mut routed = None;
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        if let Some(r) = route(request.uri()) {
            routed = Some(r);
            return Ok(response);
        }
        let mut not_found = ErrorResponse::new(Some("not found".to_owned()));
        *not_found.status_mut() = StatusCode::NOT_FOUND;
        Err(not_found)
    };
    let upgrade = tokio_tungstenite::accept_hdr_async(tcp, callback);
    let Ok(Ok(ws)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade).await else {
        return;
    };
    let Some((endpoint, streams)) = routed else {
        return;
    };
    let _ = peer;
    let id = shared.with(|st| {
        let id = st.next_conn;
        st.next_conn += 1;
        st.stats.connections.insert(
            id,
            ConnInfo {
                id,
                endpoint,
                established_at: Instant::now(),
                streams: streams.clone(),
                messages_received: 0,
                peak_messages_per_second: 0,
                pings_sent: 0,
                pongs_received: 0,
                ended: None,
            },
        );
        id
    });
    conn::run(
        ws,
        Conn::new(id, Arc::clone(&shared), endpoint, streams),
        ticks,
    )
    .await;
}
