//! The HTTP/1.1 upgrade handshake, client side (RFC 6455 §4.1 and §4.2.2).

use std::fmt::Write as _;

use rand::Rng;
use tungstenite::handshake::derive_accept_key;

use super::{PerMessageDeflate, WireConfig, WireError, extensions};

/// Largest response head accepted before the `\r\n\r\n`.
pub(crate) const MAX_RESPONSE_HEAD: usize = 16 * 1024;
/// How much of a refusal's body is kept for the error message.
const BODY_EXCERPT: usize = 512;
/// Headers parsed at most in the response.
const MAX_HEADERS: usize = 64;

/// What the client sent, kept to check the server's answer.
#[derive(Debug)]
pub(crate) struct Handshake {
    expected_accept: String,
    refusal: Option<Refusal>,
}

/// A non-101 response head, waiting for (part of) its body.
#[derive(Debug)]
struct Refusal {
    head_len: usize,
    status: u16,
    reason: String,
    retry_after: Option<super::RetryAfter>,
    content_length: Option<usize>,
    chunked: bool,
}

/// The outcome of feeding response bytes to [`Handshake::parse`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// More bytes are needed.
    Partial,
    /// The upgrade succeeded: `head_len` bytes belong to the response, the rest are frames.
    Upgraded {
        head_len: usize,
        subprotocol: Option<String>,
        /// permessage-deflate, when the server accepted our offer.
        deflate: Option<PerMessageDeflate>,
    },
}

impl Handshake {
    /// Writes the upgrade request into `out` with a `Sec-WebSocket-Key` from `rng`.
    pub(crate) fn start(config: &WireConfig, rng: &mut impl Rng, out: &mut Vec<u8>) -> Self {
        // RFC 6455 §4.1: the key is 16 random bytes, base64-encoded.
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        let key = data_encoding::BASE64.encode(&nonce);
        let ep = &config.endpoint;
        let mut request = String::with_capacity(256);
        // Writing to a String cannot fail.
        let _ = write!(
            request,
            "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
            ep.path_and_query(),
            ep.host_header()
        );
        if !config.subprotocols.is_empty() {
            let _ = write!(
                request,
                "Sec-WebSocket-Protocol: {}\r\n",
                config.subprotocols.join(", ")
            );
        }
        // RFC 7692 §5: the permessage-deflate offer.
        if let Some(offer) = config.deflate.offer() {
            let _ = write!(request, "Sec-WebSocket-Extensions: {offer}\r\n");
        }
        for (name, value) in &config.headers {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        request.push_str("\r\n");
        out.extend_from_slice(request.as_bytes());
        Handshake {
            expected_accept: derive_accept_key(key.as_bytes()),
            refusal: None,
        }
    }

    /// Reads the response from the start of `input` (everything received so
    /// far); `eof` says the transport has ended.
    pub(crate) fn parse(
        &mut self,
        config: &WireConfig,
        input: &[u8],
        eof: bool,
    ) -> Result<Progress, WireError> {
        if self.refusal.is_none() {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            let head_len = match response.parse(input) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) if input.len() > MAX_RESPONSE_HEAD => {
                    return Err(WireError::ResponseTooLarge(MAX_RESPONSE_HEAD));
                }
                Ok(httparse::Status::Partial) if eof => return Err(WireError::HandshakeEof),
                Ok(httparse::Status::Partial) => return Ok(Progress::Partial),
                Err(_) => {
                    return Err(WireError::InvalidHandshake(
                        "malformed HTTP response".into(),
                    ));
                }
            };
            let status = response.code.unwrap_or(0);
            if status == 101 {
                let (subprotocol, deflate) =
                    validate_upgrade(config, &self.expected_accept, &response)?;
                return Ok(Progress::Upgraded {
                    head_len,
                    subprotocol,
                    deflate,
                });
            }
            self.refusal = Some(Refusal::from_response(&response, status, head_len));
        }
        self.parse_refusal_body(input, eof)
    }

    /// After a non-101 head: waits for enough of the body, then fails with it.
    fn parse_refusal_body(&mut self, input: &[u8], eof: bool) -> Result<Progress, WireError> {
        let refusal = self.refusal.as_ref().expect("called after a refusal");
        let body = &input[refusal.head_len..];
        let (excerpt, complete) = if refusal.chunked {
            dechunk(body, BODY_EXCERPT)
        } else {
            let wanted = refusal
                .content_length
                .unwrap_or(usize::MAX)
                .min(BODY_EXCERPT);
            let take = body.len().min(wanted);
            (body[..take].to_vec(), body.len() >= wanted)
        };
        if !complete && !eof {
            return Ok(Progress::Partial);
        }
        let refusal = self.refusal.take().expect("checked above");
        Err(WireError::UpgradeRejected {
            status: refusal.status,
            reason: refusal.reason,
            retry_after: refusal.retry_after,
            body_excerpt: String::from_utf8_lossy(&excerpt).trim().to_owned(),
        })
    }

    /// `true` once a non-101 head was read and only its body is awaited.
    #[cfg(test)]
    pub(crate) fn is_refused(&self) -> bool {
        self.refusal.is_some()
    }
}

