//! A sans-IO WebSocket **server** peer for in-memory tests.
//!
//! [`MemPeer`] wraps tungstenite's own server implementation (handshake and
//! framing) around a [`MemDuplex`], so a test can hand it the bytes a client
//! produced and collect the bytes the server answers with — no sockets, no
//! threads, no clock. Being a different implementation from wsnova's, it is
//! an independent check of interoperability.
//!
//! ```
//! use tungstenite::Message;
//! use tungstenite::protocol::WebSocketConfig;
//! use wsnova_tests::MemPeer;
//! use wsnova_tests::mem_peer::{handshake_request, raw_client_frame, RFC_SAMPLE_KEY};
//!
//! let mut peer = MemPeer::new(WebSocketConfig::default());
//! peer.feed(handshake_request(RFC_SAMPLE_KEY, "").as_bytes());
//! assert!(peer.poll_handshake());
//! assert!(peer.take_output().starts_with(b"HTTP/1.1 101"));
//!
//! peer.feed(&raw_client_frame(0x81, [1, 2, 3, 4], b"ping?"));
//! assert_eq!(peer.read_messages().unwrap(), vec![Message::text("ping?")]);
//! peer.send(Message::text("pong!"));
//! assert_eq!(peer.take_output(), b"\x81\x05pong!");
//! ```

mod accept;
mod duplex;
mod raw;
#[cfg(test)]
mod tests;

use std::io::{ErrorKind, Write};
use std::mem;
use std::sync::{Arc, Mutex, PoisonError};

use tungstenite::handshake::server::{Request, ServerHandshake};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::{WebSocket, WebSocketConfig};
use tungstenite::{Error, Message};

use accept::AcceptCallback;
pub use duplex::MemDuplex;
pub use raw::{
    RFC_SAMPLE_ACCEPT, RFC_SAMPLE_KEY, handshake_request, handshake_response, raw_client_frame,
    raw_server_frame,
};

type Handshake = MidHandshake<ServerHandshake<MemDuplex, AcceptCallback>>;

enum State {
    NotStarted,
    Handshaking(Handshake),
    Open(WebSocket<MemDuplex>),
    Failed,
}

/// An in-memory WebSocket server built on tungstenite. See the
/// [module docs](self) for an example.
pub struct MemPeer {
    /// The subprotocol to select if the client offers it (answered with
    /// `Sec-WebSocket-Protocol`). Must be set before the first
    /// [`poll_handshake`](Self::poll_handshake).
    pub subprotocol: Option<String>,
    config: WebSocketConfig,
    duplex: MemDuplex,
    /// Client bytes held back during the handshake: tungstenite rejects
    /// bytes after the request ("junk after request") if it reads them
    /// together with it, so only the complete request is released first.
    held_back: Vec<u8>,
    state: State,
    request: Arc<Mutex<Option<Request>>>,
    handshake_error: Option<Error>,
    deferred_error: Option<Error>,
    closed: bool,
}

impl std::fmt::Debug for MemPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemPeer")
            .field("open", &self.is_open())
            .field("closed", &self.closed)
            .field("handshake_error", &self.handshake_error)
            .finish_non_exhaustive()
    }
}

impl MemPeer {
    /// A peer waiting for the client's upgrade request, using `config` for
    /// the connection (limits, unmasked-frame policy, …).
    pub fn new(config: WebSocketConfig) -> MemPeer {
        MemPeer {
            subprotocol: None,
            config,
            duplex: MemDuplex::new(),
            held_back: Vec::new(),
            state: State::NotStarted,
            request: Arc::default(),
            handshake_error: None,
            deferred_error: None,
            closed: false,
        }
    }

    /// Builder: select `protocol` if the client offers it.
    pub fn with_subprotocol(mut self, protocol: impl Into<String>) -> MemPeer {
        self.subprotocol = Some(protocol.into());
        self
    }

    /// Hands the peer bytes the client sent.
    pub fn feed(&mut self, bytes_from_client: &[u8]) {
        match self.state {
            State::Open(_) => self.duplex.push_inbound(bytes_from_client),
            _ => self.held_back.extend_from_slice(bytes_from_client),
        }
    }

    /// Signals that the client closed its side of the transport (EOF).
    pub fn feed_eof(&mut self) {
        self.duplex.close_inbound();
    }

