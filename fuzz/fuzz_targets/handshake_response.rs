//! Arbitrary bytes as the server's answer to the upgrade request.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mut wire, _key) = wsnova_fuzz::new_wire();
    wsnova_fuzz::pump(&mut wire, data);
});