impl Refusal {
    fn from_response(response: &httparse::Response<'_, '_>, status: u16, head_len: usize) -> Self {
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
        };
        Refusal {
            head_len,
            status,
            reason: response.reason.unwrap_or("").to_owned(),
            retry_after: header("Retry-After").and_then(|v| super::RetryAfter::parse(&v)),
            content_length: header("Content-Length").and_then(|v| v.parse().ok()),
            chunked: header("Transfer-Encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked")),
        }
    }
}

/// Checks a `101` response against RFC 6455 §4.2.2 / §4.1 (client
/// requirements 1–6): the subprotocol and the extension the server selected.
fn validate_upgrade(
    config: &WireConfig,
    expected_accept: &str,
    response: &httparse::Response<'_, '_>,
) -> Result<(Option<String>, Option<PerMessageDeflate>), WireError> {
    let values = |name: &'static str| header_values(response, name);
    let has_token = |name: &'static str, token: &str| {
        values(name).any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token("Upgrade", "websocket") {
        return Err(WireError::InvalidHandshake(
            "missing `Upgrade: websocket`".into(),
        ));
    }
    if !has_token("Connection", "upgrade") {
        return Err(WireError::InvalidHandshake(
            "missing `Connection: Upgrade`".into(),
        ));
    }
    if values("Sec-WebSocket-Accept").next() != Some(expected_accept) {
        return Err(WireError::InvalidHandshake(
            "wrong or missing Sec-WebSocket-Accept".into(),
        ));
    }
    // Only what we offered, as we offered it (§4.1, item 5; RFC 7692 §7.1).
    let deflate = extensions::accept(&config.deflate, values("Sec-WebSocket-Extensions"))?;
    // The server may choose none of our subprotocols, but never another one (§4.1, item 6).
    match values("Sec-WebSocket-Protocol").next() {
        None | Some("") => Ok((None, deflate)),
        Some(chosen) if config.subprotocols.iter().any(|p| p == chosen) => {
            Ok((Some(chosen.to_owned()), deflate))
        }
        Some(chosen) => Err(WireError::InvalidHandshake(
            format!(
                "server selected subprotocol {chosen:?}, which was not offered (offered: {:?})",
                config.subprotocols
            )
            .into(),
        )),
    }
}

/// The trimmed values of every header called `name` (case-insensitive).
fn header_values<'a>(
    response: &'a httparse::Response<'_, '_>,
    name: &'static str,
) -> impl Iterator<Item = &'a str> {
    response
        .headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| std::str::from_utf8(h.value).unwrap_or("").trim())
}

