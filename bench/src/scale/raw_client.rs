//! Raw TCP: the floor for opening connections. One `mio::Poll` on one
//! thread (like wsnova-mio's loop) keeps at most `window` non-blocking
//! connects in flight to the broadcast server's WebSocket port; a connection
//! counts as open once its socket turns writable without an error (the TCP
//! handshake is done). No upgrade, no WebSocket: it gets no broadcast, so
//! only its open time and memory are reported, to compare wsnova-mio's
//! open time with in the same run.

use std::io;
use std::time::{Duration, Instant};

use wsnova_mio::mio::net::TcpStream;
use wsnova_mio::mio::{Events, Interest, Poll, Token};

use super::{ChildArgs, Metrics, memory_kib};
use wsnova_bench::sys::status_kib;

/// The longest the opening may take before the run is called stuck.
const STUCK: Duration = Duration::from_secs(120);

/// Opens `args.connections` TCP connections, reports open time and memory.
pub fn run(args: &ChildArgs) -> Result<Metrics, String> {
    let n = args.connections;
    let mut poll = Poll::new().map_err(|e| format!("Poll::new: {e}"))?;
    let mut events = Events::with_capacity(256);
    let mut streams: Vec<TcpStream> = Vec::with_capacity(n);
    let before = memory_kib();
    let started = Instant::now();
    let (mut opened, mut in_flight) = (0usize, 0usize);
    let dial = |streams: &mut Vec<TcpStream>, poll: &Poll| -> Result<(), String> {
        let i = streams.len();
        let mut stream =
            TcpStream::connect(args.websocket).map_err(|e| format!("connect {i}: {e}"))?;
        poll.registry()
            .register(&mut stream, Token(i), Interest::WRITABLE)
            .map_err(|e| format!("register {i}: {e}"))?;
        streams.push(stream);
        Ok(())
    };
    while opened < n {
        while streams.len() < n && in_flight < args.window {
            dial(&mut streams, &poll)?;
            in_flight += 1;
        }
        if started.elapsed() > STUCK {
            return Err(format!("only {opened} of {n} connected after {STUCK:?}"));
        }
        poll.poll(&mut events, Some(Duration::from_secs(1)))
            .map_err(|e| format!("poll: {e}"))?;
        for event in events.iter() {
            let Token(i) = event.token();
            let stream = &mut streams[i];
            if let Some(e) = stream.take_error().map_err(|e| e.to_string())? {
                return Err(format!("connection {i}: {e}"));
            }
            match stream.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => continue,
                Err(e) => return Err(format!("connection {i}: {e}")),
            }
            // Open: stop watching it (an idle socket needs no more events).
            poll.registry()
                .deregister(stream)
                .map_err(|e| format!("deregister {i}: {e}"))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            opened += 1;
            in_flight -= 1;
        }
    }
    let open = started.elapsed();
    let after = memory_kib();
    let mut m = Metrics::new();
    let count = n as f64;
    m.insert("connections".into(), count);
    m.insert("open_ms".into(), open.as_secs_f64() * 1e3);
    m.insert("rss_before_kib".into(), before.0);
    m.insert("rss_after_kib".into(), after.0);
    m.insert("rss_per_conn_kib".into(), (after.0 - before.0) / count);
    m.insert("data_per_conn_kib".into(), (after.1 - before.1) / count);
    m.insert(
        "peak_rss_kib".into(),
        status_kib("VmHWM").unwrap_or(0) as f64,
    );
    // Straight out: the process exits without closing them one by one.
    std::mem::forget(streams);
    Ok(m)
}
