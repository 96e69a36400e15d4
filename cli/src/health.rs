//! `--metrics ADDR`: a small HTTP endpoint with `/metrics` (Prometheus
//! text format), `/healthz` (the process runs: always 200) and `/readyz`
//! (200 when every connection is `Ready`, else 503 with their states).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsnova_tokio::{Client, SessionState};

/// The connections `/readyz` reports on (ready: at least one, all `Ready`).
pub type Watched = Arc<Mutex<Vec<Client>>>;

/// Installs the Prometheus recorder and serves the endpoint on `addr` in
/// the background; the connection to watch is set later.
pub async fn serve(addr: SocketAddr) -> Result<Watched, String> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("--metrics {addr}: {e}"))?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--metrics {addr}: {e}"))?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        // Histograms are folded into their summaries here (the exporter's rule).
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    let watched = Watched::default();
    let client = watched.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (handle, client) = (handle.clone(), client.clone());
            tokio::spawn(answer(stream, handle, client));
        }
    });
    Ok(watched)
}

/// Answers one request and closes the connection.
async fn answer(mut stream: TcpStream, metrics: PrometheusHandle, client: Watched) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    // The request line and headers: enough to route, bounded in size.
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        "/metrics" => ("200 OK", metrics.render()),
        "/healthz" => ("200 OK", "ok\n".to_owned()),
        "/readyz" => {
            let clients = client.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let states: Vec<SessionState> = clients.iter().map(|c| c.status().state).collect();
            if !states.is_empty() && states.iter().all(|s| *s == SessionState::Ready) {
                ("200 OK", "ready\n".to_owned())
            } else if states.is_empty() {
                ("503 Service Unavailable", "connecting\n".to_owned())
            } else {
                ("503 Service Unavailable", format!("{states:?}\n"))
            }
        }
        _ => (
            "404 Not Found",
            "not found: try /metrics, /healthz, /readyz\n".to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
