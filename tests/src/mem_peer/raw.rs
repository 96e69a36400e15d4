//! Hand-built wire bytes: frames and HTTP upgrade messages.
//!
//! These do not go through any WebSocket implementation, so tests can
//! produce exactly the (possibly invalid) bytes they need.

use tungstenite::handshake::derive_accept_key;

/// The `Sec-WebSocket-Key` example from RFC 6455 §1.3.
pub const RFC_SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The `Sec-WebSocket-Accept` that RFC 6455 §1.3 derives from [`RFC_SAMPLE_KEY`].
pub const RFC_SAMPLE_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn frame_header(first_byte: u8, masked: bool, len: usize) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut out = vec![first_byte];
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if let Ok(len16) = u16::try_from(len) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&len16.to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out
}

/// Builds an unmasked (server-to-client) frame by hand.
///
/// `first_byte` is the whole first header byte: FIN/RSV bits and opcode,
/// e.g. `0x81` = FIN + text, `0x02` = non-final binary, `0x89` = ping.
/// The length uses the shortest encoding (7-bit, 16-bit or 64-bit).
///
/// ```
/// use wsnova_tests::mem_peer::raw_server_frame;
///
/// assert_eq!(raw_server_frame(0x81, b"Hi"), [0x81, 0x02, b'H', b'i']);
/// ```
pub fn raw_server_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(first_byte, false, payload.len());
    out.extend_from_slice(payload);
    out
}

/// Builds a masked (client-to-server) frame by hand, masking `payload` with
/// `mask`. `first_byte` is as in [`raw_server_frame`].
///
/// ```
/// use wsnova_tests::mem_peer::raw_client_frame;
///
/// // RFC 6455 §5.7: a single-frame masked text message "Hello".
/// let frame = raw_client_frame(0x81, [0x37, 0xfa, 0x21, 0x3d], b"Hello");
/// assert_eq!(frame, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
pub fn raw_client_frame(first_byte: u8, mask: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(first_byte, true, payload.len());
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    out
}

fn push_extra_headers(out: &mut String, extra_headers: &str) {
    out.push_str(extra_headers);
    if !extra_headers.is_empty() && !extra_headers.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
}

/// Builds a correct `HTTP/1.1 101 Switching Protocols` upgrade response for
/// the client's `Sec-WebSocket-Key`.
///
/// `extra_headers` is inserted verbatim before the blank line: zero or more
/// `Name: value` lines separated by `\r\n` (a missing final `\r\n` is added).
///
/// ```
/// use wsnova_tests::mem_peer::{handshake_response, RFC_SAMPLE_ACCEPT, RFC_SAMPLE_KEY};
///
/// let resp = handshake_response(RFC_SAMPLE_KEY, "Sec-WebSocket-Protocol: chat");
/// assert!(resp.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
/// assert!(resp.contains(&format!("Sec-WebSocket-Accept: {RFC_SAMPLE_ACCEPT}\r\n")));
/// assert!(resp.ends_with("Sec-WebSocket-Protocol: chat\r\n\r\n"));
/// ```
pub fn handshake_response(key: &str, extra_headers: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        derive_accept_key(key.as_bytes())
    );
    push_extra_headers(&mut out, extra_headers);
    out
}

/// Builds a valid client upgrade request (`GET /`, `Host: localhost`) with
/// the given `Sec-WebSocket-Key`; `extra_headers` as in [`handshake_response`].
///
/// ```
/// use wsnova_tests::mem_peer::handshake_request;
///
/// let req = handshake_request("dGhlIHNhbXBsZSBub25jZQ==", "");
/// assert!(req.starts_with("GET / HTTP/1.1\r\n"));
/// assert!(req.ends_with("\r\n\r\n"));
/// ```
pub fn handshake_request(key: &str, extra_headers: &str) -> String {
    let mut out = format!(
        "GET / HTTP/1.1\r\n\
         Host: localhost\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: {key}\r\n"
    );
    push_extra_headers(&mut out, extra_headers);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_frame_length_encodings() {
        let f = raw_server_frame(0x82, &[7; 125]);
        assert_eq!(&f[..2], &[0x82, 125]);
        assert_eq!(f.len(), 2 + 125);

        let f = raw_server_frame(0x82, &[7; 126]);
        assert_eq!(&f[..4], &[0x82, 126, 0, 126]);
        assert_eq!(f.len(), 4 + 126);

        let f = raw_server_frame(0x82, &[7; 65_535]);
        assert_eq!(&f[..4], &[0x82, 126, 0xff, 0xff]);

        let f = raw_server_frame(0x02, &vec![7; 65_536]);
        assert_eq!(&f[..10], &[0x02, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(f.len(), 10 + 65_536);
    }

    #[test]
    fn client_frame_matches_rfc_example_and_sets_mask_bit() {
        let f = raw_client_frame(0x81, [0x37, 0xfa, 0x21, 0x3d], b"Hello");
        assert_eq!(
            f,
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
        let f = raw_client_frame(0x82, [1, 2, 3, 4], &[0; 200]);
        assert_eq!(&f[..4], &[0x82, 0x80 | 126, 0, 200]);
        assert_eq!(&f[4..8], &[1, 2, 3, 4]);
        assert_eq!(&f[8..12], &[1, 2, 3, 4], "zero payload shows the mask");
    }

    #[test]
    fn response_uses_the_rfc_accept_key() {
        let resp = handshake_response(RFC_SAMPLE_KEY, "");
        assert_eq!(
            resp,
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {RFC_SAMPLE_ACCEPT}\r\n\r\n"
            )
        );
        let resp = handshake_response(RFC_SAMPLE_KEY, "A: 1\r\nB: 2\r\n");
        assert!(resp.ends_with("\r\nA: 1\r\nB: 2\r\n\r\n"));
    }
}
