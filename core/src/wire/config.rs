//! What a connection needs to know before it dials: endpoint, headers, TLS trust, limits.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::ServerName;

use super::{DeflateConfig, Endpoint, Proxy, WireError};

/// Size limits for inbound data. Exceeding one fails the connection with close code 1009.
///
/// The defaults suit exchange feeds, whose largest messages are order book
/// snapshots of a few MiB.
///
/// ```
/// use wsnova_core::wire::Limits;
/// let limits = Limits { max_message_size: 64 << 20, ..Limits::default() };
/// assert_eq!(limits.max_frame_size, 16 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single frame accepted (payload bytes). Default 16 MiB.
    pub max_frame_size: usize,
    /// Largest message accepted, summed over its fragments. Default 16 MiB.
    pub max_message_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: 16 << 20,
            max_message_size: 16 << 20,
        }
    }
}

/// Everything the wire needs to open one WebSocket: build it once, share it
/// between connections through an `Arc`.
///
/// ```
/// use wsnova_core::wire::WireConfig;
/// let config = WireConfig::new("wss://example.com/feed?token=s3cret")?
///     .header("Authorization", "Bearer s3cret")?
///     .subprotocol("json");
/// // Secrets stay out of Debug output.
/// let shown = format!("{config:?}");
/// assert!(!shown.contains("s3cret"));
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
#[derive(Clone)]
pub struct WireConfig {
    pub(crate) endpoint: Endpoint,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) limits: Limits,
    pub(crate) deflate: DeflateConfig,
    /// The proxy to reach the server through, if any.
    pub(crate) proxy: Option<Proxy>,
    /// A TLS setter called on a `ws://` URL, where it has no effect:
    /// reported by `SessionConfig::validate`.
    ignored_tls: Option<&'static str>,
}

impl WireConfig {
    /// A configuration for `url`; `wss://` URLs trust the webpki (Mozilla) roots.
    pub fn new(url: &str) -> Result<Self, WireError> {
        let endpoint = Endpoint::parse(url)?;
        // Reject a host that cannot be a TLS server name now, not at dial time.
        if endpoint.secure {
            ServerName::try_from(endpoint.host.as_str())
                .map_err(|_| WireError::InvalidUrl("the host is not a valid TLS server name"))?;
        }
        let tls = endpoint.secure.then(default_tls_config);
        Ok(WireConfig {
            endpoint,
            headers: Vec::new(),
            subprotocols: Vec::new(),
            tls,
            limits: Limits::default(),
            deflate: DeflateConfig::default(),
            proxy: None,
            ignored_tls: None,
        })
    }

    /// The same configuration (headers, subprotocols, limits, proxy, TLS
    /// trust) for another URL: a failover endpoint. A custom TLS
    /// configuration carries over when both URLs are `wss://`; a `wss://`
    /// URL after a `ws://` one trusts the webpki roots.
    ///
    /// ```
    /// use wsnova_core::wire::WireConfig;
    /// let primary = WireConfig::new("wss://a.example.com/ws")?.subprotocol("v2");
    /// let backup = primary.with_url("wss://b.example.com/ws")?;
    /// assert_eq!(backup.endpoint().host(), "b.example.com");
    /// assert_eq!(backup.subprotocols(), ["v2"]);
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn with_url(&self, url: &str) -> Result<WireConfig, WireError> {
        let fresh = WireConfig::new(url)?;
        let tls = match (&self.tls, fresh.endpoint.secure) {
            (Some(tls), true) => Some(tls.clone()),
            (_, _) => fresh.tls,
        };
        Ok(WireConfig {
            endpoint: fresh.endpoint,
            tls,
            ..self.clone()
        })
    }

