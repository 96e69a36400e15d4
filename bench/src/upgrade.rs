//! The server side of the HTTP/1.1 upgrade to WebSocket, minimal.

use std::fmt;

/// The longest upgrade request the server reads before giving up.
pub const MAX_REQUEST: usize = 16 * 1024;

/// An accepted upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// Bytes of the request consumed (anything after them is frames).
    pub consumed: usize,
    /// The `101 Switching Protocols` response to write.
    pub response: Vec<u8>,
}

/// Why an upgrade request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeError {
    /// Not parseable as an HTTP/1.1 request.
    Malformed(String),
    /// Not a `GET` with a `Sec-WebSocket-Key` header.
    NotWebSocket,
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed upgrade request: {why}"),
            Self::NotWebSocket => f.write_str("not a WebSocket upgrade request"),
        }
    }
}

impl std::error::Error for UpgradeError {}

/// The response for a refused request.
pub const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Tries to parse an upgrade request at the start of `buf`; `Ok(None)` means
/// the request is not complete yet.
pub fn try_upgrade(buf: &[u8]) -> Result<Option<Upgrade>, UpgradeError> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    let consumed = match request.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(UpgradeError::Malformed(e.to_string())),
    };
    if request.method != Some("GET") {
        return Err(UpgradeError::NotWebSocket);
    }
    let key = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
        .ok_or(UpgradeError::NotWebSocket)?
        .value
        .trim_ascii();
    let accept = tungstenite::handshake::derive_accept_key(key);
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    Ok(Some(Upgrade {
        consumed,
        response: response.into_bytes(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn rfc6455_example_key() {
        let mut buf = REQUEST.to_vec();
        buf.extend_from_slice(&[0x82, 0x80, 1, 2, 3, 4]);
        let up = try_upgrade(&buf).unwrap().unwrap();
        assert_eq!(up.consumed, REQUEST.len());
        let response = String::from_utf8(up.response).unwrap();
        assert!(response.starts_with("HTTP/1.1 101 "));
        assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(response.ends_with("\r\n\r\n"));
    }

    #[test]
    fn partial_and_refused() {
        assert_eq!(try_upgrade(&REQUEST[..REQUEST.len() - 1]), Ok(None));
        assert_eq!(
            try_upgrade(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Err(UpgradeError::NotWebSocket)
        );
        assert!(matches!(
            try_upgrade(b"\x00\x01garbage\r\n\r\n"),
            Err(UpgradeError::Malformed(_))
        ));
    }
}
