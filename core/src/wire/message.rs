//! The messages the wire delivers and sends.

use bytes::Bytes;
pub use tungstenite::protocol::frame::Utf8Bytes;
pub use tungstenite::protocol::frame::coding::CloseCode;

/// A complete WebSocket data message (all fragments reassembled).
///
/// Payloads are reference-counted slices of the receive buffer: cloning one or
/// handing it to another thread copies nothing.
///
/// ```
/// use wsnova_core::wire::Message;
/// let m = Message::text("hello");
/// assert_eq!(m.as_bytes(), b"hello");
/// assert!(m.is_text());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message; UTF-8 is validated before it is delivered.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// A text message from anything string-like.
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message from anything byte-like.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// `true` for text messages.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// `true` when the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The code and reason of a close frame (RFC 6455 §5.5.1).
///
/// A close frame without a code is reported as code 1005 ([`CloseCode::Status`]),
/// as RFC 6455 §7.1.5 prescribes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason text (at most 123 bytes).
    pub reason: Utf8Bytes,
}

/// RFC 6455 §7.4.1–§7.4.2: the codes that may appear in a close frame on the wire.
/// 1004–1006 and 1015 are reserved or meant for reporting only, 1016–2999 are
/// reserved for future revisions, and codes below 1000 are unused.
pub(crate) fn is_valid_wire_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}
