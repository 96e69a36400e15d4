//! The proxy stage: a tunnel to the server through an HTTP CONNECT proxy
//! (RFC 7231 §4.3.6, with RFC 7617 Basic credentials) or a SOCKS5 proxy
//! (RFC 1928, with RFC 1929 username/password), spoken over the same bytes
//! before TLS and the upgrade, without I/O.
//!
//! The driver dials the proxy (`Output::Dial` names it), the [`Wire`](super::Wire)
//! opens the tunnel, then TLS (the certificate is checked against the real
//! host name) and the upgrade run through it as they would over a direct
//! connection. The proxy always resolves the server's host name (SOCKS5
//! address type 3, as curl's `socks5h://` does): the core resolves nothing.
//!
//! [`proxy_for`] picks a proxy from environment variables the way curl does;
//! the caller passes the variables in (the core never reads the process's
//! environment).

mod env;
mod error;
mod http;
mod socks;
mod url;

pub use env::{no_proxy_matches, proxy_for};
pub use error::{ProxyError, SocksReply};
pub use url::{Proxy, ProxyKind};

/// An open-in-progress tunnel: the proxy protocol's state.
#[derive(Debug)]
pub(crate) enum Tunnel {
    Http(http::Connect),
    Socks(socks::Socks),
}

impl Tunnel {
    /// Starts a tunnel through `proxy` to `host:port`: the first bytes to
    /// send go to `out`.
    pub(crate) fn start(proxy: &Proxy, host: &str, port: u16, out: &mut Vec<u8>) -> Tunnel {
        match proxy.kind() {
            ProxyKind::Http => Tunnel::Http(http::Connect::start(proxy, host, port, out)),
            ProxyKind::Socks5 => Tunnel::Socks(socks::Socks::start(proxy, host, port, out)),
        }
    }

    /// Takes the proxy's bytes; replies go to `out`. `Ok(Some(rest))` once
    /// the tunnel is open, with the bytes that followed the proxy's answer
    /// (the server's, to be read as such).
    pub(crate) fn receive(
        &mut self,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<Vec<u8>>, ProxyError> {
        match self {
            Tunnel::Http(connect) => connect.receive(data),
            Tunnel::Socks(socks) => socks.receive(data, out),
        }
    }
}

#[cfg(test)]
mod tests;
