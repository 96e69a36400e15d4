//! What every concern may use while the core handles one input: the time,
//! the randomness, the timer table, the outbox and the configuration. A
//! concern gets this (and the few other borrows it needs), never the hub.

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::config::SessionConfig;
use super::outbox::Outbox;
use super::telemetry::Telemetry;
use super::timers::Timers;

/// The shared services of the concerns.
pub(crate) struct Env {
    /// The time of the input being handled.
    pub(crate) now: Instant,
    /// Seeded from the config: the same seed and inputs give the same outputs.
    pub(crate) rng: StdRng,
    /// Every timer's deadline.
    pub(crate) timers: Timers,
    /// Outputs, lifecycle events and meters.
    pub(crate) out: Outbox,
    /// The session's configuration (credentials may be set later).
    pub(crate) config: SessionConfig,
}

impl Env {
    /// Fresh services for a session created at `now`.
    pub(crate) fn new(config: SessionConfig, now: Instant) -> Self {
        let telemetry = Telemetry::new(config.connection_name());
        Env {
            now,
            rng: StdRng::seed_from_u64(config.seed),
            timers: Timers::default(),
            out: Outbox::new(telemetry),
            config,
        }
    }
}
