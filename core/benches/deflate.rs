//! permessage-deflate on a market-data stream: compression ratio and MB/s
//! through the wire, in and out, with plain (no compression) as the
//! reference in the same run.
//!
//! The corpus is generated here, deterministically (fixed seed): a mix of
//! Deribit-style JSON-RPC ticker notifications, Deribit book changes and
//! Binance-style depth updates, the shape exchange feeds have. Run with
//!
//! ```text
//! cargo bench -p wsnova-core --bench deflate
//! ```
//!
//! MB/s counts payload (uncompressed) bytes per second of one core; the
//! ratio is payload bytes over bytes on the wire (frame headers included).
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, FlushCompress};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use wsnova_core::wire::{DeflateConfig, Wire, WireConfig, WireEvent};

const MESSAGES: usize = 20_000;
const READ: usize = 64 * 1024;

fn corpus() -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(7692);
    let mut mid = 65_000.0f64;
    let mut ts = 1_700_000_000_000u64;
    let mut id = 1_000_000u64;
    (0..MESSAGES)
        .map(|i| {
            ts += rng.random_range(1..40);
            mid += f64::from(rng.random_range(-20i32..=20)) * 0.5;
            id += 1;
            match i % 4 {
                0 | 1 => deribit_ticker(&mut rng, ts, mid),
                2 => deribit_book(&mut rng, ts, mid, id),
                _ => binance_depth(&mut rng, ts, mid, id),
            }
        })
        .collect()
}

fn deribit_ticker(rng: &mut StdRng, ts: u64, mid: f64) -> String {
    let inst = ["BTC-PERPETUAL", "ETH-PERPETUAL", "BTC-27DEC24"][rng.random_range(0..3)];
    format!(
        r#"{{"jsonrpc":"2.0","method":"subscription","params":{{"channel":"ticker.{inst}.100ms","data":{{"timestamp":{ts},"stats":{{"volume_usd":{:.1},"volume":{:.4},"price_change":{:.4},"low":{:.1},"high":{:.1}}},"state":"open","settlement_price":{:.2},"open_interest":{},"min_price":{:.1},"max_price":{:.1},"mark_price":{:.2},"last_price":{:.1},"instrument_name":"{inst}","index_price":{:.2},"funding_8h":{:.8},"current_funding":{:.8},"best_bid_price":{:.1},"best_bid_amount":{}.0,"best_ask_price":{:.1},"best_ask_amount":{}.0}}}}}}"#,
        1.2e9 + f64::from(rng.random_range(0..100_000)),
        12_345.0 + f64::from(rng.random_range(0..1000)) / 7.0,
        f64::from(rng.random_range(-500..500)) / 100.0,
        mid - 1500.0,
        mid + 1200.0,
        mid - 3.21,
        987_654_321 + rng.random_range(0..10_000),
        mid * 0.97,
        mid * 1.03,
        mid + 0.37,
        mid,
        mid - 4.45,
        f64::from(rng.random_range(0..1000)) * 1e-7,
        f64::from(rng.random_range(0..1000)) * 1e-8,
        mid - 0.5,
        rng.random_range(1..200) * 10,
        mid,
        rng.random_range(1..200) * 10,
    )
}

fn levels(rng: &mut StdRng, mid: f64, side: f64, n: usize, quoted: bool) -> String {
    let items: Vec<String> = (0..n)
        .map(|l| {
            let price = mid + side * (0.5 + l as f64 * 0.5);
            let amount = rng.random_range(0..50_000) * 10;
            match quoted {
                true => format!(r#"["{price:.2}","{:.3}"]"#, f64::from(amount) / 1000.0),
                false => {
                    let action = ["new", "change", "delete"][rng.random_range(0..3)];
                    format!(r#"["{action}",{price:.1},{amount}.0]"#)
                }
            }
        })
        .collect();
    items.join(",")
}

fn deribit_book(rng: &mut StdRng, ts: u64, mid: f64, id: u64) -> String {
    let (nb, na) = (rng.random_range(1..12), rng.random_range(1..12));
    format!(
        r#"{{"jsonrpc":"2.0","method":"subscription","params":{{"channel":"book.BTC-PERPETUAL.100ms","data":{{"type":"change","timestamp":{ts},"prev_change_id":{},"instrument_name":"BTC-PERPETUAL","change_id":{id},"bids":[{}],"asks":[{}]}}}}}}"#,
        id - 1,
        levels(rng, mid, -1.0, nb, false),
        levels(rng, mid, 1.0, na, false),
    )
}

fn binance_depth(rng: &mut StdRng, ts: u64, mid: f64, id: u64) -> String {
    let (nb, na) = (rng.random_range(1..20), rng.random_range(1..20));
    format!(
        r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":{ts},"s":"BTCUSDT","U":{},"u":{id},"b":[{}],"a":[{}]}}}}"#,
        id - 3,
        levels(rng, mid, -0.01, nb, true),
        levels(rng, mid, 0.01, na, true),
    )
}

/// Unmasked server frames; RSV1 set when `compressed`.
fn server_frame(out: &mut Vec<u8>, payload: &[u8], compressed: bool) {
    out.push(if compressed { 0xC1 } else { 0x81 });
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
}

/// The stream as a server sends it: plain, or compressed per RFC 7692 with
/// or without context takeover.
fn server_stream(corpus: &[String], deflate: Option<bool>) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(no_context) = deflate else {
        for m in corpus {
            server_frame(&mut out, m.as_bytes(), false);
        }
        return out;
    };
    let mut c = Compress::new(Compression::default(), false);
    let mut buf = Vec::new();
    for m in corpus {
        buf.clear();
        buf.reserve(m.len() + 64);
        c.compress_vec(m.as_bytes(), &mut buf, FlushCompress::Sync)
            .unwrap();
        assert!(buf.ends_with(&[0, 0, 0xff, 0xff]));
        buf.truncate(buf.len() - 4);
        server_frame(&mut out, &buf, true);
        if no_context {
            c.reset();
        }
    }
    out
}

fn open_wire(deflate: DeflateConfig, extension: Option<&str>) -> Wire {
    let config = WireConfig::new("ws://bench.test/")
        .unwrap()
        .deflate(deflate)
        .unwrap();
    let mut wire = Wire::new(Arc::new(config), &mut StdRng::seed_from_u64(1)).unwrap();
    let request = String::from_utf8_lossy(wire.pending_transmit()).into_owned();
    wire.advance_transmit(request.len());
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let ext = extension
        .map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n"))
        .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{ext}\r\n",
        tungstenite::handshake::derive_accept_key(key.as_bytes())
    );
    wire.handle_bytes(response.as_bytes());
    assert!(matches!(
        wire.poll_event(),
        Ok(Some(WireEvent::Open { .. }))
    ));
    wire
}