    /// Reaches the server through `proxy` (HTTP CONNECT or SOCKS5), or
    /// directly with `None`. The driver dials the proxy; the tunnel opens
    /// before TLS, whose certificate is still checked against the URL's host.
    ///
    /// ```
    /// use wsnova_core::wire::{Proxy, WireConfig};
    /// let config = WireConfig::new("wss://example.com/ws")?
    ///     .proxy(Proxy::parse("http://user:pw@proxy.corp:3128")?);
    /// assert_eq!(config.dial_target(), ("proxy.corp", 3128));
    /// assert!(!format!("{config:?}").contains("pw"));
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn proxy(mut self, proxy: impl Into<Option<Proxy>>) -> Self {
        self.proxy = proxy.into();
        self
    }

    /// The proxy in use, if any.
    pub fn proxy_config(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// What the driver dials: the proxy's host and port, or the endpoint's.
    pub fn dial_target(&self) -> (&str, u16) {
        match &self.proxy {
            Some(proxy) => (proxy.host(), proxy.port()),
            None => (self.endpoint.host(), self.endpoint.port()),
        }
    }

    /// Adds a header to the upgrade request (e.g. an API key).
    ///
    /// Names must be HTTP tokens, values must not contain CR, LF or NUL, and
    /// the headers the handshake sets itself cannot be overridden.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, WireError> {
        const RESERVED: [&str; 7] = [
            "host",
            "upgrade",
            "connection",
            "sec-websocket-key",
            "sec-websocket-version",
            "sec-websocket-protocol",
            "sec-websocket-extensions",
        ];
        let refuse = |reason| WireError::InvalidHeader {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(refuse("the name is not an HTTP token"));
        }
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return Err(refuse("the handshake sets this header itself"));
        }
        if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(refuse("the value contains CR, LF or NUL"));
        }
        self.headers.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`); call once per
    /// protocol, in preference order. The server may select one of them or
    /// none; the one it selected is reported by `Wire::subprotocol` and
    /// `Session::subprotocol`, and a server that selects one not offered
    /// fails the upgrade with an error naming it (RFC 6455 §4.1).
    ///
    /// Each must be an HTTP token (no spaces, commas or control
    /// characters) offered once: `SessionConfig::validate` checks that.
    ///
    /// ```
    /// use wsnova_core::wire::WireConfig;
    /// let config = WireConfig::new("ws://127.0.0.1:9001/")?
    ///     .subprotocol("v2.json")
    ///     .subprotocol("v1.json");
    /// assert_eq!(config.subprotocols(), ["v2.json", "v1.json"]);
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn subprotocol(mut self, protocol: &str) -> Self {
        self.subprotocols.push(protocol.to_owned());
        self
    }

    /// The subprotocols offered, in preference order.
    pub fn subprotocols(&self) -> &[String] {
        &self.subprotocols
    }

    /// Trusts exactly these roots for `wss://` (e.g. a test CA) instead of the webpki roots.
    ///
    /// A `ws://` URL never uses TLS: there this has no effect, and
    /// `SessionConfig::validate` reports it as a mistake.
    pub fn root_certificates(mut self, roots: rustls::RootCertStore) -> Self {
        if self.endpoint.secure {
            self.tls = Some(tls_config_with_roots(roots));
        } else {
            self.ignored_tls = Some("root_certificates");
        }
        self
    }

    /// Uses a complete rustls configuration for `wss://` (client certificates, ALPN, ...).
    ///
    /// A `ws://` URL never uses TLS: there this has no effect, and
    /// `SessionConfig::validate` reports it as a mistake.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        if self.endpoint.secure {
            self.tls = Some(config);
        } else {
            self.ignored_tls = Some("tls_config");
        }
        self
    }

    /// Sets the inbound size limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the permessage-deflate offer (RFC 7692); offered by default,
    /// [`DeflateConfig::disabled`] turns it off. Out-of-range window bits or
    /// level are refused here.
    ///
    /// ```
    /// use wsnova_core::wire::{DeflateConfig, WireConfig};
    /// let config = WireConfig::new("ws://127.0.0.1:9001/")?.deflate(DeflateConfig::disabled())?;
    /// assert!(!config.deflate_config().enabled);
    /// let eight = DeflateConfig { client_max_window_bits: 8, ..DeflateConfig::default() };
    /// assert!(config.deflate(eight).is_err());
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn deflate(mut self, deflate: DeflateConfig) -> Result<Self, WireError> {
        deflate.validate()?;
        self.deflate = deflate;
        Ok(self)
    }

    /// The permessage-deflate offer.
    pub fn deflate_config(&self) -> &DeflateConfig {
        &self.deflate
    }

    /// The endpoint this configuration dials.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The inbound size limits.
    pub(crate) fn size_limits(&self) -> Limits {
        self.limits
    }

    /// The TLS setter that was called on a `ws://` URL, if any.
    pub(crate) fn ignored_tls_option(&self) -> Option<&'static str> {
        self.ignored_tls
    }

    /// The first subprotocol that cannot be offered, and why (RFC 6455 §4.1:
    /// each is a non-empty token, and none is offered twice).
    pub(crate) fn subprotocol_problem(&self) -> Option<(String, &'static str)> {
        self.subprotocols.iter().enumerate().find_map(|(i, p)| {
            let reason = if p.is_empty() {
                "is empty"
            } else if !p.bytes().all(is_token_byte) {
                "is not an HTTP token (no spaces, commas, quotes or control characters)"
            } else if self.subprotocols[..i].contains(p) {
                "is offered twice"
            } else {
                return None;
            };
            Some((p.clone(), reason))
        })
    }
}

