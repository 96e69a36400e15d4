//! wsnova-mio: one `EventLoop` (one thread, one `mio::Poll`) holding every
//! connection.
//!
//! Each connection is made with `Builder::connect_with_callback`, so its
//! events go to a closure on the loop thread (no per-connection queue, no
//! consumer thread): the closure stamps the time the broadcast arrived. The
//! adapter is `Plain` and heartbeats are off, so idle connections cost the
//! loop nothing. `connect_with_callback` blocks its caller until the
//! connection is ready, so `window` opener threads (small stacks) keep that
//! many handshakes in flight, the same window the tokio-tungstenite run uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use wsnova_mio::ConnectOn as _;

use wsnova_core::session::{Event, HeartbeatConfig, Plain};
use wsnova_core::wire::Message;
use wsnova_mio::{Builder, EventLoop, Handle};

use super::server::PAYLOAD_LEN;
use super::{
    BROADCAST_TIMEOUT, ChildArgs, Control, Measured, Metrics, Recorder, cpu_time, memory_kib,
};

/// Opener threads' stacks: they only block in `connect_with_callback`.
const OPENER_STACK: usize = 128 * 1024;

/// Opens `args.connections`, broadcasts once, reports.
pub fn run(args: &ChildArgs) -> Result<Metrics, String> {
    let n = args.connections;
    let event_loop = EventLoop::new().map_err(|e| format!("EventLoop::new: {e}"))?;
    let builder = Builder::new(&args.url())
        .map_err(|e| e.to_string())?
        .heartbeat(HeartbeatConfig {
            ping_interval: None,
            ..HeartbeatConfig::default()
        })
        .dial_to(args.websocket.ip().to_string(), args.websocket.port());
    let recorder = Arc::new(Recorder::new(n));
    let mut control = Control::connect(args.control)?;

    let before = memory_kib();
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let handles: Vec<Handle> = std::thread::scope(|scope| {
        let openers: Vec<_> = (0..args.window.min(n))
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(OPENER_STACK)
                    .spawn_scoped(scope, || -> Result<Vec<Handle>, String> {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= n {
                                return Ok(mine);
                            }
                            let recorder = recorder.clone();
                            let handle = builder
                                .clone()
                                .connect_with_callback(&event_loop, Plain, move |event| {
                                    if let Event::Message(Message::Binary(payload)) = event
                                        && payload.len() == PAYLOAD_LEN
                                    {
                                        recorder.record(i);
                                    }
                                })
                                .map_err(|e| format!("connection {i}: {e}"))?;
                            mine.push(handle);
                        }
                    })
                    .map_err(|e| format!("opener thread: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let mut all = Vec::with_capacity(n);
        for opener in openers {
            all.extend(opener.join().map_err(|_| "an opener thread panicked")??);
        }
        Ok::<_, String>(all)
    })?;
    let open = started.elapsed();
    let after = memory_kib();

    let cpu_before = cpu_time();
    let trigger = control.trigger()?;
    let all_received = recorder.wait_all(BROADCAST_TIMEOUT);
    let broadcast_cpu = cpu_time().saturating_sub(cpu_before);
    let sent = control.sent()?;
    let measured = Measured {
        connections: handles.len(),
        open,
        before,
        after,
        trigger,
        all_received,
        broadcast_cpu,
    };
    let metrics = measured.metrics(&recorder, sent);
    control.quit();
    // Dropping the handles and the loop would close 10,000 sessions one
    // handshake at a time; the process exits without that.
    std::mem::forget(handles);
    std::mem::forget(event_loop);
    metrics
}