/// Best of three: seconds to receive `stream`, checking the message count.
fn receive(stream: &[u8], extension: Option<&str>) -> f64 {
    best_of_3(|| {
        let mut wire = open_wire(DeflateConfig::default(), extension);
        let start = Instant::now();
        let mut n = 0;
        for read in stream.chunks(READ) {
            wire.handle_bytes(read);
            while let Some(event) = wire.poll_event().unwrap() {
                n += usize::from(matches!(black_box(event), WireEvent::Message(_)));
            }
        }
        assert_eq!(n, MESSAGES);
        start.elapsed()
    })
}

/// Best of three: seconds to send the corpus, and the bytes it took.
fn send(corpus: &[String], deflate: DeflateConfig, extension: Option<&str>) -> (f64, usize) {
    let mut wire_bytes = 0;
    let secs = best_of_3(|| {
        let mut wire = open_wire(deflate, extension);
        wire_bytes = 0;
        let start = Instant::now();
        for m in corpus {
            wire.send_text(m).unwrap();
            let n = wire.pending_transmit().len();
            if n >= READ {
                wire_bytes += n;
                wire.advance_transmit(n);
            }
        }
        wire_bytes += wire.pending_transmit().len();
        start.elapsed()
    });
    (secs, wire_bytes)
}

fn best_of_3(mut run: impl FnMut() -> Duration) -> f64 {
    (0..3).map(|_| run()).min().unwrap().as_secs_f64()
}

fn main() {
    let corpus = corpus();
    let payload: usize = corpus.iter().map(String::len).sum();
    let mb = payload as f64 / 1e6;
    println!(
        "corpus: {MESSAGES} messages, {:.2} MB of JSON (mean {} B): Deribit tickers and \
         book changes, Binance depth updates",
        mb,
        payload / MESSAGES
    );
    println!("{:<52} {:>7} {:>10}", "case", "ratio", "MB/s");
    let row = |name: &str, wire: usize, secs: f64| {
        println!(
            "{name:<52} {:>6.2}x {:>10.1}",
            payload as f64 / wire as f64,
            mb / secs
        );
    };
    let pmd = "permessage-deflate";
    let pmd_nct = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    for (name, ext, mode) in [
        ("in:  plain", None, None),
        ("in:  deflate, context takeover", Some(pmd), Some(false)),
        (
            "in:  deflate, no context takeover",
            Some(pmd_nct),
            Some(true),
        ),
    ] {
        let stream = server_stream(&corpus, mode);
        row(name, stream.len(), receive(&stream, ext));
    }
    let every = |level| DeflateConfig {
        min_compress_size: 0,
        level,
        ..DeflateConfig::default()
    };
    for (name, config, ext) in [
        ("out: plain", DeflateConfig::disabled(), None),
        (
            "out: deflate level 6, context takeover",
            every(6),
            Some(pmd),
        ),
        (
            "out: deflate level 1, context takeover",
            every(1),
            Some(pmd),
        ),
        (
            "out: deflate level 6, no context takeover",
            every(6),
            Some(pmd_nct),
        ),
        (
            "out: deflate, default config (>= 1 KiB compressed)",
            DeflateConfig::default(),
            Some(pmd),
        ),
    ] {
        let (secs, wire) = send(&corpus, config, ext);
        row(name, wire, secs);
    }
}
