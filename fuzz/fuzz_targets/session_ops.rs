//! Arbitrary sequences of commands, faults and time steps against the
//! simulated exchange, with the same invariants as the property tests
//! (the harness is shared, not copied: `wsnova_tests::sim::ops`).
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use wsnova_tests::sim::ops::{Observer, Op, apply, heal_and_check, property_sim};

fuzz_target!(|input: (u64, Vec<Op>)| {
    let (seed, ops) = input;
    let mut sim = property_sim(Instant::now(), seed);
    let mut observer = Observer::default();
    for op in ops.iter().take(64) {
        apply(&mut sim, &mut observer, op);
    }
    heal_and_check(&mut sim, &mut observer);
});
