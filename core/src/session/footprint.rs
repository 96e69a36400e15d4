//! What an idle session holds (issue #18: idle memory per connection):
//! its inline size, and no queue or buffer capacity once it sits in
//! `Ready` with nothing to do. Each bound fails if a saving is undone.

use std::mem::size_of;
use std::time::{Duration, Instant};

use super::adapter::Plain;
use super::config::SessionConfig;
use super::env::SessionRng;
use super::handle::Session;
use super::io::{Input, Output};
use super::sequence::Sequences;
use super::state::SessionState;
use super::telemetry::Telemetry;
use super::timers::Timers;

/// The boxed session's size, the largest item an idle connection holds
/// (3,584 bytes before the savings). Today: the wire's state (928, inline
/// in the transport, with the adaptive read size), the configuration
/// (600), the telemetry handles (232), the timers (136, with the kept
/// earliest deadline), the counters, the concerns.
const SESSION_BYTES: usize = 2_824;

#[test]
fn the_session_stays_small() {
    let sizes = [
        ("Session<Plain>", size_of::<Session<Plain>>()),
        ("SessionConfig", size_of::<SessionConfig>()),
        ("Telemetry", size_of::<Telemetry>()),
    ];
    assert!(size_of::<Session<Plain>>() <= SESSION_BYTES, "{sizes:?}");
    // ChaCha rebuilt per draw from a 32-byte key, not StdRng's 320 bytes.
    assert_eq!(size_of::<SessionRng>(), 32);
    // Sequenced channels' tables only once a channel is sequenced.
    assert_eq!(size_of::<Sequences>(), size_of::<usize>());
    // The per-method request series only once a request is sent; the
    // state gauges registered per transition, not held.
    assert!(size_of::<Telemetry>() <= 232, "{sizes:?}");
    // Counters without the latency summaries `Stats` carries.
    assert!(size_of::<super::stats::Meters>() <= 72);
    // Deadlines as 8-byte offsets, not 16-byte `Option<Instant>`s (and
    // the kept earliest one).
    assert!(size_of::<Timers>() <= 136, "{}", size_of::<Timers>());
}

/// Drives a session to `Ready` against a scripted server that answers the
/// upgrade, draining every output as a driver does.
fn ready_session() -> Session<Plain> {
    let mut config = SessionConfig::new("ws://127.0.0.1:9001/").expect("valid URL");
    config.seed = 7;
    config.heartbeat.ping_interval = None;
    let mut now = Instant::now();
    let mut session = Session::new(config, Plain, now);
    session.connect(now).expect("connects");
    let mut sent = Vec::new();
    for _ in 0..4 {
        while let Some(output) = session.poll_output() {
            if let Output::Dial { generation, .. } = output {
                session.handle_input(now, Input::Connected { generation });
            }
        }
        let n = session.pending_transmit().len();
        sent.extend_from_slice(session.pending_transmit());
        session.advance_transmit(n);
        if session.state() == SessionState::Ready {
            return session;
        }
        if let Some(key) = std::str::from_utf8(&sent)
            .expect("an ASCII request")
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        {
            let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
            let reply = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            sent.clear();
            now += Duration::from_millis(5);
            let generation = session.core.transport.generation();
            session.handle_input(
                now,
                Input::Bytes {
                    generation,
                    data: reply.as_bytes(),
                },
            );
        }
    }
    panic!("not ready: {:?}", session.state());
}

#[test]
fn an_idle_ready_session_holds_no_queue_or_buffer_memory() {
    let session = ready_session();
    let core = &session.core;
    assert_eq!(
        core.env.out.held_bytes(),
        0,
        "the outputs and lifecycle queues give their memory back after Ready"
    );
    let wire = core.transport.wire.as_ref().expect("connected");
    assert_eq!(
        wire.buffered_bytes(),
        0,
        "the upgrade's buffers are given back"
    );
    assert!(
        core.outbound.queues.lanes.is_empty(),
        "no rate-limit lane before anything queued"
    );
    assert_eq!(
        core.env.out.meters.held_windows(),
        0,
        "no round-trip windows yet"
    );
}
