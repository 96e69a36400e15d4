//! HTTP CONNECT (RFC 7231 §4.3.6): ask the proxy for a tunnel to
//! `host:port`, with RFC 7617 Basic credentials when given; any 2xx answer
//! opens the tunnel, and the bytes after its head are the server's.

use std::fmt::Write as _;

use super::url::Authority;
use super::{Proxy, ProxyError};

/// The largest proxy answer head we read.
const MAX_HEAD: usize = 16 * 1024;

/// Waiting for the proxy's answer to `CONNECT`.
#[derive(Debug)]
pub(crate) struct Connect {
    received: Vec<u8>,
    sent_credentials: bool,
}

impl Connect {
    /// Writes the `CONNECT` request to `out`.
    pub(crate) fn start(proxy: &Proxy, host: &str, port: u16, out: &mut Vec<u8>) -> Connect {
        let target = Authority(host, port);
        let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some((user, password)) = proxy.credentials() {
            // RFC 7617 §2: base64 of user-id ":" password, UTF-8.
            let token = data_encoding::BASE64.encode(format!("{user}:{password}").as_bytes());
            let _ = write!(head, "Proxy-Authorization: Basic {token}\r\n");
        }
        head.push_str("\r\n");
        out.extend_from_slice(head.as_bytes());
        Connect {
            received: Vec::new(),
            sent_credentials: proxy.has_credentials(),
        }
    }

    /// Takes the proxy's bytes; `Ok(Some(rest))` once a 2xx head is complete.
    pub(crate) fn receive(&mut self, data: &[u8]) -> Result<Option<Vec<u8>>, ProxyError> {
        self.received.extend_from_slice(data);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&self.received) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if self.received.len() > MAX_HEAD => {
                return Err(ProxyError::InvalidResponse("answer head too large"));
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(ProxyError::InvalidResponse("not an HTTP response")),
        };
        let status = response.code.unwrap_or_default();
        match status {
            200..=299 => Ok(Some(self.received.split_off(head_len))),
            // 407 is the proxy's (RFC 7235 §3.2); some proxies (tinyproxy)
            // answer wrong credentials with 401.
            401 | 407 if self.sent_credentials => Err(ProxyError::AuthenticationFailed),
            401 | 407 => Err(ProxyError::AuthenticationRequired),
            _ => Err(ProxyError::Refused {
                status,
                reason: response
                    .reason
                    .unwrap_or_default()
                    .chars()
                    .take(80)
                    .collect(),
            }),
        }
    }
}
