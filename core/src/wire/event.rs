//! What the wire reports: [`WireEvent`]s and its [`WireState`].

use bytes::Bytes;

use super::{CloseFrame, Message};

/// What the wire reports to the layer above.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireEvent {
    /// The upgrade succeeded; messages may be sent from now on.
    Open {
        /// The subprotocol the server chose, if any.
        subprotocol: Option<String>,
    },
    /// A complete data message.
    Message(Message),
    /// The server pinged; the pong is already queued (RFC 6455 §5.5.2). At
    /// most [`MAX_UNSENT_PONGS`](super::MAX_UNSENT_PONGS) pongs wait unsent at
    /// a time; past that, a newer ping's pong replaces the one waiting behind
    /// them (§5.5.3 allows answering only the most recent ping), so a ping
    /// flood from a peer that does not read cannot grow the buffer.
    Ping(Bytes),
    /// The server answered a ping (or sent an unsolicited pong, §5.5.3).
    Pong(Bytes),
    /// The close handshake is complete: both sides sent a close frame. The
    /// client now waits for the server to end the TCP connection (§7.1.1).
    Closed {
        /// The code and reason the server sent (1005 when it sent none).
        frame: CloseFrame,
        /// `true` when the server started the close, `false` when we did.
        by_peer: bool,
    },
}

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireState {
    /// The upgrade request is sent or about to be; waiting for the `101`.
    Handshaking,
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the server's.
    Closing,
    /// The close handshake completed.
    Closed,
    /// An error ended the connection.
    Failed,
}