/// Header values are redacted: they often carry API keys.
impl fmt::Debug for WireConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, _)| format!("{name}: <redacted>"))
            .collect();
        f.debug_struct("WireConfig")
            .field("endpoint", &self.endpoint)
            .field("headers", &headers)
            .field("subprotocols", &self.subprotocols)
            .field("custom_tls", &self.tls.is_some())
            .field("limits", &self.limits)
            .field("deflate", &self.deflate)
            .field("proxy", &self.proxy)
            .finish()
    }
}

/// RFC 7230 §3.2.6 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn tls_config_with_roots(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    // The ring provider is passed explicitly: no process-wide default is needed,
    // and aws-lc (which needs cmake to build) stays out of the tree.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// The webpki roots, parsed once per process.
fn default_tls_config() -> Arc<rustls::ClientConfig> {
    static DEFAULT: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            tls_config_with_roots(roots)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_give_back_what_was_set() {
        let limits = Limits {
            max_frame_size: 1000,
            max_message_size: 2000,
        };
        let config = WireConfig::new("wss://a.example.com:8443/ws")
            .unwrap()
            .subprotocol("v2")
            .limits(limits)
            .deflate(DeflateConfig::disabled())
            .unwrap();
        assert_eq!(config.dial_target(), ("a.example.com", 8443));
        assert_eq!(config.proxy_config(), None);
        assert_eq!(config.subprotocols(), ["v2"]);
        assert!(!config.deflate_config().enabled);
        assert_eq!(config.size_limits(), limits);
        let proxy = Proxy::parse("http://user:pw@proxy.corp:3128").unwrap();
        let via = config.clone().proxy(proxy.clone());
        assert_eq!(via.dial_target(), ("proxy.corp", 3128));
        assert_eq!(via.proxy_config(), Some(&proxy));
        let shown = format!("{via:?}");
        assert!(shown.starts_with("WireConfig { endpoint: "), "{shown}");
        assert!(
            shown.contains(r#"subprotocols: ["v2"], custom_tls: true"#),
            "{shown}"
        );
        assert!(!shown.contains("pw"), "{shown}");
    }

    #[test]
    fn another_url_keeps_the_settings_and_custom_tls_only_for_wss() {
        let primary = WireConfig::new("wss://a.example.com/")
            .unwrap()
            .subprotocol("v2")
            .root_certificates(rustls::RootCertStore::empty());
        let backup = primary.with_url("wss://b.example.com:9443/").unwrap();
        assert_eq!(backup.dial_target(), ("b.example.com", 9443));
        assert_eq!(backup.subprotocols(), ["v2"]);
        assert!(format!("{backup:?}").contains("custom_tls: true"));
        let plain = primary.with_url("ws://c.example.com/").unwrap();
        assert_eq!(plain.dial_target(), ("c.example.com", 80));
        assert!(format!("{plain:?}").contains("custom_tls: false"));
    }

    #[test]
    fn parses_ports_paths_and_ipv6_hosts() {
        let ep = Endpoint::parse("ws://[::1]:9001/runCase?case=3&agent=x").unwrap();
        assert_eq!(ep.host(), "::1");
        assert_eq!(ep.port(), 9001);
        assert_eq!(ep.host_header(), "[::1]:9001");
        assert_eq!(ep.path_and_query(), "/runCase?case=3&agent=x");
        let ep = Endpoint::parse("ws://example.com").unwrap();
        assert_eq!((ep.port(), ep.path_and_query()), (80, "/"));
        assert_eq!(ep.host_header(), "example.com");
    }

    #[test]
    fn rejects_other_schemes_and_missing_hosts() {
        assert!(matches!(
            Endpoint::parse("http://example.com/"),
            Err(WireError::InvalidUrl(_))
        ));
        assert!(Endpoint::parse("not a url").is_err());
        assert!(Endpoint::parse("ws:///path").is_err());
    }

    #[test]
    fn debug_hides_the_query() {
        let ep = Endpoint::parse("wss://x.io/ws?listenKey=abc").unwrap();
        assert_eq!(format!("{ep:?}"), "wss://x.io/ws?…");
    }

    #[test]
    fn refuses_unsafe_or_reserved_headers() {
        let config = WireConfig::new("ws://localhost/").unwrap();
        assert!(config.clone().header("X-Key", "a\r\nEvil: 1").is_err());
        assert!(config.clone().header("Bad Name", "v").is_err());
        assert!(config.clone().header("Sec-WebSocket-Key", "v").is_err());
        assert!(config.header("X-Key", "fine").is_ok());
    }

    #[test]
    fn tls_setters_on_plain_urls_are_remembered_as_mistakes() {
        let plain = WireConfig::new("ws://localhost/").unwrap();
        assert_eq!(plain.ignored_tls_option(), None);
        let roots = rustls::RootCertStore::empty();
        let with_roots = plain.clone().root_certificates(roots.clone());
        assert_eq!(with_roots.ignored_tls_option(), Some("root_certificates"));
        assert!(with_roots.tls.is_none(), "still no TLS on ws://");
        let secure = WireConfig::new("wss://localhost/")
            .unwrap()
            .root_certificates(roots);
        assert_eq!(secure.ignored_tls_option(), None);
    }

    #[test]
    fn subprotocols_must_be_distinct_tokens() {
        let config = WireConfig::new("ws://localhost/").unwrap();
        assert_eq!(
            config
                .clone()
                .subprotocol("a")
                .subprotocol("b")
                .subprotocol_problem(),
            None
        );
        let problem = |p: &str| {
            config
                .clone()
                .subprotocol("a")
                .subprotocol(p)
                .subprotocol_problem()
        };
        assert_eq!(problem(""), Some(("".into(), "is empty")));
        assert!(problem("a\r\nX-Evil: 1").is_some());
        assert!(problem("a, b").is_some());
        assert_eq!(problem("a"), Some(("a".into(), "is offered twice")));
    }

    #[test]
    fn plain_urls_carry_no_tls_config() {
        assert!(WireConfig::new("ws://localhost/").unwrap().tls.is_none());
        assert!(WireConfig::new("wss://localhost/").unwrap().tls.is_some());
    }
}
