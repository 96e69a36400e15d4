//! Property tests of the session: random sequences of commands, faults and
//! time steps against the simulated exchange, with invariants checked as
//! they run and at the end (see `wsnova_tests::sim::ops`).

use std::time::Instant;

use proptest::prelude::*;
use wsnova_tests::sim::ops::{Observer, Op, apply, heal_and_check, property_sim};

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u16>().prop_map(Op::Advance),
        4 => any::<u8>().prop_map(Op::Request),
        2 => any::<u8>().prop_map(Op::Subscribe),
        1 => any::<u8>().prop_map(Op::Unsubscribe),
        2 => any::<u8>().prop_map(Op::Notify),
        1 => Just(Op::Drop),
        1 => Just(Op::Stall),
        1 => any::<u8>().prop_map(Op::RefuseDials),
        1 => Just(Op::ServerClose),
        1 => Just(Op::TestRequest),
        1 => Just(Op::FailAuth),
        1 => Just(Op::Ping),
        1 => any::<u8>().prop_map(Op::Rechunk),
        1 => any::<bool>().prop_map(Op::PauseReading),
        2 => any::<u8>().prop_map(Op::Stale),
    ]
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_commands_faults_and_time(
        ops in prop::collection::vec(op(), 1..40),
        seed in any::<u64>(),
    ) {
        let mut sim = property_sim(Instant::now(), seed);
        let mut observer = Observer::default();
        for op in &ops {
            apply(&mut sim, &mut observer, op);
        }
        heal_and_check(&mut sim, &mut observer);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 10, ..ProptestConfig::default() })]

    #[test]
    fn the_same_seed_and_inputs_give_the_same_output_trace(
        ops in prop::collection::vec(op(), 1..30),
        seed in any::<u64>(),
    ) {
        let start = Instant::now();
        let run = || {
            let mut sim = property_sim(start, seed);
            let mut observer = Observer::default();
            for op in &ops {
                apply(&mut sim, &mut observer, op);
            }
            sim.trace
        };
        prop_assert_eq!(run(), run());
    }
}
