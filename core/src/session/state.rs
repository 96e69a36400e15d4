//! The public name of the lifecycle phase, and the questions the concerns
//! ask about it. The state machine (`machine`) is the one record of the
//! phase: nothing else keeps a copy.

/// Where the session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Created; `connect` not called yet.
    Idle,
    /// Waiting for dial, TLS and upgrade.
    Connecting,
    /// Waiting for the auth answer.
    Authenticating,
    /// Waiting for setup and resubscribe answers.
    Restoring,
    /// Application traffic flows.
    Ready,
    /// Waiting for the server's close frame.
    Closing,
    /// Waiting before the next connection attempt.
    BackingOff,
    /// Ended for good.
    Closed,
}

impl SessionState {
    /// A WebSocket is open on the current connection (from the upgrade to
    /// the end of the close handshake): the core's own requests may be
    /// written, and received bytes prove the connection alive.
    pub(crate) fn is_open(self) -> bool {
        matches!(
            self,
            SessionState::Authenticating
                | SessionState::Restoring
                | SessionState::Ready
                | SessionState::Closing
        )
    }

    /// Authentication is done on this connection (`Restoring` or `Ready`):
    /// subscriptions may be requested and ended.
    pub(crate) fn is_past_auth(self) -> bool {
        matches!(self, SessionState::Restoring | SessionState::Ready)
    }

    /// Application traffic flows.
    pub(crate) fn is_ready(self) -> bool {
        self == SessionState::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::SessionState::*;

    #[test]
    fn subscriptions_and_writes_follow_the_phase() {
        let all = [
            Idle,
            Connecting,
            Authenticating,
            Restoring,
            Ready,
            Closing,
            BackingOff,
            Closed,
        ];
        let open: Vec<_> = all.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [Authenticating, Restoring, Ready, Closing]);
        let past_auth: Vec<_> = all.into_iter().filter(|s| s.is_past_auth()).collect();
        assert_eq!(past_auth, [Restoring, Ready]);
        let ready: Vec<_> = all.into_iter().filter(|s| s.is_ready()).collect();
        assert_eq!(ready, [Ready]);
    }
}
