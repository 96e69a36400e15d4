//! Hostile compressed messages after a permessage-deflate upgrade (RFC
//! 7692): whatever the bytes, inflating never panics or loops, and the wire
//! never holds more than the message limit plus one frame, however much the
//! input would inflate to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnova_core::wire::{Limits, WireConfig};
use wsnova_tests::deflate_peer::{fragments, open_wire};

const LIMITS: Limits = Limits {
    max_frame_size: 1 << 16,
    max_message_size: 1 << 17,
};

fuzz_target!(|data: &[u8]| {
    let Some((&options, rest)) = data.split_first() else {
        return;
    };
    // The first byte picks the negotiated parameters and the framing.
    let bits = 8 + (options & 0x07);
    let no_context = options & 0x08 != 0;
    let text = options & 0x10 != 0;
    let fragment = [7, 100, 1000, usize::MAX][usize::from(options >> 5) & 3];
    let extension = format!(
        "permessage-deflate; server_max_window_bits={bits}{}",
        if no_context {
            "; server_no_context_takeover"
        } else {
            ""
        }
    );
    let config = WireConfig::new("ws://fuzz.test/").unwrap().limits(LIMITS);
    let mut wire = open_wire(config, Some(&extension), 0);
    // `pump` reads its chunk size from the first byte. Then messages: a
    // 2-byte length and that many bytes of compressed payload each, framed
    // with RSV1 on the first frame.
    let mut bytes = vec![options];
    let mut rest = rest;
    while let [lo, hi, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        bytes.extend(fragments(text, true, &tail[..len], fragment));
        rest = &tail[len..];
    }
    wsnova_fuzz::pump(&mut wire, &bytes[..bytes.len().min(1 << 20)]);
    let bound = LIMITS.max_message_size + 2 * LIMITS.max_frame_size + (64 << 10);
    assert!(wire.buffered_bytes() <= bound, "{}", wire.buffered_bytes());
});
