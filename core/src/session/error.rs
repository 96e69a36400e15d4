//! [`SessionError`]: a command the session cannot take.

use super::ConfigError;
use crate::wire::WireError;

/// A command the session cannot take.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session has closed.
    #[error("the session is closed")]
    Closed,
    /// The queue for messages waiting to be sent is full.
    #[error("the send queue is full")]
    QueueFull,
    /// There is no open WebSocket to do this on.
    #[error("not connected")]
    NotConnected,
    /// The params could not be serialized.
    #[error("invalid request params: {0}")]
    InvalidParams(String),
    /// The configuration has a mistake that cannot work (see
    /// [`SessionConfig::validate`](super::SessionConfig::validate));
    /// `connect` found it before dialling.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The wire refused (e.g. an invalid close code).
    #[error(transparent)]
    Wire(#[from] WireError),
}
