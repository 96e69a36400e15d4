//! Where to connect: the [`Endpoint`] parsed from a `ws://` or `wss://` URL.

use std::fmt;

use tungstenite::http;

use super::WireError;

/// Where to connect: parsed from a `ws://` or `wss://` URL.
///
/// ```
/// use wsnova_core::wire::Endpoint;
/// let ep = Endpoint::parse("wss://test.deribit.com/ws/api/v2")?;
/// assert_eq!((ep.host(), ep.port(), ep.is_secure()), ("test.deribit.com", 443, true));
/// assert_eq!(ep.path_and_query(), "/ws/api/v2");
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub(super) secure: bool,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) path_and_query: String,
    pub(super) host_header: String,
}

impl Endpoint {
    /// Parses a `ws://` or `wss://` URL; the port defaults to 80 or 443.
    pub fn parse(url: &str) -> Result<Self, WireError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| WireError::InvalidUrl("not a URL"))?;
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(WireError::InvalidUrl("the scheme must be ws or wss")),
        };
        let authority = uri.authority().ok_or(WireError::InvalidUrl("no host"))?;
        let bracketed = authority.host();
        if bracketed.is_empty() {
            return Err(WireError::InvalidUrl("no host"));
        }
        let host = bracketed.trim_start_matches('[').trim_end_matches(']');
        let default_port = if secure { 443 } else { 80 };
        let port = uri.port_u16().unwrap_or(default_port);
        // RFC 6455 §4.1: the Host header carries the port unless it is the default one.
        let host_header = if port == default_port {
            bracketed.to_owned()
        } else {
            format!("{bracketed}:{port}")
        };
        let path_and_query = uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .filter(|pq| !pq.is_empty())
            .unwrap_or("/")
            .to_owned();
        Ok(Endpoint {
            secure,
            host: host.to_owned(),
            port,
            path_and_query,
            host_header,
        })
    }

    /// `true` for `wss://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host name or IP address, without brackets: what the driver resolves and dials.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target of the upgrade request, e.g. `/ws/api/v2?x=1`.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The value of the `Host` header.
    pub(crate) fn host_header(&self) -> &str {
        &self.host_header
    }
}

/// Prints the URL without its query, which may carry secrets (listen keys, tokens).
impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        let path = self.path_and_query.split('?').next().unwrap_or("/");
        let query = if path.len() < self.path_and_query.len() {
            "?…"
        } else {
            ""
        };
        write!(f, "{scheme}://{}{path}{query}", self.host_header)
    }
}
