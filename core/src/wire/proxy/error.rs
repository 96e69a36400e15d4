//! What can go wrong on the way through a proxy, and whether retrying helps.

use std::fmt;

/// Why the tunnel through a proxy did not open. Each variant says whether
/// a retry can help ([`is_permanent`](Self::is_permanent)); the default
/// disconnect policy stops on permanent errors instead of retrying forever.
///
/// None of them carries credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy itself could not be reached (the driver's dial failed).
    /// Retried with backoff: proxies restart.
    #[error("proxy {proxy} unreachable: {error}")]
    Unreachable {
        /// The proxy's `host:port`.
        proxy: String,
        /// The driver's error text.
        error: String,
    },
    /// The proxy wants credentials and none were given: HTTP `407 Proxy
    /// Authentication Required`, or a SOCKS5 proxy that accepts none of the
    /// offered methods (RFC 1928 §3, `X'FF'`). Permanent.
    #[error("the proxy requires credentials (none were given)")]
    AuthenticationRequired,
    /// The proxy rejected the credentials: HTTP `407` (or `401`, which
    /// tinyproxy sends) although they were sent, or a failed RFC 1929
    /// username/password exchange. Permanent.
    #[error("the proxy rejected the credentials")]
    AuthenticationFailed,
    /// The HTTP proxy answered `CONNECT` with a status other than 2xx.
    /// Permanent for 4xx (the proxy's rules forbid it) except 408 and 429;
    /// 5xx (`502 Bad Gateway`: the server is unreachable from the proxy,
    /// `503`, `504`) are retried.
    #[error("the proxy refused the tunnel: HTTP {status} {reason}")]
    Refused {
        /// The HTTP status code, e.g. 403 or 502.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The SOCKS5 proxy refused the connection (RFC 1928 §6). Permanent for
    /// [`SocksReply::NotAllowed`], [`SocksReply::CommandNotSupported`] and
    /// [`SocksReply::AddressTypeNotSupported`]; others are retried.
    #[error("the SOCKS5 proxy refused the connection: {0}")]
    Socks(SocksReply),
    /// The proxy's answer is not valid for its protocol: whatever listens at
    /// the proxy's address is not such a proxy. Permanent.
    #[error("invalid proxy response: {0}")]
    InvalidResponse(&'static str),
    /// The proxy closed the connection before the tunnel was open. Retried.
    #[error("the proxy closed the connection before the tunnel was open")]
    Closed,
}

impl ProxyError {
    /// `true` when retrying cannot help (bad or missing credentials, a
    /// refusal by the proxy's rules, something that is not a proxy).
    ///
    /// ```
    /// use wsnova_core::wire::{ProxyError, SocksReply};
    /// assert!(ProxyError::AuthenticationFailed.is_permanent());
    /// assert!(ProxyError::Refused { status: 403, reason: "Forbidden".into() }.is_permanent());
    /// assert!(!ProxyError::Refused { status: 502, reason: "Bad Gateway".into() }.is_permanent());
    /// assert!(!ProxyError::Socks(SocksReply::ConnectionRefused).is_permanent());
    /// ```
    pub fn is_permanent(&self) -> bool {
        match self {
            ProxyError::Unreachable { .. } | ProxyError::Closed => false,
            ProxyError::AuthenticationRequired
            | ProxyError::AuthenticationFailed
            | ProxyError::InvalidResponse(_) => true,
            ProxyError::Refused { status, .. } => {
                (400..500).contains(status) && !matches!(status, 408 | 429)
            }
            ProxyError::Socks(reply) => matches!(
                reply,
                SocksReply::NotAllowed
                    | SocksReply::CommandNotSupported
                    | SocksReply::AddressTypeNotSupported
            ),
        }
    }
}

/// A SOCKS5 reply code other than success (RFC 1928 §6), by name.
///
/// ```
/// use wsnova_core::wire::SocksReply;
/// assert_eq!(SocksReply::from_code(5), SocksReply::ConnectionRefused);
/// assert_eq!(SocksReply::from_code(5).to_string(), "connection refused (X'05')");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocksReply {
    /// `X'01'` general SOCKS server failure.
    GeneralFailure,
    /// `X'02'` connection not allowed by ruleset.
    NotAllowed,
    /// `X'03'` network unreachable.
    NetworkUnreachable,
    /// `X'04'` host unreachable (includes a host name the proxy cannot resolve).
    HostUnreachable,
    /// `X'05'` connection refused.
    ConnectionRefused,
    /// `X'06'` TTL expired.
    TtlExpired,
    /// `X'07'` command not supported.
    CommandNotSupported,
    /// `X'08'` address type not supported.
    AddressTypeNotSupported,
    /// A code RFC 1928 does not assign.
    Unassigned(u8),
}

impl SocksReply {
    /// The reply for a code from the proxy (not `X'00'`, success).
    pub fn from_code(code: u8) -> SocksReply {
        match code {
            1 => SocksReply::GeneralFailure,
            2 => SocksReply::NotAllowed,
            3 => SocksReply::NetworkUnreachable,
            4 => SocksReply::HostUnreachable,
            5 => SocksReply::ConnectionRefused,
            6 => SocksReply::TtlExpired,
            7 => SocksReply::CommandNotSupported,
            8 => SocksReply::AddressTypeNotSupported,
            other => SocksReply::Unassigned(other),
        }
    }

    /// The code on the wire.
    pub fn code(self) -> u8 {
        match self {
            SocksReply::GeneralFailure => 1,
            SocksReply::NotAllowed => 2,
            SocksReply::NetworkUnreachable => 3,
            SocksReply::HostUnreachable => 4,
            SocksReply::ConnectionRefused => 5,
            SocksReply::TtlExpired => 6,
            SocksReply::CommandNotSupported => 7,
            SocksReply::AddressTypeNotSupported => 8,
            SocksReply::Unassigned(code) => code,
        }
    }
}

impl fmt::Display for SocksReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SocksReply::GeneralFailure => "general SOCKS server failure",
            SocksReply::NotAllowed => "connection not allowed by ruleset",
            SocksReply::NetworkUnreachable => "network unreachable",
            SocksReply::HostUnreachable => "host unreachable",
            SocksReply::ConnectionRefused => "connection refused",
            SocksReply::TtlExpired => "TTL expired",
            SocksReply::CommandNotSupported => "command not supported",
            SocksReply::AddressTypeNotSupported => "address type not supported",
            SocksReply::Unassigned(_) => "unassigned reply code",
        };
        write!(f, "{name} (X'{:02X}')", self.code())
    }
}
