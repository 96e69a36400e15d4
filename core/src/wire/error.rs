//! Errors of the wire layer: caller misuse, peer misbehaviour and limits kept apart.

use std::borrow::Cow;

use super::{CloseCode, ProxyError, RetryAfter};

/// Everything that can go wrong between the socket's bytes and WebSocket messages.
///
/// The variants fall into three groups, told apart by [`WireError::kind`]:
/// the caller misused the API, the peer misbehaved, or a configured limit was
/// exceeded. When the peer misbehaves after the upgrade, the wire has already
/// queued a close frame with [`WireError::close_code`] (RFC 6455 §7.1.7, "Fail
/// the WebSocket Connection"); the caller flushes it and closes the transport.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The URL is not a usable `ws://` or `wss://` URL.
    #[error("invalid WebSocket URL: {0}")]
    InvalidUrl(&'static str),
    /// A configured handshake header cannot be sent.
    #[error("invalid handshake header `{name}`: {reason}")]
    InvalidHeader {
        /// The header name as given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The proxy URL is not usable (the text says why; the URL itself is
    /// not repeated: it may hold a password).
    #[error("invalid proxy URL: {0}")]
    InvalidProxy(&'static str),
    /// A proxy environment variable (named) is set to something that is not
    /// a usable proxy URL.
    #[error("the proxy environment variable {0} is not a valid proxy URL")]
    InvalidProxyVariable(&'static str),
    /// A message or control frame was offered while the connection cannot send it.
    #[error("cannot send: the WebSocket is {0}")]
    NotOpen(&'static str),
    /// The close code may not be sent by an endpoint (RFC 6455 §7.4.1).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// A permessage-deflate setting is out of range (see [`DeflateConfig`](super::DeflateConfig)).
    #[error("invalid permessage-deflate setting: {0}")]
    InvalidDeflate(&'static str),
    /// A control frame payload (ping data, close reason) is longer than RFC 6455 §5.5 allows.
    #[error("control frame payload of {0} bytes exceeds 125 bytes")]
    ControlPayloadTooLong(usize),

    /// The tunnel through the proxy did not open; see
    /// [`ProxyError::is_permanent`] for which ones are retried.
    #[error(transparent)]
    Proxy(ProxyError),
    /// The server's certificate was rejected.
    #[error("TLS certificate rejected: {0}")]
    Certificate(rustls::CertificateError),
    /// Any other TLS failure (alert from the peer, bad record, ...).
    #[error("TLS failure: {0}")]
    Tls(rustls::Error),
    /// The server answered the upgrade request with something other than `101`.
    #[error("server refused the upgrade: HTTP {status} {reason}: {body_excerpt}")]
    UpgradeRejected {
        /// The HTTP status code, e.g. 401, 403 or 429.
        status: u16,
        /// The HTTP reason phrase.
        reason: String,
        /// The `Retry-After` header, when the server sent one that parses
        /// (RFC 9110 §10.2.3: delay-seconds or an HTTP-date).
        retry_after: Option<RetryAfter>,
        /// The first bytes of the response body (lossy UTF-8), for debugging.
        body_excerpt: String,
    },
    /// The upgrade response is not a valid WebSocket handshake (RFC 6455 §4.2.2).
    /// The text says what is wrong and names what the server sent where that
    /// helps (e.g. a subprotocol that was not offered).
    #[error("invalid upgrade response: {0}")]
    InvalidHandshake(Cow<'static, str>),
    /// The transport ended before the upgrade completed.
    #[error("transport closed during the upgrade handshake")]
    HandshakeEof,
    /// The peer broke the framing rules of RFC 6455 §5.
    #[error("WebSocket protocol violation: {0}")]
    Protocol(&'static str),
    /// The peer sent a close code that is not allowed on the wire (RFC 6455 §7.4).
    #[error("peer sent the invalid close code {0}")]
    PeerCloseCode(u16),
    /// A text message or close reason is not valid UTF-8 (RFC 6455 §8.1).
    #[error("invalid UTF-8 in a text message or close reason")]
    InvalidUtf8,
    /// The transport ended without a close handshake (RFC 6455 §7.1.5, code 1006).
    #[error("transport closed without a WebSocket close handshake")]
    AbnormalClosure,

    /// A frame is larger than `max_frame_size`.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    FrameTooLarge {
        /// Size announced in the frame header.
        size: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A (possibly fragmented) message is larger than `max_message_size`.
    #[error("message of at least {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Bytes the message would hold.
        size: u64,
        /// The configured limit.
        limit: usize,
    },
    /// The upgrade response head is larger than the wire accepts.
    #[error("upgrade response head exceeds {0} bytes")]
    ResponseTooLarge(usize),
}

/// Which side is at fault for a [`WireError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller used the API wrongly; the connection itself is unharmed.
    Misuse,
    /// The peer (or the network path) misbehaved; the connection is lost.
    Peer,
    /// A configured limit was exceeded; the connection is lost.
    Limit,
}

impl WireError {
    /// Which side is at fault.
    ///
    /// ```
    /// use wsnova_core::wire::{ErrorKind, WireError};
    /// assert_eq!(WireError::InvalidUtf8.kind(), ErrorKind::Peer);
    /// assert_eq!(WireError::NotOpen("closed").kind(), ErrorKind::Misuse);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        use WireError::*;
        match self {
            InvalidUrl(_)
            | InvalidProxy(_)
            | InvalidProxyVariable(_)
            | InvalidHeader { .. }
            | NotOpen(_)
            | InvalidCloseCode(_)
            | InvalidDeflate(_)
            | ControlPayloadTooLong(_) => ErrorKind::Misuse,
            FrameTooLarge { .. } | MessageTooLarge { .. } | ResponseTooLarge(_) => ErrorKind::Limit,
            _ => ErrorKind::Peer,
        }
    }

    /// The close code this error sends to the peer, if it fails an open connection.
    ///
    /// This is the one place where errors map to close codes: 1002 for protocol
    /// violations, 1007 for invalid UTF-8, 1009 for size limits (RFC 6455 §7.4.1).
    ///
    /// ```
    /// use wsnova_core::wire::{CloseCode, WireError};
    /// let err = WireError::FrameTooLarge { size: 1 << 30, limit: 1 << 24 };
    /// assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    /// ```
    pub fn close_code(&self) -> Option<CloseCode> {
        use WireError::*;
        match self {
            Protocol(_) | PeerCloseCode(_) => Some(CloseCode::PROTOCOL_ERROR),
            InvalidUtf8 => Some(CloseCode::INVALID_PAYLOAD),
            FrameTooLarge { .. } | MessageTooLarge { .. } => Some(CloseCode::MESSAGE_TOO_BIG),
            _ => None,
        }
    }
}

impl From<rustls::Error> for WireError {
    fn from(err: rustls::Error) -> Self {
        match err {
            rustls::Error::InvalidCertificate(reason) => WireError::Certificate(reason),
            other => WireError::Tls(other),
        }
    }
}
