//! What passes between a driver and the core: the driver's [`Input`] and
//! the core's [`Output`] (the sans-IO boundary).

use super::event::Event;

/// What the driver reports. Each carries the `generation` of the dial it
/// belongs to; input from an older generation is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The TCP connection for `Output::Dial` is open.
    Connected {
        /// The dial's generation.
        generation: u64,
    },
    /// The TCP connection could not be opened.
    ConnectFailed {
        /// The dial's generation.
        generation: u64,
        /// The driver's error text.
        error: &'a str,
    },
    /// Bytes read from the socket.
    Bytes {
        /// The dial's generation.
        generation: u64,
        /// The bytes.
        data: &'a [u8],
    },
    /// The socket reached EOF: the peer sent FIN (or the driver cannot
    /// tell a failure apart; prefer [`Failed`](Self::Failed) then).
    Closed {
        /// The dial's generation.
        generation: u64,
    },
    /// The socket failed with an OS error (e.g. `ECONNRESET`: the peer
    /// reset the connection). Bytes read before it are still delivered; the
    /// loss is reported as [`DisconnectReason::Reset`](super::DisconnectReason::Reset)
    /// with this text, not as a clean end.
    Failed {
        /// The dial's generation.
        generation: u64,
        /// The OS error's text, e.g. "Connection reset by peer (os error 104)".
        error: &'a str,
    },
}

/// What the driver must do, or an event for the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open a TCP connection to `host:port` (TLS, if any, is done by the core).
    Dial {
        /// Tag every input about this connection with it.
        generation: u64,
        /// Host name or IP address to resolve and dial.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// Bytes are waiting in [`Session::pending_transmit`](super::Session::pending_transmit).
    Transmit {
        /// The connection they belong to.
        generation: u64,
    },
    /// Close this connection's socket after writing `flush` (best effort).
    CloseTransport {
        /// The connection to close.
        generation: u64,
        /// Last bytes for the peer, e.g. the close frame that fails the connection.
        flush: Vec<u8>,
    },
    /// Something for the application.
    Event(Event),
}
