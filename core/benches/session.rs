//! What one message costs inside the core: an inbound notification through
//! wire + session, and one outgoing request into the transmit buffer.
//!
//! Run with `cargo bench -p wsnova-core`.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use wsnova_core::session::{
    Adapter, Event, HeartbeatConfig, Input, Output, Session, SessionConfig,
};

/// Plain JSON-RPC 2.0: every method + params message is a notification.
struct JsonRpc;
impl Adapter for JsonRpc {}

/// A Deribit-sized ticker notification (≈ 330 bytes).
const TICKER: &str = r#"{"jsonrpc":"2.0","method":"ticker.BTC-PERPETUAL.raw","params":{"timestamp":1700000000123,"stats":{"volume_usd":1234567890.0,"volume":12345.6,"price_change":-1.23,"low":36000.5,"high":37500.0},"state":"open","settlement_price":36666.66,"open_interest":987654321,"min_price":35000.0,"max_price":38000.0,"mark_price":36789.12,"last_price":36790.0,"index_price":36780.55,"funding_8h":0.0001,"current_funding":0.00005,"best_bid_price":36789.5,"best_bid_amount":12000.0,"best_ask_price":36790.0,"best_ask_amount":8000.0}}"#;

fn server_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x81];
    match payload.len() {
        n @ 0..=125 => out.push(n as u8),
        n @ 126..=65535 => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// A session that completed its upgrade against a hand-written server.
fn ready_session(now: Instant) -> Session<JsonRpc> {
    let mut config = SessionConfig::new("ws://bench.test/").unwrap();
    config.heartbeat = HeartbeatConfig {
        ping_interval: None,
        ..HeartbeatConfig::default()
    };
    config.request_timeout = Duration::from_secs(3600);
    config.queue_capacity = usize::MAX;
    let mut session = Session::new(config, JsonRpc, now);
    session.connect(now).unwrap();
    while session.poll_output().is_some() {}
    session.handle_input(now, Input::Connected { generation: 1 });
    let request = String::from_utf8(session.pending_transmit().to_vec()).unwrap();
    let n = request.len();
    session.advance_transmit(n);
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    session.handle_input(
        now,
        Input::Bytes {
            generation: 1,
            data: response.as_bytes(),
        },
    );
    let mut ready = false;
    while let Some(output) = session.poll_output() {
        ready |= matches!(output, Output::Event(Event::Ready));
    }
    assert!(ready);
    session
}

fn inbound_notification(c: &mut Criterion) {
    const BATCH: usize = 100;
    let now = Instant::now();
    let frames: Vec<u8> = (0..BATCH)
        .flat_map(|_| server_frame(TICKER.as_bytes()))
        .collect();
    let mut session = ready_session(now);
    let mut group = c.benchmark_group("inbound");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("notification_330B", |b| {
        b.iter(|| {
            session.handle_input(
                now,
                Input::Bytes {
                    generation: 1,
                    data: &frames,
                },
            );
            let mut n = 0;
            while let Some(output) = session.poll_output() {
                if let Output::Event(Event::Notification { data, .. }) = output {
                    black_box(data);
                    n += 1;
                }
            }
            assert_eq!(n, BATCH);
        })
    });
    group.finish();
}

fn classify_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("inbound");
    group.throughput(Throughput::Elements(1));
    group.bench_function("classify_envelope_only", |b| {
        b.iter(|| {
            matches!(
                JsonRpc.classify(black_box(TICKER)),
                wsnova_core::session::Inbound::Notification { .. }
            )
        })
    });
    group.finish();
}

fn outbound_request(c: &mut Criterion) {
    const BATCH: usize = 1000;
    let now = Instant::now();
    let mut group = c.benchmark_group("outbound");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("request_get_time", |b| {
        b.iter_batched_ref(
            || ready_session(now),
            |session| {
                for _ in 0..BATCH {
                    black_box(session.request(now, "public/get_time", "{}").unwrap());
                }
                while session.poll_output().is_some() {}
                let n = session.pending_transmit().len();
                session.advance_transmit(black_box(n));
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn outbound_binary(c: &mut Criterion) {
    const BATCH: usize = 16;
    let now = Instant::now();
    let mut group = c.benchmark_group("outbound");
    for size in [64, 16 * 1024] {
        let payload = vec![0x5a; size];
        group.throughput(Throughput::Bytes((BATCH * size) as u64));
        group.bench_function(format!("binary_{size}B_x{BATCH}"), |b| {
            let mut session = ready_session(now);
            b.iter(|| {
                for _ in 0..BATCH {
                    session.send_binary(now, black_box(&payload)).unwrap();
                }
                let n = session.pending_transmit().len();
                session.advance_transmit(black_box(n));
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    inbound_notification,
    classify_only,
    outbound_request,
    outbound_binary
);
criterion_main!(benches);
