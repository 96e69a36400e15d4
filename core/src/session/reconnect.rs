//! What follows a lost connection: the adapter's policy and the backoff
//! decide between a reconnect after a delay and the end; the failure streak
//! ends once a connection stayed ready for `stable_after`.

use super::adapter::Adapter;
use super::backoff::{Backoff, BackoffConfig};
use super::env::Env;
use super::event::{CloseReason, DisconnectReason, Event, Initiator, Policy};
use super::timers::Timer;

/// The reconnect state of a session: the failure streak.
#[derive(Debug)]
pub(crate) struct Reconnect {
    backoff: Backoff,
}

impl Reconnect {
    /// No failures yet.
    pub(crate) fn new(config: BackoffConfig) -> Self {
        Reconnect {
            backoff: Backoff::new(config),
        }
    }

    /// Failed connection attempts in the current streak.
    pub(crate) fn attempts(&self) -> u32 {
        self.backoff.attempts()
    }

    /// Asks the adapter and the backoff what follows a loss. `Ok` when a
    /// reconnect is scheduled, `Err` with the reason to close otherwise.
    /// `reached_ready`: the session was ready at least once (the machine
    /// says), which `fail_before_first_ready` asks about.
    pub(crate) fn schedule(
        &mut self,
        env: &mut Env,
        adapter: &dyn Adapter,
        reason: DisconnectReason,
        initiator: Initiator,
        reached_ready: bool,
        generation: u64,
    ) -> Result<(), CloseReason> {
        let policy = if env.config.fail_before_first_ready && !reached_ready {
            Policy::Stop
        } else {
            adapter.disconnect_policy(&reason)
        };
        let delay = match policy {
            Policy::Stop => None,
            Policy::Reconnect => self.backoff.next_delay(&mut env.rng),
            Policy::ReconnectAfter(at_least) => self
                .backoff
                .next_delay(&mut env.rng)
                .map(|d| d.max(at_least)),
        };
        let attempt = self.backoff.attempts();
        match delay {
            Some(delay) => tracing::warn!(
                ?reason,
                ?initiator,
                ?policy,
                attempt,
                delay_ms = delay.as_millis() as u64,
                generation,
                "connection lost: reconnecting after backoff"
            ),
            None => tracing::error!(
                ?reason,
                ?initiator,
                ?policy,
                attempt,
                generation,
                "connection lost: not reconnecting"
            ),
        }
        env.out.emit(Event::Disconnected {
            reason: reason.clone(),
            initiator,
            reconnect_in: delay,
        });
        match (delay, policy) {
            (Some(delay), _) => {
                env.out.telemetry.reconnect(&reason);
                env.timers.set(Timer::Backoff, env.now + delay);
                Ok(())
            }
            (None, Policy::Stop) => Err(CloseReason::Stopped(reason)),
            (None, _) => Err(CloseReason::RetriesExhausted(reason)),
        }
    }

    /// The backoff is over: the next attempt starts.
    pub(crate) fn on_backoff_elapsed(&mut self, env: &mut Env) {
        let attempt = self.backoff.attempts();
        env.out.meters.stats.reconnects += 1;
        tracing::info!(attempt, "reconnecting");
        env.out.emit(Event::Reconnecting { attempt });
    }

    /// The session is ready: the streak ends now, or once the connection
    /// has stayed up for `stable_after`.
    pub(crate) fn on_ready(&mut self, env: &mut Env) {
        if env.config.stable_after.is_zero() {
            self.backoff.reset();
        } else {
            let at = env.now + env.config.stable_after;
            env.timers.set(Timer::Stable, at);
        }
    }

    /// The connection stayed up for `stable_after`: the streak ends.
    pub(crate) fn on_stable(&mut self) {
        self.backoff.reset();
    }
}
