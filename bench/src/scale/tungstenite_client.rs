//! tokio-tungstenite 0.30: one task per connection on a tokio
//! current-thread runtime (one thread, like the one mio loop), default
//! configuration. A semaphore keeps at most `window` handshakes in flight.
//! Each task then awaits `StreamExt::next` and stamps the time the
//! broadcast arrived.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt as _;
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use super::server::PAYLOAD_LEN;
use super::{
    BROADCAST_TIMEOUT, ChildArgs, Control, Measured, Metrics, Recorder, cpu_time, memory_kib,
};

/// How the opening goes, shared by the connection tasks.
struct Opening {
    opened: AtomicUsize,
    error: Mutex<Option<String>>,
    changed: Notify,
}

/// Opens `args.connections`, broadcasts once, reports.
pub fn run(args: &ChildArgs) -> Result<Metrics, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(measure(args))
}

async fn measure(args: &ChildArgs) -> Result<Metrics, String> {
    let n = args.connections;
    let recorder = Arc::new(Recorder::new(n));
    let opening = Arc::new(Opening {
        opened: AtomicUsize::new(0),
        error: Mutex::new(None),
        changed: Notify::new(),
    });
    let window = Arc::new(Semaphore::new(args.window));
    let mut control = Control::connect(args.control)?;
    let (addr, url) = (args.websocket, args.url());

    let before = memory_kib();
    let started = Instant::now();
    for i in 0..n {
        let (recorder, opening, window, url) = (
            recorder.clone(),
            opening.clone(),
            window.clone(),
            url.clone(),
        );
        tokio::spawn(async move {
            let permit = window.acquire_owned().await;
            let connected = async {
                let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                tcp.set_nodelay(true).map_err(|e| e.to_string())?;
                let (ws, _response) = tokio_tungstenite::client_async(url, tcp)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(ws)
            }
            .await;
            drop(permit);
            let mut ws = match connected {
                Ok(ws) => ws,
                Err(e) => {
                    let mut error = opening.error.lock().unwrap_or_else(|e| e.into_inner());
                    error.get_or_insert(format!("connection {i}: {e}"));
                    drop(error);
                    opening.changed.notify_one();
                    return;
                }
            };
            if opening.opened.fetch_add(1, Ordering::AcqRel) + 1 == n {
                opening.changed.notify_one();
            }
            while let Some(Ok(message)) = ws.next().await {
                if let Message::Binary(payload) = message
                    && payload.len() == PAYLOAD_LEN
                {
                    recorder.record(i);
                }
            }
        });
    }
    loop {
        if let Some(e) = opening
            .error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            return Err(e);
        }
        if opening.opened.load(Ordering::Acquire) == n {
            break;
        }
        opening.changed.notified().await;
    }
    let open = started.elapsed();
    let after = memory_kib();

    let cpu_before = cpu_time();
    let trigger = control.trigger()?;
    let all_received = tokio::time::timeout(BROADCAST_TIMEOUT, async {
        while recorder.received() < n {
            recorder.notify.notified().await;
        }
    })
    .await
    .is_ok();
    // Blocking reads from here on: the tasks have nothing left to do.
    let broadcast_cpu = cpu_time().saturating_sub(cpu_before);
    let sent = control.sent()?;
    let measured = Measured {
        connections: n,
        open,
        before,
        after,
        trigger,
        all_received,
        broadcast_cpu,
    };
    let metrics = measured.metrics(&recorder, sent);
    control.quit();
    metrics
}
