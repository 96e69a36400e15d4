//! What follows a lost connection: the adapter's policy and the backoff
//! decide between a reconnect after a delay and the end; the failure streak
//! ends once a connection stayed ready for `stable_after`.

use super::adapter::Adapter;
use super::backoff::{Backoff, BackoffConfig};
use super::env::Env;
use super::event::{CloseReason, DisconnectReason, Event, Initiator, Policy};
use super::stop::{StopPolicy, honour_wait, server_wait};
use super::timers::Timer;

/// The reconnect state of a session: the failure streak.
#[derive(Debug)]
pub(crate) struct Reconnect {
    backoff: Backoff,
    /// Losses and failed attempts since the session was last `Ready`, for
    /// [`StopPolicy::AfterFailures`].
    since_ready: u32,
}

impl Reconnect {
    /// No failures yet.
    pub(crate) fn new(config: BackoffConfig) -> Self {
        Reconnect {
            backoff: Backoff::new(config),
            since_ready: 0,
        }
    }

    /// Failed connection attempts in the current streak.
    pub(crate) fn attempts(&self) -> u32 {
        self.backoff.attempts()
    }

    /// Asks the adapter and the backoff what follows a loss. `Ok` when a
    /// reconnect is scheduled, `Err` with the reason to close otherwise.
    /// `reached_ready`: the session was ready at least once (the machine
    /// says), which `fail_before_first_ready` and the stop policy ask about.
    /// `untried_endpoint`: a failover endpoint was not tried yet, so failing
    /// fast before the first `Ready` waits for it. `unix_ms`: the wall-clock
    /// time, if the driver told it (for a `Retry-After` date).
    ///
    /// The order of the decision: the adapter's policy, overridden by the
    /// user's [`StopPolicy`]; then the backoff's delay, at least the
    /// adapter's `ReconnectAfter` and the server's `Retry-After` (jittered,
    /// within `max_delay`); then `max_attempts` and the stop policy's count.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn schedule(
        &mut self,
        env: &mut Env,
        adapter: &dyn Adapter,
        reason: DisconnectReason,
        initiator: Initiator,
        reached_ready: bool,
        untried_endpoint: bool,
        generation: u64,
        unix_ms: Option<u64>,
    ) -> Result<(), CloseReason> {
        let stop = env.config.stop;
        let policy = if env.config.fail_before_first_ready && !reached_ready && !untried_endpoint {
            Policy::Stop
        } else {
            stop.apply(&reason, adapter.disconnect_policy(&reason))
        };
        let max_delay = env.config.backoff.max_delay;
        let mut delay = match policy {
            Policy::Stop => None,
            Policy::Reconnect | Policy::ReconnectAfter(_) => {
                let backoff = self.backoff.next_delay(&mut env.rng);
                // `Never` goes on past `max_attempts`, every `max_delay`.
                match (backoff, stop) {
                    (None, StopPolicy::Never) => Some(max_delay),
                    (delay, _) => delay,
                }
            }
        };
        if let (Some(d), Some(wait)) = (delay, server_wait(&reason, unix_ms)) {
            delay = Some(honour_wait(&mut env.rng, d, wait, max_delay));
        }
        if let (Some(d), Policy::ReconnectAfter(at_least)) = (delay, policy) {
            delay = Some(d.max(at_least));
        }
        self.since_ready = self.since_ready.saturating_add(1);
        if stop.gives_up(self.since_ready, reached_ready) {
            delay = None;
        }
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
            // Out of attempts: the backoff's `max_attempts`, or the stop
            // policy's count of failures since the last `Ready`.
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
        self.since_ready = 0;
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
