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
