//! What every concern may use while the core handles one input: the time,
//! the randomness, the timer table, the outbox and the configuration. A
//! concern gets this (and the few other borrows it needs), never the hub.

use std::convert::Infallible;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng, TryCryptoRng, TryRng};

use super::config::SessionConfig;
use super::outbox::Outbox;
use super::telemetry::Telemetry;
use super::timers::Timers;

/// The shared services of the concerns.
pub(crate) struct Env {
    /// The time of the input being handled.
    pub(crate) now: Instant,
    /// Seeded from the config: the same seed and inputs give the same outputs.
    pub(crate) rng: SessionRng,
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
            rng: SessionRng::seed_from_u64(config.seed),
            timers: Timers::default(),
            out: Outbox::new(telemetry),
            config,
        }
    }
}

/// The session's randomness: a ChaCha generator ([`StdRng`]) rebuilt from
/// a 32-byte key at every use, which draws the next key before it goes
/// ("fast key erasure"). A session holds 32 bytes instead of `StdRng`'s
/// 320 (its block buffer), and draws rarely (a dial, a backoff delay, an
/// auth nonce), so the extra key setup per draw costs nothing that
/// matters. Deterministic: the same seed gives the same numbers.
pub(crate) struct SessionRng {
    key: [u8; 32],
}

impl SessionRng {
    /// A generator seeded with `seed`.
    pub(crate) fn seed_from_u64(seed: u64) -> Self {
        let mut key = [0; 32];
        StdRng::seed_from_u64(seed).fill_bytes(&mut key);
        SessionRng { key }
    }

    /// Runs `draw` on a generator of the current key, then moves to the next key.
    fn draw<T>(&mut self, draw: impl FnOnce(&mut StdRng) -> T) -> T {
        let mut rng = StdRng::from_seed(self.key);
        let value = draw(&mut rng);
        rng.fill_bytes(&mut self.key);
        value
    }
}

impl TryRng for SessionRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.draw(|rng| rng.next_u32()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.draw(|rng| rng.next_u64()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.draw(|rng| rng.fill_bytes(dst));
        Ok(())
    }
}

// ChaCha's output: as unpredictable as `StdRng` (frame masks and keys,
// RFC 6455 §5.3 and §10.3).
impl TryCryptoRng for SessionRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_each_draw_moves_on() {
        let (mut a, mut b) = (SessionRng::seed_from_u64(7), SessionRng::seed_from_u64(7));
        let first = (a.next_u64(), a.next_u64());
        assert_eq!(first, (b.next_u64(), b.next_u64()));
        assert_ne!(first.0, first.1);
        assert_ne!(SessionRng::seed_from_u64(8).next_u64(), first.0);
        assert_eq!(size_of::<SessionRng>(), 32);
    }

    /// Nonces, frame masks and the handshake's key come from `next_u32` and
    /// `fill_bytes` (RFC 6455 §5.3: masks unpredictable, §4.1: a fresh key
    /// per connection): each draw gives new bits.
    #[test]
    fn every_kind_of_draw_gives_fresh_bits() {
        let mut rng = SessionRng::seed_from_u64(7);
        let words: Vec<u32> = (0..8).map(|_| rng.next_u32()).collect();
        let distinct: std::collections::BTreeSet<u32> = words.iter().copied().collect();
        assert_eq!(distinct.len(), 8, "{words:?}");
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        rng.fill_bytes(&mut a);
        rng.fill_bytes(&mut b);
        assert_ne!(a, [0; 16]);
        assert_ne!(a, b);
        let mut again = SessionRng::seed_from_u64(7);
        assert_eq!(again.next_u32(), words[0], "the same seed, the same draws");
    }
}