    /// Takes the bytes the server wants to send to the client.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.duplex.take_outbound()
    }

    /// Drives the server handshake as far as the fed bytes allow. Returns
    /// `true` once the connection is open (and keeps returning `true`).
    /// On failure it returns `false` and [`handshake_error`](Self::handshake_error)
    /// says why.
    pub fn poll_handshake(&mut self) -> bool {
        let mid = match mem::replace(&mut self.state, State::Failed) {
            State::Open(ws) => {
                self.state = State::Open(ws);
                return true;
            }
            State::Failed => return false,
            State::Handshaking(mid) => mid,
            State::NotStarted => {
                let callback = AcceptCallback {
                    subprotocol: self.subprotocol.clone(),
                    seen: Arc::clone(&self.request),
                };
                ServerHandshake::start(self.duplex.clone(), callback, Some(self.config))
            }
        };
        // Release the request only, and only once it is complete.
        if let Some(end) = find_header_end(&self.held_back) {
            let rest = self.held_back.split_off(end);
            self.duplex
                .push_inbound(&mem::replace(&mut self.held_back, rest));
        }
        match mid.handshake() {
            Ok(ws) => {
                self.duplex.push_inbound(&mem::take(&mut self.held_back));
                self.state = State::Open(ws);
                true
            }
            Err(HandshakeError::Interrupted(mid)) => {
                self.state = State::Handshaking(mid);
                false
            }
            Err(HandshakeError::Failure(err)) => {
                self.handshake_error = Some(err);
                false
            }
        }
    }

    /// Whether the handshake completed (stays `true` after a close).
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open(_))
    }

    /// Whether the WebSocket connection is finished: the close handshake
    /// completed or the transport ended.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Why the handshake failed, if it did.
    pub fn handshake_error(&self) -> Option<&Error> {
        self.handshake_error.as_ref()
    }

    /// The client's upgrade request, once it has been parsed.
    pub fn client_request(&self) -> Option<Request> {
        self.request
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The underlying tungstenite socket, once open (for unusual tests,
    /// e.g. sending a hand-made `Message::Frame`).
    pub fn websocket_mut(&mut self) -> Option<&mut WebSocket<MemDuplex>> {
        match &mut self.state {
            State::Open(ws) => Some(ws),
            _ => None,
        }
    }

    /// Decodes every message currently available. Drives the handshake first
    /// if it is not complete (returning `Ok(vec![])` while it is not).
    ///
    /// Automatic replies (pong, close reply) are written to the output.
    /// Running out of bytes ends the batch; so does the end of the
    /// connection (see [`is_closed`](Self::is_closed)), after which this
    /// returns `Ok(vec![])`. A protocol error is returned as `Err` — but if
    /// messages were decoded before it, they are returned first and the
    /// error on the next call.
    pub fn read_messages(&mut self) -> Result<Vec<Message>, Error> {
        if let Some(err) = self.deferred_error.take() {
            return Err(err);
        }
        if !self.poll_handshake() || self.closed {
            return Ok(Vec::new());
        }
        let State::Open(ws) = &mut self.state else {
            unreachable!("poll_handshake returned true")
        };
        let mut messages = Vec::new();
        loop {
            match ws.read() {
                Ok(msg) => messages.push(msg),
                Err(Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => break,
                Err(Error::ConnectionClosed | Error::AlreadyClosed) => {
                    self.closed = true;
                    break;
                }
                Err(err) if messages.is_empty() => return Err(err),
                Err(err) => {
                    self.deferred_error = Some(err);
                    break;
                }
            }
        }
        // Push out queued pongs; errors here resurface on the next read.
        let _ = ws.flush();
        Ok(messages)
    }

    /// Sends `msg` (written and flushed into the output).
    ///
    /// # Panics
    ///
    /// If the connection is not open or tungstenite refuses the message
    /// (e.g. after a close); use [`try_send`](Self::try_send) to get the error.
    pub fn send(&mut self, msg: Message) {
        self.try_send(msg).expect("MemPeer::send failed");
    }

    /// Sends `msg`, returning tungstenite's error if it refuses.
    ///
    /// # Panics
    ///
    /// If the handshake has not completed.
    pub fn try_send(&mut self, msg: Message) -> Result<(), Error> {
        self.open_socket("try_send").send(msg)
    }

    /// Starts the close handshake with `code` and `reason`. Errors because
    /// the connection is already closing or closed are ignored.
    ///
    /// # Panics
    ///
    /// If the handshake has not completed.
    pub fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        let _ = self.open_socket("close").close(Some(frame));
    }

    /// Appends raw bytes to the output, after everything already sent —
    /// e.g. a malformed frame from [`raw_server_frame`].
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.duplex
            .write_all(bytes)
            .expect("in-memory writes never fail");
    }

    fn open_socket(&mut self, what: &str) -> &mut WebSocket<MemDuplex> {
        match &mut self.state {
            State::Open(ws) => ws,
            _ => panic!("MemPeer::{what} called before the handshake completed"),
        }
    }
}

/// Index just past the first `\r\n\r\n`, if any.
fn find_header_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}
