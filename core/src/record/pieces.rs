//! One direction of one connection's byte stream cut into the pieces a
//! recording keeps: the HTTP upgrade head, then whole frames (unmasked),
//! with secrets redacted. Works on plaintext streams (`ws://`); a `wss://`
//! stream is ciphertext and is not recorded piece by piece.

use data_encoding::BASE64;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a recording keeps of a stream: the upgrade head or one frame.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Piece {
    /// The HTTP upgrade request or response, sensitive header values redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// A frame's first byte (FIN, RSV bits, opcode; RFC 6455 §5.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b0: Option<u8>,
    /// A text frame's payload, secrets redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Any other frame's payload, in base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

impl Piece {
    /// The bytes a server would send for this piece (frames unmasked).
    pub fn server_bytes(&self) -> Vec<u8> {
        if let Some(head) = &self.head {
            return head.as_bytes().to_vec();
        }
        let payload = match (&self.text, &self.base64) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(b64)) => BASE64.decode(b64.as_bytes()).unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        let mut out = vec![self.b0.unwrap_or(0x81)];
        match payload.len() {
            n if n < 126 => out.push(n as u8),
            n if n <= usize::from(u16::MAX) => {
                out.push(126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&payload);
        out
    }
}

/// Cuts a stream into [`Piece`]s as bytes arrive.
#[derive(Debug, Clone, Default)]
pub(crate) struct PieceStream {
    head_done: bool,
    buf: Vec<u8>,
}

impl PieceStream {
    /// Adds bytes; the pieces they completed, redacted.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Vec<Piece> {
        self.buf.extend_from_slice(data);
        let mut pieces = Vec::new();
        loop {
            if !self.head_done {
                let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    break;
                };
                let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                self.head_done = true;
                pieces.push(Piece {
                    head: Some(redact_head(&String::from_utf8_lossy(&head))),
                    ..Piece::default()
                });
                continue;
            }
            let Some((b0, payload, used)) = frame(&self.buf) else {
                break;
            };
            self.buf.drain(..used);
            let text = (b0 & 0x0f == 1)
                .then(|| String::from_utf8(payload.clone()).ok())
                .flatten();
            pieces.push(match text {
                Some(text) => Piece {
                    b0: Some(b0),
                    text: Some(redact_text(&text)),
                    ..Piece::default()
                },
                None => Piece {
                    b0: Some(b0),
                    base64: Some(BASE64.encode(&payload)),
                    ..Piece::default()
                },
            });
        }
        pieces
    }
}

/// The first whole frame in `buf`: its first byte, unmasked payload and length.
fn frame(buf: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let mask: Option<[u8; 4]> = if b1 & 0x80 != 0 {
        let mask = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(mask)
    } else {
        None
    };
    let end = at.checked_add(usize::try_from(len).ok()?)?;
    let mut payload = buf.get(at..end)?.to_vec();
    if let Some(mask) = mask {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
    }
    Some((b0, payload, end))
}

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

/// Object keys whose string values are secrets, wherever they appear.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "client_secret",
    "signature",
    "password",
    "secret",
    "api_key",
    "token",
];

/// `text` with secrets replaced, if it is JSON holding any: the `params` of
/// an auth request (a `method` ending in `auth`) and every string under a
/// secret key. Anything else comes back unchanged, byte for byte.
pub fn redact_text(text: &str) -> String {
    if !SECRET_KEYS.iter().any(|k| text.contains(k)) && !text.contains("auth") {
        return text.to_owned();
    }
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return text.to_owned();
    };
    if redact_value(&mut value) {
        value.to_string()
    } else {
        text.to_owned()
    }
}

fn redact_value(value: &mut Value) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            let auth = map
                .get("method")
                .and_then(Value::as_str)
                .is_some_and(|m| m.ends_with("auth"));
            for (key, inner) in map.iter_mut() {
                let secret = SECRET_KEYS.contains(&key.as_str()) || (auth && key == "params");
                if secret && !inner.is_null() && inner.as_str() != Some(REDACTED) {
                    *inner = Value::from(REDACTED);
                    changed = true;
                } else {
                    changed |= redact_value(inner);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= redact_value(item);
            }
        }
        _ => {}
    }
    changed
}

