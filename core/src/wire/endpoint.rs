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
        // RFC 6455 §3: an empty path is "/", with or without a query, so the
        // request target is always in origin form (RFC 9112 §3.2.1).
        let path_and_query = match uri.path_and_query().map(|pq| pq.as_str()) {
            None | Some("") => "/".to_owned(),
            Some(pq) if pq.starts_with('?') => format!("/{pq}"),
            Some(pq) => pq.to_owned(),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_follow_the_scheme_and_stay_out_of_the_host_header() {
        // RFC 6455 §3: port 80 for ws, 443 for wss; §4.1: Host carries the
        // port only when it is not the default one.
        let ep = Endpoint::parse("wss://example.com").unwrap();
        assert!(ep.is_secure());
        assert_eq!((ep.host(), ep.port()), ("example.com", 443));
        assert_eq!(ep.host_header(), "example.com");
        assert_eq!(ep.path_and_query(), "/");
        let ep = Endpoint::parse("ws://example.com:80/a").unwrap();
        assert!(!ep.is_secure());
        assert_eq!(ep.port(), 80);
        assert_eq!(ep.host_header(), "example.com");
        let ep = Endpoint::parse("wss://example.com:443/a").unwrap();
        assert_eq!(ep.host_header(), "example.com");
        // The other scheme's default is not this one's.
        let ep = Endpoint::parse("ws://example.com:443/a").unwrap();
        assert_eq!((ep.port(), ep.host_header()), (443, "example.com:443"));
        let ep = Endpoint::parse("wss://example.com:80/a").unwrap();
        assert_eq!((ep.port(), ep.host_header()), (80, "example.com:80"));
        let ep = Endpoint::parse("wss://[2001:db8::1]").unwrap();
        assert_eq!((ep.host(), ep.port()), ("2001:db8::1", 443));
        assert_eq!(ep.host_header(), "[2001:db8::1]");
    }

    #[test]
    fn the_request_target_keeps_path_and_query() {
        let ep = Endpoint::parse("ws://h:9001/chat/room?x=1&y=2").unwrap();
        assert_eq!((ep.host(), ep.port()), ("h", 9001));
        assert_eq!(ep.path_and_query(), "/chat/room?x=1&y=2");
        // RFC 6455 §3: an empty path is "/".
        assert_eq!(Endpoint::parse("ws://h").unwrap().path_and_query(), "/");
    }

    /// `ws://h?x=1` once gave the request target `?x=1` (`GET ?x=1
    /// HTTP/1.1`), not an origin-form target (RFC 9112 §3.2.1); RFC 6455 §3
    /// makes the empty path "/".
    #[test]
    fn a_query_without_a_path_gets_the_root_path() {
        assert_eq!(
            Endpoint::parse("ws://h?x=1").unwrap().path_and_query(),
            "/?x=1"
        );
    }

    #[test]
    fn other_schemes_and_empty_hosts_are_invalid_urls() {
        for bad in ["http://h/", "https://h/", "ftp://h/", "ws://:80/", "wss://"] {
            assert!(
                matches!(Endpoint::parse(bad), Err(WireError::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_shows_scheme_host_port_and_path_but_not_the_query() {
        let ep = Endpoint::parse("ws://h:9001/chat?token=secret").unwrap();
        assert_eq!(format!("{ep:?}"), "ws://h:9001/chat?…");
        let ep = Endpoint::parse("wss://h/chat").unwrap();
        assert_eq!(format!("{ep:?}"), "wss://h/chat");
        let ep = Endpoint::parse("wss://[::1]:8443").unwrap();
        assert_eq!(format!("{ep:?}"), "wss://[::1]:8443/");
    }
}