/// Decodes up to `limit` bytes of a chunked body (RFC 7230 §4.1); `true` once
/// the limit or the last chunk is reached.
fn dechunk(mut body: &[u8], limit: usize) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    loop {
        let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") else {
            return (data, false);
        };
        let size_text = std::str::from_utf8(&body[..line_end]).unwrap_or("");
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return (data, true); // not chunked after all: show what we have
        };
        if size == 0 {
            return (data, true);
        }
        let chunk = &body[line_end + 2..];
        let take = chunk.len().min(size).min(limit - data.len());
        data.extend_from_slice(&chunk[..take]);
        if data.len() >= limit {
            return (data, true);
        }
        if chunk.len() < size + 2 {
            return (data, false);
        }
        body = &chunk[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn start(config: &WireConfig) -> (Handshake, String, String) {
        let mut out = Vec::new();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let hs = Handshake::start(config, &mut rng, &mut out);
        let request = String::from_utf8(out).unwrap();
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .to_owned();
        (hs, request, key)
    }

    fn ok_response(key: &str, extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
            derive_accept_key(key.as_bytes())
        )
    }

    #[test]
    fn request_carries_path_host_key_headers_and_protocols() {
        let config = WireConfig::new("ws://localhost:9001/runCase?case=1")
            .unwrap()
            .header("X-Api-Key", "k")
            .unwrap()
            .subprotocol("a")
            .subprotocol("b");
        let (_, request, key) = start(&config);
        assert!(request.starts_with("GET /runCase?case=1 HTTP/1.1\r\nHost: localhost:9001\r\n"));
        assert!(request.contains("Sec-WebSocket-Version: 13\r\n"));
        assert!(request.contains("Sec-WebSocket-Protocol: a, b\r\n"));
        // Offered by default, like browsers (RFC 7692 §5).
        assert!(
            request.contains(
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            )
        );
        assert!(request.ends_with("X-Api-Key: k\r\n\r\n"));
        assert_eq!(
            data_encoding::BASE64.decode(key.as_bytes()).unwrap().len(),
            16
        );
    }

    #[test]
    fn same_seed_gives_same_key() {
        let config = WireConfig::new("ws://localhost/").unwrap();
        assert_eq!(start(&config).2, start(&config).2);
    }

    #[test]
    fn accepts_a_valid_upgrade_at_every_split() {
        let config = WireConfig::new("ws://localhost/")
            .unwrap()
            .subprotocol("json");
        let (mut hs, _, key) = start(&config);
        let response = ok_response(&key, "Sec-WebSocket-Protocol: json\r\n");
        let bytes = response.as_bytes();
        for split in 0..bytes.len() {
            assert_eq!(
                hs.parse(&config, &bytes[..split], false).unwrap(),
                Progress::Partial
            );
        }
        let mut with_frame = bytes.to_vec();
        with_frame.extend_from_slice(&[0x81, 0x00]);
        assert_eq!(
            hs.parse(&config, &with_frame, false).unwrap(),
            Progress::Upgraded {
                head_len: bytes.len(),
                subprotocol: Some("json".into()),
                deflate: None,
            }
        );
    }

    #[test]
    fn rejects_bad_accept_extension_and_foreign_subprotocol() {
        let config = WireConfig::new("ws://localhost/")
            .unwrap()
            .deflate(crate::wire::DeflateConfig::disabled())
            .unwrap();
        let (mut hs, _, key) = start(&config);
        for bad in [
            ok_response("d3Jvbmcga2V5IQ==", ""),
            ok_response(&key, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            ok_response(&key, "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"),
            ok_response(&key, "Sec-WebSocket-Protocol: other\r\n"),
            ok_response(&key, "").replace("Upgrade: websocket\r\n", ""),
            ok_response(&key, "").replace("Connection: Upgrade", "Connection: close"),
        ] {
            let err = hs.parse(&config, bad.as_bytes(), false).unwrap_err();
            assert!(
                matches!(err, WireError::InvalidHandshake(_)),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn an_accepted_deflate_offer_is_reported_and_a_bad_one_named() {
        let config = WireConfig::new("ws://localhost/").unwrap();
        let (mut hs, _, key) = start(&config);
        let extra = "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n";
        let response = ok_response(&key, extra);
        match hs.parse(&config, response.as_bytes(), false).unwrap() {
            Progress::Upgraded { deflate, .. } => {
                assert_eq!(deflate.unwrap().server_max_window_bits, 10)
            }
            other => panic!("{other:?}"),
        }
        let bad = ok_response(
            &key,
            "Sec-WebSocket-Extensions: permessage-deflate; x=1\r\n",
        );
        let err = hs.parse(&config, bad.as_bytes(), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid upgrade response: permessage-deflate: unknown parameter "x""#
        );
        let plain = WireConfig::new("ws://localhost/")
            .unwrap()
            .deflate(crate::wire::DeflateConfig::disabled())
            .unwrap();
        let (_, request, _) = start(&plain);
        assert!(!request.contains("Sec-WebSocket-Extensions"));
    }

    #[test]
    fn an_unoffered_subprotocol_is_named_in_the_error() {
        let config = WireConfig::new("ws://localhost/").unwrap().subprotocol("a");
        let (mut hs, _, key) = start(&config);
        let response = ok_response(&key, "Sec-WebSocket-Protocol: foo\r\n");
        let err = hs.parse(&config, response.as_bytes(), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid upgrade response: server selected subprotocol "foo", which was not offered (offered: ["a"])"#
        );
    }

    #[test]
    fn refusal_reports_status_retry_after_and_body() {
        let config = WireConfig::new("ws://localhost/").unwrap();
        let (mut hs, _, _) = start(&config);
        let head = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 17\r\n\r\n";
        let mut input = head.as_bytes().to_vec();
        assert_eq!(hs.parse(&config, &input, false).unwrap(), Progress::Partial);
        input.extend_from_slice(b"slow down please!");
        match hs.parse(&config, &input, false).unwrap_err() {
            WireError::UpgradeRejected {
                status,
                retry_after,
                body_excerpt,
                ..
            } => {
                assert_eq!(status, 429);
                assert_eq!(
                    retry_after,
                    Some(super::super::RetryAfter::Delay(
                        std::time::Duration::from_secs(3)
                    ))
                );
                assert_eq!(body_excerpt, "slow down please!");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn chunked_refusal_body_is_decoded_and_eof_ends_the_wait() {
        assert_eq!(
            dechunk(b"5\r\nhello\r\n0\r\n\r\n", 512),
            (b"hello".to_vec(), true)
        );
        assert_eq!(dechunk(b"5\r\nhel", 512), (b"hel".to_vec(), false));
        let two = dechunk(b"3;x=y\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 512);
        assert_eq!(two, (b"abcdef".to_vec(), true));
        let long = format!("3\r\nabc\r\n64\r\n{}\r\n0\r\n\r\n", "z".repeat(100));
        let whole = format!("abc{}", "z".repeat(100)).into_bytes();
        assert_eq!(dechunk(long.as_bytes(), 512), (whole.clone(), true));
        assert_eq!(dechunk(long.as_bytes(), 60), (whole[..60].to_vec(), true));
        let config = WireConfig::new("ws://localhost/").unwrap();
        let (mut hs, _, _) = start(&config);
        let head = b"HTTP/1.1 403 Forbidden\r\n\r\nno";
        assert_eq!(hs.parse(&config, head, false).unwrap(), Progress::Partial);
        assert!(hs.is_refused());
        let err = hs.parse(&config, head, true).unwrap_err();
        assert!(err.to_string().contains("403"), "{err}");
    }

    #[test]
    fn garbage_and_oversized_heads_fail() {
        let config = WireConfig::new("ws://localhost/").unwrap();
        let (mut hs, _, _) = start(&config);
        assert!(matches!(
            hs.parse(&config, b"SSH-2.0-OpenSSH\r\n\r\n", false),
            Err(WireError::InvalidHandshake(_))
        ));
        // A head still incomplete at 16 KiB is waited for; one byte more fails.
        let head = |len: usize| format!("HTTP/1.1 101 OK\r\nX: {}", "a".repeat(len - 20));
        let at_limit = hs.parse(&config, head(16_384).as_bytes(), false);
        assert_eq!(at_limit, Ok(Progress::Partial));
        let over = hs.parse(&config, head(16_385).as_bytes(), false);
        assert_eq!(over, Err(WireError::ResponseTooLarge(16_384)));
        assert!(matches!(
            hs.parse(&config, b"HTTP/1.1 101", true),
            Err(WireError::HandshakeEof)
        ));
    }
}
