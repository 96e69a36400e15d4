//! Arbitrary bytes after a valid upgrade: the frame decoder must never panic,
//! loop or grow without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut wire = wsnova_fuzz::open_wire();
    wsnova_fuzz::pump(&mut wire, data);
    assert!(wire.buffered_bytes() < 4 << 20);
});
