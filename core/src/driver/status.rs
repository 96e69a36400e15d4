//! What both drivers report about a connection: a [`Status`] snapshot, and
//! why `connect` gave no connection ([`ConnectError`]).

use crate::session::{
    Adapter, CloseReason, ConfigError, DisconnectReason, Session, SessionState, Stats,
};
use crate::wire::{Endpoint, PerMessageDeflate, WireError};

/// A snapshot of a connection's state.
///
/// ```
/// use std::time::Instant;
/// use wsnova_core::driver::Status;
/// use wsnova_core::session::{Plain, Session, SessionConfig, SessionState};
/// let session = Session::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, Instant::now());
/// let status = Status::of(&session);
/// assert_eq!(status.state, SessionState::Idle);
/// assert!(status.subscriptions.is_empty());
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Where the session is.
    pub state: SessionState,
    /// Channels the server confirmed on the current connection.
    pub subscriptions: Vec<String>,
    /// Channels the application wants.
    pub desired_subscriptions: Vec<String>,
    /// Whether the current connection is authenticated.
    pub authenticated: bool,
    /// The subprotocol the server selected on the current connection
    /// (`Sec-WebSocket-Protocol`), if any.
    pub subprotocol: Option<String>,
    /// The permessage-deflate parameters agreed on the current connection,
    /// if the server accepted compression.
    pub compression: Option<PerMessageDeflate>,
    /// The endpoint in use, or last used (the primary URL's, or a failover
    /// URL's after an attempt failed); `Debug` leaves out its query.
    /// `None` for a connection that is gone.
    pub endpoint: Option<Endpoint>,
    /// Counters, including reconnects and the last ping round trip.
    pub stats: Stats,
}

impl Status {
    /// The state of `session` right now.
    pub fn of<A: Adapter + ?Sized>(session: &Session<A>) -> Status {
        Status {
            state: session.state(),
            subscriptions: session
                .confirmed_subscriptions()
                .map(str::to_owned)
                .collect(),
            desired_subscriptions: session.desired_subscriptions().map(str::to_owned).collect(),
            authenticated: session.is_authenticated(),
            subprotocol: session.subprotocol().map(str::to_owned),
            compression: session.compression().cloned(),
            endpoint: Some(session.endpoint().clone()),
            stats: session.stats(),
        }
    }

    /// The status of a connection that is gone.
    pub fn closed() -> Status {
        Status {
            state: SessionState::Closed,
            subscriptions: Vec::new(),
            desired_subscriptions: Vec::new(),
            authenticated: false,
            subprotocol: None,
            compression: None,
            endpoint: None,
            stats: Stats::default(),
        }
    }
}

/// Why a driver's `connect` gave no connection.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL or a header is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] WireError),
    /// The session configuration breaks a rule (a zero timeout, an
    /// inverted backoff, TLS options on `ws://`, …): the error names the
    /// field. Nothing was dialled.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] ConfigError),
    /// An option is invalid (a zero capacity, an inverted timeout, a host
    /// name that cannot be resolved without a resolver, …): the message
    /// names it. Nothing was dialled.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The first connection attempt failed (and retrying was not asked for).
    #[error("connection failed: {0:?}")]
    Failed(DisconnectReason),
    /// The session closed before it was ever ready.
    #[error("closed before ready: {0:?}")]
    Closed(CloseReason),
    /// The driver has stopped (its event loop or runtime is gone).
    #[error("the driver has stopped")]
    LoopStopped,
}

impl From<ConnectFailure> for ConnectError {
    fn from(failure: ConnectFailure) -> Self {
        match failure {
            ConnectFailure::Disconnected(reason) => ConnectError::Failed(reason),
            ConnectFailure::Closed(reason) => ConnectError::Closed(reason),
        }
    }
}

/// Why a connection did not become `Ready` the first time.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectFailure {
    /// The first attempt failed, and retrying it was not asked for
    /// ([`SessionConfig::fail_before_first_ready`](crate::session::SessionConfig::fail_before_first_ready)).
    Disconnected(DisconnectReason),
    /// The session closed before it was ever ready.
    Closed(CloseReason),
}
