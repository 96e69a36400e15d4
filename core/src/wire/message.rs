//! The messages the wire delivers and sends.

use std::fmt;

use bytes::Bytes;

use super::CloseCode;
use super::error::WireError;
use super::text::Text;

/// A complete WebSocket data message (all fragments reassembled).
///
/// Payloads are reference-counted slices of the receive buffer: cloning one or
/// handing it to another thread copies nothing. `Debug` is meant for people:
/// `Text("hello")`, `Binary(5 bytes: 68 65 6c 6c 6f)`, long payloads cut short.
///
/// ```
/// use wsnova_core::wire::Message;
/// let m = Message::text("hello");
/// assert_eq!(m.as_text(), Some("hello"));
/// assert_eq!(m.as_bytes(), b"hello");
/// assert!(m.is_text());
/// assert_eq!(format!("{m:?}"), r#"Text("hello")"#);
///
/// let b = Message::binary(vec![1u8, 2, 255]);
/// assert_eq!(b.as_text(), None);
/// assert_eq!(format!("{b:?}"), "Binary(3 bytes: 01 02 ff)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message; UTF-8 is validated before it is delivered.
    Text(Text),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// A text message from anything string-like.
    pub fn text(text: impl Into<Text>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message from anything byte-like.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// The text of a text message; `None` for a binary message (even one
    /// that happens to be UTF-8).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            Message::Binary(_) => None,
        }
    }

    /// The payload bytes, of either kind.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// The text payload of a text message, without copying.
    ///
    /// ```
    /// use wsnova_core::wire::Message;
    /// assert_eq!(Message::text("hi").into_text().unwrap(), "hi");
    /// assert!(Message::binary(&b"hi"[..]).into_text().is_none());
    /// ```
    pub fn into_text(self) -> Option<Text> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The payload bytes, of either kind, without copying.
    ///
    /// ```
    /// use wsnova_core::wire::Message;
    /// assert_eq!(Message::text("hi").into_bytes(), &b"hi"[..]);
    /// ```
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// `true` for text messages.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// `true` for binary messages.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
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

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Text(text) => write!(f, "Text({text:?})"),
            Message::Binary(data) => write!(f, "Binary({})", HexPreview(data)),
        }
    }
}

/// `N bytes: 01 02 …` with at most [`SHOWN_BINARY`] bytes in hex.
struct HexPreview<'a>(&'a [u8]);

/// How many bytes of a binary payload `Debug` shows.
const SHOWN_BINARY: usize = 32;

impl fmt::Display for HexPreview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.0;
        let unit = if data.len() == 1 { "byte" } else { "bytes" };
        write!(f, "{} {unit}", data.len())?;
        for (i, byte) in data.iter().take(SHOWN_BINARY).enumerate() {
            let sep = if i == 0 { ": " } else { " " };
            write!(f, "{sep}{byte:02x}")?;
        }
        if data.len() > SHOWN_BINARY {
            f.write_str(" …")?;
        }
        Ok(())
    }
}

/// The code and reason of a close frame (RFC 6455 §5.5.1).
///
/// A close frame without a code is reported as code 1005
/// ([`CloseCode::NO_STATUS`]), as RFC 6455 §7.1.5 prescribes.
///
/// ```
/// use wsnova_core::wire::{CloseCode, CloseFrame};
/// let frame = CloseFrame::new(CloseCode::GOING_AWAY, "restart");
/// assert_eq!(frame.reason, "restart");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason text (at most 123 bytes).
    pub reason: Text,
}

impl CloseFrame {
    /// A close frame from a code and a reason.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<Text>) -> Self {
        CloseFrame {
            code: code.into(),
            reason: reason.into(),
        }
    }
}

/// RFC 6455 §7.4.1–§7.4.2: the codes that may appear in a close frame on the wire.
/// 1004–1006 and 1015 are reserved or meant for reporting only, 1016–2999 are
/// reserved for future revisions, and codes below 1000 are unused.
pub(crate) fn is_valid_wire_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Whether this endpoint may send a close frame with `code` and `reason`
/// (RFC 6455 §5.5: a control payload is at most 125 bytes, so the reason at
/// most 123; §7.4.1: a code an endpoint may send, or 1005 for a frame
/// without a code, which then has no reason either). The one check behind
/// every close: the wire's, the session's and the pool's, so each refuses
/// before anything changes.
pub(crate) fn check_close(code: u16, reason: &str) -> Result<(), WireError> {
    if code != 1005 && !is_valid_wire_close_code(code) {
        return Err(WireError::InvalidCloseCode(code));
    }
    if reason.len() > 123 || (code == 1005 && !reason.is_empty()) {
        return Err(WireError::ControlPayloadTooLong(reason.len() + 2));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_debug_is_cut_after_32_bytes() {
        let m = Message::binary(vec![0xabu8; 40]);
        let shown = format!("{m:?}");
        assert!(shown.starts_with("Binary(40 bytes: ab ab "), "{shown}");
        assert!(shown.ends_with(" ab …)"), "{shown}");
        assert_eq!(shown.matches("ab").count(), 32);
        assert_eq!(
            format!("{:?}", Message::binary(vec![7u8])),
            "Binary(1 byte: 07)"
        );
        assert_eq!(
            format!("{:?}", Message::binary(Vec::new())),
            "Binary(0 bytes)"
        );
    }

    #[test]
    fn text_debug_is_quoted_and_escaped() {
        assert_eq!(
            format!("{:?}", Message::text("a\"b\n")),
            r#"Text("a\"b\n")"#
        );
    }

    #[test]
    fn accessors_agree() {
        let text = Message::text(String::from("héllo"));
        assert_eq!((text.len(), text.is_binary()), (6, false));
        assert_eq!(text.clone().into_bytes(), "héllo".as_bytes());
        let binary = Message::binary(&b"h\xffllo"[..]);
        assert_eq!(
            (binary.as_text(), binary.as_bytes()),
            (None, &b"h\xffllo"[..])
        );
        assert!(Message::binary(Bytes::new()).is_empty());
    }

    #[test]
    fn each_kind_answers_for_itself() {
        let text = Message::text("hi");
        let binary = Message::binary(&b"hi"[..]);
        assert_eq!((text.is_text(), text.is_binary()), (true, false));
        assert_eq!((binary.is_text(), binary.is_binary()), (false, true));
        assert_eq!((text.as_text(), binary.as_text()), (Some("hi"), None));
        assert_eq!(text.clone().into_text().as_deref(), Some("hi"));
        assert_eq!(binary.clone().into_text(), None);
        assert!(!text.is_empty() && !binary.is_empty());
    }

    #[test]
    fn binary_debug_marks_a_cut_only_past_32_bytes() {
        let shown = format!("{:?}", Message::binary(vec![1u8; 32]));
        assert!(shown.ends_with(" 01)"), "{shown}");
        assert_eq!(shown.matches("01").count(), 32);
    }

    #[test]
    fn a_close_reason_may_take_123_bytes_and_1005_none() {
        // RFC 6455 §5.5: a control payload is at most 125 bytes, two of
        // them the code.
        assert_eq!(check_close(1000, &"r".repeat(123)), Ok(()));
        assert_eq!(
            check_close(1000, &"r".repeat(124)),
            Err(WireError::ControlPayloadTooLong(126))
        );
        // 1005 stands for "no code", so there is no reason either.
        assert_eq!(check_close(1005, ""), Ok(()));
        assert_eq!(
            check_close(1005, "bye"),
            Err(WireError::ControlPayloadTooLong(5))
        );
        assert_eq!(
            check_close(1004, ""),
            Err(WireError::InvalidCloseCode(1004))
        );
    }
}
