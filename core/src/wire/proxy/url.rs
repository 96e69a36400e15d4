//! A proxy's address and credentials, parsed from a URL the way curl reads
//! `-x` and the proxy environment variables.

use std::fmt;

use crate::wire::WireError;

/// Which protocol the proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// An HTTP proxy, asked to open a tunnel with `CONNECT` (RFC 7231 §4.3.6).
    Http,
    /// A SOCKS5 proxy (RFC 1928); it resolves the server's host name.
    Socks5,
}

/// A proxy to reach the server through: parsed from `http://`, `socks5://`
/// or `socks5h://` URLs, with optional `user:password@` credentials.
///
/// A URL without a scheme is an HTTP proxy (as in curl). The port defaults
/// to 80 for `http://` and 1080 for SOCKS5. `socks5://` and `socks5h://`
/// mean the same here: the proxy always resolves the host name (RFC 1928
/// address type 3), since the core resolves nothing. Credentials may be
/// percent-encoded (`p%40ss` for `p@ss`). `https://` proxies (TLS to the
/// proxy itself) are not supported.
///
/// The password is a secret: `Debug` shows `<redacted>` in its place.
///
/// ```
/// use wsnova_core::wire::{Proxy, ProxyKind};
/// let proxy = Proxy::parse("socks5h://alice:s3cret@proxy.corp:1081")?;
/// assert_eq!((proxy.kind(), proxy.host(), proxy.port()), (ProxyKind::Socks5, "proxy.corp", 1081));
/// assert_eq!(proxy.username(), Some("alice"));
/// assert_eq!(format!("{proxy:?}"), "socks5://alice:<redacted>@proxy.corp:1081");
/// assert_eq!(Proxy::parse("proxy.corp")?.port(), 80);
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Proxy {
    /// Parses a proxy URL. The error never repeats the URL, which may hold a password.
    pub fn parse(url: &str) -> Result<Proxy, WireError> {
        let bad = WireError::InvalidProxy;
        let url = url.trim();
        let (kind, rest) = match url.split_once("://") {
            None => (ProxyKind::Http, url),
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "http" => (ProxyKind::Http, rest),
                "socks5" | "socks5h" => (ProxyKind::Socks5, rest),
                "https" => {
                    return Err(bad("https:// proxies (TLS to the proxy) are not supported"));
                }
                _ => return Err(bad("the scheme must be http, socks5 or socks5h")),
            },
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let user = percent_decode(user).ok_or(bad("bad percent-encoding in the user"))?;
                let password =
                    percent_decode(password).ok_or(bad("bad percent-encoding in the password"))?;
                (Some((user, password)), host_port)
            }
            None => (None, authority),
        };
        let (host, port) = split_host_port(host_port).ok_or(bad("bad host or port"))?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let default_port = match kind {
            ProxyKind::Http => 80,
            ProxyKind::Socks5 => 1080,
        };
        Ok(Proxy {
            kind,
            host: host.to_owned(),
            port: port.unwrap_or(default_port),
            credentials,
        })
    }

    /// Which protocol the proxy speaks.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host name or IP address (without brackets): what the driver dials.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name, if credentials were given.
    pub fn username(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(user, _)| user.as_str())
    }

    /// `true` when the URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// `true` when the URL carried a non-empty password.
    pub fn has_password(&self) -> bool {
        self.credentials
            .as_ref()
            .is_some_and(|(_, p)| !p.is_empty())
    }

    /// The user and password, for the proxy handshake only.
    pub(crate) fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }
}

/// `scheme://user:<redacted>@host:port`: never the password.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
        };
        write!(f, "{scheme}://")?;
        if let Some(user) = self.username() {
            write!(f, "{user}:<redacted>@")?;
        }
        write!(f, "{}", Authority(&self.host, self.port))
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            Some(_) => (s, None), // a bare IPv6 address
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().ok().filter(|&p: &u16| p != 0)?),
        None => None,
    };
    Some((host, port))
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// Writes `host:port` as an HTTP authority (IPv6 addresses in brackets).
pub(crate) struct Authority<'a>(pub(crate) &'a str, pub(crate) u16);

impl fmt::Display for Authority<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains(':') {
            write!(f, "[{}]:{}", self.0, self.1)
        } else {
            write!(f, "{}:{}", self.0, self.1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_proxy_is_refused_as_unsupported_not_as_unknown() {
        // The type's doc: `https://` proxies (TLS to the proxy) are not supported.
        for url in ["https://p:3128", "HTTPS://p"] {
            assert_eq!(
                Proxy::parse(url),
                Err(WireError::InvalidProxy(
                    "https:// proxies (TLS to the proxy) are not supported"
                )),
                "{url}"
            );
        }
        assert_eq!(
            Proxy::parse("ftp://p"),
            Err(WireError::InvalidProxy(
                "the scheme must be http, socks5 or socks5h"
            ))
        );
    }

    #[test]
    fn hosts_ports_and_credentials_read_like_curl() {
        let p = Proxy::parse("socks5://[2001:db8::1]").unwrap();
        assert_eq!((p.host(), p.port()), ("2001:db8::1", 1080));
        assert_eq!(format!("{p:?}"), "socks5://[2001:db8::1]:1080");
        let p = Proxy::parse("::1").unwrap();
        assert_eq!((p.host(), p.port()), ("::1", 80));
        assert!(!p.has_credentials());
        assert_eq!(p.username(), None);
        let p = Proxy::parse("http://bob@h").unwrap();
        assert!(p.has_credentials());
        assert_eq!(p.username(), Some("bob"));
        assert_eq!(p.credentials(), Some(("bob", "")));
        for bad in [
            "http://[::1]x",
            "http://[::1",
            "http://u:%4@h",
            "http://u:%ff@h",
        ] {
            assert!(
                matches!(Proxy::parse(bad), Err(WireError::InvalidProxy(_))),
                "{bad}"
            );
        }
    }
}
