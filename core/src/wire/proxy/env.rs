//! Choosing a proxy from environment variables, as curl does — from
//! variables the caller passes in: the core never reads the process's
//! environment (the drivers do, in one place, when they connect).

use core::net::IpAddr;

use super::Proxy;
use crate::wire::{Endpoint, WireError};

/// The proxy the environment asks for to reach `endpoint`, or `None` for a
/// direct connection. `vars` are `(name, value)` pairs, e.g. from
/// `std::env::vars()`.
///
/// The rules (curl's; lowercase names win over uppercase, an empty value
/// counts as unset):
/// - `wss://` uses `https_proxy` / `HTTPS_PROXY`; `ws://` uses `http_proxy` /
///   `HTTP_PROXY` (curl reads only the lowercase `http_proxy`; both are read here).
/// - Otherwise `all_proxy` / `ALL_PROXY`.
/// - `no_proxy` / `NO_PROXY` lists hosts reached directly; see [`no_proxy_matches`].
///
/// A variable that is set but not a valid proxy URL is an error naming the
/// variable (never its value, which may hold a password).
///
/// ```
/// use wsnova_core::wire::{Endpoint, proxy_for};
/// let env = [
///     ("HTTPS_PROXY", "http://proxy.corp:3128"),
///     ("ALL_PROXY", "socks5h://socks.corp"),
///     ("NO_PROXY", "internal.corp,10.0.0.0/8"),
/// ];
/// let via = |url| proxy_for(&Endpoint::parse(url).unwrap(), env).unwrap();
/// assert_eq!(via("wss://exchange.com/ws").unwrap().host(), "proxy.corp");
/// assert_eq!(via("ws://exchange.com/ws").unwrap().host(), "socks.corp");
/// assert!(via("wss://api.internal.corp/ws").is_none());
/// assert!(via("ws://10.1.2.3:9000/").is_none());
/// ```
pub fn proxy_for<I, K, V>(endpoint: &Endpoint, vars: I) -> Result<Option<Proxy>, WireError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let scheme_var = if endpoint.is_secure() {
        "https_proxy"
    } else {
        "http_proxy"
    };
    // Per name: [lowercase, uppercase].
    let mut found: [[Option<String>; 2]; 3] = Default::default();
    for (name, value) in vars {
        let (name, value) = (name.as_ref(), value.as_ref());
        if value.trim().is_empty() {
            continue;
        }
        let slot = [scheme_var, "all_proxy", "no_proxy"]
            .iter()
            .position(|wanted| wanted.eq_ignore_ascii_case(name));
        if let Some(slot) = slot {
            let case = usize::from(name != name.to_ascii_lowercase());
            found[slot][case] = Some(value.to_owned());
        }
    }
    let [scheme, all, no] = found.map(|[lower, upper]| lower.or(upper));
    if no.is_some_and(|list| no_proxy_matches(&list, endpoint.host())) {
        return Ok(None);
    }
    let (name, url) = match (scheme, all) {
        (Some(url), _) => (scheme_var, url),
        (None, Some(url)) => ("all_proxy", url),
        (None, None) => return Ok(None),
    };
    Proxy::parse(&url).map(Some).map_err(|err| match err {
        WireError::InvalidProxy(_) => WireError::InvalidProxyVariable(name),
        other => other,
    })
}

/// Whether `host` is reached directly under a `NO_PROXY` list (curl's rules):
/// entries are separated by commas or spaces; `*` alone matches every host;
/// a name matches itself and its subdomains (`example.com` and
/// `.example.com` both match `example.com` and `api.example.com`, not
/// `badexample.com`); an IP address matches itself; `addr/bits` matches an
/// IPv4 or IPv6 network (CIDR). Case does not matter.
///
/// ```
/// use wsnova_core::wire::no_proxy_matches;
/// assert!(no_proxy_matches("localhost, .corp.net", "api.corp.net"));
/// assert!(no_proxy_matches("192.168.0.0/16", "192.168.7.1"));
/// assert!(no_proxy_matches("::1", "::1"));
/// assert!(no_proxy_matches("*", "anything.example"));
/// assert!(!no_proxy_matches("corp.net", "notcorp.net"));
/// ```
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.trim_matches(['[', ']']).trim_end_matches('.');
    let host_ip = host.parse::<IpAddr>().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_matches(['[', ']']);
            if let Some((net, bits)) = entry.split_once('/') {
                return match (host_ip, net.trim_matches(['[', ']']).parse(), bits.parse()) {
                    (Some(ip), Ok(net), Ok(bits)) => in_network(ip, net, bits),
                    _ => false,
                };
            }
            if let Ok(ip) = entry.parse::<IpAddr>() {
                return host_ip == Some(ip);
            }
            let name = entry.trim_start_matches('.').trim_end_matches('.');
            if name.is_empty() {
                return false;
            }
            host.eq_ignore_ascii_case(name)
                || (host.len() > name.len()
                    && host.as_bytes()[host.len() - name.len() - 1] == b'.'
                    && host[host.len() - name.len()..].eq_ignore_ascii_case(name))
        })
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => (u32::from(ip).into(), u32::from(net).into(), 32),
        (IpAddr::V6(ip), IpAddr::V6(net)) => (u128::from(ip), u128::from(net), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    let keep = |x: u128| x.checked_shr(shift).unwrap_or(0);
    keep(ip) == keep(net)
}
