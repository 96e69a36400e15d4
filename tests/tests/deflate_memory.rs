//! What permessage-deflate costs in memory, counted by a global allocator
//! wrapper (`stats_alloc`): per connection once negotiated, per message in
//! steady state (the buffers are reused), and under a deflate bomb (bounded
//! by the message size limit, not by the bomb).
//!
//! Run with `--nocapture` to see the figures the README quotes.

use std::alloc::System;
use std::sync::Mutex;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use wsnova_core::wire::{DeflateConfig, Limits, Message, Wire, WireConfig, WireError, WireEvent};
use wsnova_tests::deflate_peer::{DeflatePeer, deflate_once, fragments, open_wire, server_frame};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The counter is process-wide: one measurement at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn config() -> WireConfig {
    WireConfig::new("ws://localhost/").unwrap()
}

/// A market-data-like message: a JSON ticker of about 300 bytes.
fn ticker(i: usize) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","method":"subscription","params":{{"channel":"ticker.BTC-PERPETUAL.raw","data":{{"timestamp":{},"best_bid_price":{}.5,"best_ask_price":{}.0,"best_bid_amount":{},"best_ask_amount":{},"mark_price":{}.25,"open_interest":{},"state":"open"}}}}}}"#,
        1_700_000_000_000u64 + i as u64,
        65_000 + i % 97,
        65_001 + i % 97,
        10 * (i % 13),
        20 * (i % 7),
        65_000 + i % 89,
        1_000_000 + i
    )
}

fn drain(wire: &mut Wire) -> Vec<Message> {
    let mut out = Vec::new();
    while let Some(event) = wire.poll_event().unwrap() {
        if let WireEvent::Message(m) = event {
            out.push(m);
        }
    }
    out
}

/// Bytes still allocated after a connection received and sent one
/// compressed message, minus the same for an uncompressed connection.
fn resident(compressed: bool, extension: &str, client: bool) -> isize {
    let mut server = DeflatePeer::new(15, false);
    let frame = if compressed {
        server.message(true, ticker(0).as_bytes(), usize::MAX)
    } else {
        server_frame(0x81, ticker(0).as_bytes())
    };
    let text = ticker(1);
    let region = Region::new(GLOBAL);
    // Every message sent compressed, whatever its size.
    let deflate = DeflateConfig {
        min_compress_size: 0,
        ..DeflateConfig::default()
    };
    let config = config().deflate(deflate).unwrap();
    let mut wire = open_wire(config, compressed.then_some(extension), 1);
    wire.handle_bytes(&frame);
    assert_eq!(drain(&mut wire).len(), 1);
    if client {
        wire.send_text(&text).unwrap();
    }
    let n = wire.pending_transmit().len();
    wire.advance_transmit(n);
    wire.shrink_buffers();
    let change = region.change();
    let live = change.bytes_allocated as isize - change.bytes_deallocated as isize;
    drop(wire);
    live
}

#[test]
fn memory_per_connection_steady_state_and_bomb() {
    let _serial = SERIAL.lock().unwrap();
    // --- per connection, zlib's state included --------------------------
    resident(true, "permessage-deflate", true); // one-time costs (lazy statics)
    let plain = resident(false, "", true);
    let receive_only = resident(true, "permessage-deflate", false) - plain;
    let both = resident(true, "permessage-deflate", true) - plain;
    let small = resident(
        true,
        "permessage-deflate; client_max_window_bits=10; server_max_window_bits=10",
        true,
    ) - plain;
    println!("plain connection at rest: {plain} B");
    println!("deflate, received only (inflater, 15 bits): +{receive_only} B");
    println!("deflate, received and sent (15 bits): +{both} B");
    println!("deflate, received and sent (10 bits both ways): +{small} B");
    assert!(receive_only < 64 << 10, "{receive_only}");
    assert!(both < 512 << 10, "{both}");
    assert!(small < both, "{small} vs {both}");

    // --- steady state: no allocation per message beyond the plain path --
    let per_message = |compressed: bool| {
        let extension = compressed.then_some("permessage-deflate");
        let deflate = DeflateConfig {
            min_compress_size: 0, // the tickers go out compressed too
            ..DeflateConfig::default()
        };
        let mut wire = open_wire(config().deflate(deflate).unwrap(), extension, 2);
        let mut server = DeflatePeer::new(15, false);
        let frames: Vec<Vec<u8>> = (0..1100)
            .map(|i| match compressed {
                true => server.message(true, ticker(i).as_bytes(), usize::MAX),
                false => server_frame(0x81, ticker(i).as_bytes()),
            })
            .collect();
        let texts: Vec<String> = (0..1100).map(ticker).collect();
        let mut run = |range: std::ops::Range<usize>| {
            for i in range {
                wire.handle_bytes(&frames[i]);
                drop(drain(&mut wire));
                wire.send_text(&texts[i]).unwrap();
                let n = wire.pending_transmit().len();
                wire.advance_transmit(n);
            }
        };
        run(0..100); // warm-up: buffers reach their working size
        let region = Region::new(GLOBAL);
        run(100..1100);
        region.change().allocations as f64 / 1000.0
    };
    let plain_allocs = per_message(false);
    let deflate_allocs = per_message(true);
    println!(
        "allocations per received+sent message: plain {plain_allocs}, deflate {deflate_allocs}"
    );
    assert!(
        deflate_allocs <= plain_allocs + 0.01,
        "{deflate_allocs} vs {plain_allocs}"
    );

    // --- a deflate bomb costs the limit, not the bomb --------------------
    let limit = 1 << 20;
    let limits = Limits {
        max_frame_size: 1 << 20,
        max_message_size: limit,
    };
    let bomb = fragments(false, true, &deflate_once(&vec![0u8; 256 << 20]), 64 << 10);
    let mut wire = open_wire(config().limits(limits), Some("permessage-deflate"), 3);
    let region = Region::new(GLOBAL);
    let live = |region: &Region<System>| {
        let change = region.change();
        change.bytes_allocated as isize - change.bytes_deallocated as isize
    };
    let (mut error, mut peak) = (None, 0);
    for piece in bomb.chunks(16 << 10) {
        wire.handle_bytes(piece);
        peak = peak.max(live(&region));
        let result = wire.poll_event();
        peak = peak.max(live(&region));
        if let Err(err) = result {
            error = Some(err);
            break;
        }
    }
    let allocated = region.change().bytes_allocated;
    println!(
        "deflate bomb of {} KiB (256 MiB inflated), limit 1 MiB: peak {peak} B live, \
         {allocated} B allocated in all",
        bomb.len() >> 10
    );
    assert!(
        matches!(error, Some(WireError::MessageTooLarge { .. })),
        "{error:?}"
    );
    // Everything the wire held while reading it, the input buffer included.
    assert!(peak < (limit + (256 << 10)) as isize, "{peak}");
    assert!(allocated < 3 * limit, "{allocated}");
}
