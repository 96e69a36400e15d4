//! The user's stop policy and the server's `Retry-After`: what the core
//! decides about a lost connection before (and after) the adapter refines it.

use std::time::Duration;

use rand::Rng;

use super::backoff::uniform;
use super::event::{DisconnectReason, Policy};
use crate::wire::{CloseCode, WireError};

/// When a session gives up reconnecting, set without writing an adapter
/// ([`SessionConfig::stop`](super::SessionConfig::stop)).
///
/// Whatever the policy, [`Session::close`](super::Session::close) ends the
/// session, and `fail_before_first_ready` still fails the first connection
/// fast when a driver asks for it.
///
/// ```
/// use wsnova_core::session::{SessionConfig, StopPolicy};
/// let mut config = SessionConfig::new("wss://example.com/ws")?;
/// config.stop = StopPolicy::AfterFailures(5);
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StopPolicy {
    /// The adapter's [`disconnect_policy`](super::Adapter::disconnect_policy)
    /// and `backoff.max_attempts` decide (the default).
    #[default]
    Adapter,
    /// As `Adapter`, and stop when the server closes with 1000 (Normal
    /// Closure, RFC 6455 §7.4.1): the server meant it.
    OnNormalClose,
    /// As `Adapter`, and stop once this many reconnect attempts in a row
    /// failed to bring the session back to `Ready` after it had been
    /// `Ready` (the loss that starts the streak is not one of them; reaching
    /// `Ready` again starts over). Before the first `Ready`, `max_attempts`
    /// alone counts.
    AfterFailures(u32),
    /// Never stop on a loss: reconnect whatever the adapter says and past
    /// `max_attempts` (then every `max_delay`).
    Never,
}

impl StopPolicy {
    /// The adapter's policy as this stop policy overrides it.
    pub(crate) fn apply(self, reason: &DisconnectReason, adapter: Policy) -> Policy {
        match (self, reason) {
            (StopPolicy::Never, _) if adapter == Policy::Stop => Policy::Reconnect,
            (StopPolicy::OnNormalClose, DisconnectReason::ServerClosed(frame))
                if frame.code == CloseCode::NORMAL =>
            {
                Policy::Stop
            }
            _ => adapter,
        }
    }

    /// Whether `failures` since the last `Ready` (the loss that started
    /// them included) end the session, `reached_ready` saying whether it ever was `Ready`.
    pub(crate) fn gives_up(self, failures: u32, reached_ready: bool) -> bool {
        matches!(self, StopPolicy::AfterFailures(n) if reached_ready && failures > n)
    }
}

/// The wait a server asked for with `Retry-After` on a refused upgrade,
/// given the wall-clock time (`unix_ms`, when the driver told it). A date
/// without a known wall clock asks for nothing.
pub(crate) fn server_wait(reason: &DisconnectReason, unix_ms: Option<u64>) -> Option<Duration> {
    match reason {
        DisconnectReason::Wire(WireError::UpgradeRejected {
            retry_after: Some(after),
            ..
        }) => after.delay_from(unix_ms),
        _ => None,
    }
}

/// The delay before the next attempt when the server asked for `wait`:
/// never less than `wait`, plus up to a tenth of it (at least 100 ms) of
/// jitter, so clients a server turned away together do not return together;
/// never more than `max_delay` (the user's bound wins).
pub(crate) fn honour_wait<R: Rng + ?Sized>(
    rng: &mut R,
    delay: Duration,
    wait: Duration,
    max_delay: Duration,
) -> Duration {
    let spread = (wait / 10).max(Duration::from_millis(100));
    let jittered = wait.saturating_add(uniform(rng, Duration::ZERO, spread));
    delay.max(jittered).min(max_delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{CloseFrame, RetryAfter};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn refused(retry_after: Option<RetryAfter>) -> DisconnectReason {
        DisconnectReason::Wire(WireError::UpgradeRejected {
            status: 503,
            reason: "Service Unavailable".into(),
            retry_after,
            body_excerpt: String::new(),
        })
    }

    #[test]
    fn retry_after_is_waited_out_with_jitter_within_max_delay() {
        let secs = Duration::from_secs;
        let mut rng = StdRng::seed_from_u64(7);
        let wait = server_wait(&refused(Some(RetryAfter::Delay(secs(7)))), None).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let d = honour_wait(&mut rng, Duration::from_millis(300), wait, secs(30));
            assert!(d >= secs(7) && d <= Duration::from_millis(7700), "{d:?}");
            seen.insert(d);
        }
        assert!(seen.len() > 10, "jittered");
        assert_eq!(honour_wait(&mut rng, secs(1), secs(60), secs(30)), secs(30));
        assert_eq!(honour_wait(&mut rng, secs(20), secs(1), secs(30)), secs(20));
        let at = refused(Some(RetryAfter::At { unix_secs: 1000 }));
        assert_eq!(server_wait(&at, Some(993_000)), Some(secs(7)));
        assert_eq!(server_wait(&at, None), None);
        assert_eq!(server_wait(&refused(None), Some(0)), None);
    }

    #[test]
    fn stop_policies_override_the_adapter() {
        let normal = DisconnectReason::ServerClosed(CloseFrame {
            code: CloseCode::NORMAL,
            reason: "bye".into(),
        });
        let away = DisconnectReason::ServerClosed(CloseFrame {
            code: CloseCode::GOING_AWAY,
            reason: "".into(),
        });
        let on_normal = StopPolicy::OnNormalClose;
        assert_eq!(on_normal.apply(&normal, Policy::Reconnect), Policy::Stop);
        assert_eq!(on_normal.apply(&away, Policy::Reconnect), Policy::Reconnect);
        assert_eq!(
            StopPolicy::Adapter.apply(&normal, Policy::Reconnect),
            Policy::Reconnect
        );
        assert_eq!(
            StopPolicy::Never.apply(&away, Policy::Stop),
            Policy::Reconnect
        );
        // `Never` only overrides a stop: the adapter's own delay stays.
        let later = Policy::ReconnectAfter(Duration::from_secs(9));
        assert_eq!(StopPolicy::Never.apply(&away, later), later);
        let after = StopPolicy::AfterFailures(3);
        assert!(!after.gives_up(3, true));
        assert!(after.gives_up(4, true));
        assert!(!after.gives_up(10, false));
        assert!(!StopPolicy::Never.gives_up(u32::MAX, true));
    }
}