/// An HTTP head with the values of credential-bearing headers replaced.
fn redact_head(head: &str) -> String {
    head.split("\r\n")
        .map(|line| match line.split_once(':') {
            Some((name, _)) if is_secret_header(name) => format!("{name}: {REDACTED}"),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn is_secret_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    ["auth", "cookie", "key", "token", "secret", "signature"]
        .iter()
        .any(|word| name.contains(word))
        && !name.starts_with("sec-websocket-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_params_and_tokens_are_redacted_and_the_rest_is_untouched() {
        let auth =
            r#"{"jsonrpc":"2.0","id":1,"method":"public/auth","params":{"client_secret":"s"}}"#;
        assert!(!redact_text(auth).contains("\"s\""));
        let answer =
            r#"{"id":1,"result":{"access_token":"AT","refresh_token":"RT","expires_in":900}}"#;
        let redacted = redact_text(answer);
        assert!(!redacted.contains("AT") && !redacted.contains("RT") && redacted.contains("900"));
        let ticker = r#"{"params":{"data":{"price":1.50}}}"#;
        assert_eq!(redact_text(ticker), ticker);
    }

    #[test]
    fn an_auth_requests_params_are_redacted_whatever_their_names() {
        // No secret key in sight, but the method is an auth method.
        let auth =
            r#"{"method":"public/auth","params":{"grant_type":"client_credentials","key":"K"}}"#;
        assert_eq!(
            redact_text(auth),
            r#"{"method":"public/auth","params":"<redacted>"}"#
        );
        // Another method's params are left alone, byte for byte.
        let subscribe = r#"{"method":"public/subscribe","params":{"channels":["auth.x"]}}"#;
        assert_eq!(redact_text(subscribe), subscribe);
    }

    #[test]
    fn secrets_inside_arrays_are_redacted_and_null_ones_left_null() {
        let nested = r#"{"result":[{"id":1},{"access_token":"AT"}]}"#;
        assert_eq!(
            redact_text(nested),
            r#"{"result":[{"id":1},{"access_token":"<redacted>"}]}"#
        );
        let null = r#"{"result":{"refresh_token":null}}"#;
        assert_eq!(redact_text(null), null);
        let again = r#"{"token":"<redacted>"}"#;
        assert_eq!(redact_text(again), again, "already redacted: unchanged");
    }

    #[test]
    fn only_credential_headers_lose_their_values() {
        let head = "GET /ws HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\nX-Api-Key: k\r\n\
                    Cookie: c=1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        assert_eq!(
            redact_head(head),
            "GET /ws HTTP/1.1\r\nHost: h\r\nAuthorization: <redacted>\r\nX-Api-Key: <redacted>\r\n\
             Cookie: <redacted>\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
    }

    #[test]
    fn a_stream_is_cut_into_head_and_unmasked_frames_across_chunks() {
        let mut stream = PieceStream::default();
        let head = b"GET / HTTP/1.1\r\nAuthorization: Bearer x\r\n\r\n";
        let mut bytes = head.to_vec();
        // A masked text frame "hi" (mask 1,2,3,4).
        bytes.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
        let mut pieces = stream.feed(&bytes[..10]);
        pieces.extend(stream.feed(&bytes[10..bytes.len() - 1]));
        assert_eq!(pieces.len(), 1);
        assert!(!pieces[0].head.as_ref().unwrap().contains("Bearer"));
        let last = stream.feed(&bytes[bytes.len() - 1..]);
        assert_eq!(last[0].text.as_deref(), Some("hi"));
        assert_eq!(last[0].b0, Some(0x81));
        assert_eq!(last[0].server_bytes(), [0x81, 2, b'h', b'i']);
        // A text frame that is not the last of its message keeps its FIN bit clear.
        let first_of_two = stream.feed(&[0x01, 0x81, 0, 0, 0, 0, b'h']);
        assert_eq!(first_of_two[0].b0, Some(0x01));
        assert_eq!(first_of_two[0].server_bytes(), [0x01, 1, b'h']);
    }

    /// Each of RFC 6455 §5.2's three length encodings, at their edges: the
    /// header says the length, and the stream cuts the frame back out.
    #[test]
    fn server_bytes_use_the_shortest_length_encoding_and_cut_back_out() {
        for (len, header) in [
            (0, vec![0x82, 0]),
            (125, vec![0x82, 125]),
            (126, vec![0x82, 126, 0, 126]),
            (65_535, vec![0x82, 126, 0xff, 0xff]),
            (65_536, vec![0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        ] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let piece = Piece {
                b0: Some(0x82),
                base64: Some(BASE64.encode(&payload)),
                ..Piece::default()
            };
            let bytes = piece.server_bytes();
            assert_eq!(bytes[..header.len()], header[..], "{len}");
            assert_eq!(bytes.len(), header.len() + len, "{len}");
            let mut stream = PieceStream::default();
            let mut fed = b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec();
            fed.extend_from_slice(&bytes);
            let pieces = stream.feed(&fed);
            assert_eq!(pieces.len(), 2, "{len}");
            assert_eq!(pieces[1], piece, "{len}");
        }
    }
}
