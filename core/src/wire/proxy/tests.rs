use std::sync::Arc;

use rand::SeedableRng;

use super::*;
use crate::wire::{Endpoint, Wire, WireConfig, WireError, WireEvent};

fn tunnel(url: &str, host: &str) -> (Tunnel, Vec<u8>) {
    let mut out = Vec::new();
    let tunnel = Tunnel::start(&Proxy::parse(url).unwrap(), host, 443, &mut out);
    (tunnel, out)
}

#[test]
fn proxy_urls_parse_like_curl() {
    let p = Proxy::parse("http://proxy.corp:3128").unwrap();
    assert_eq!(
        (p.kind(), p.host(), p.port()),
        (ProxyKind::Http, "proxy.corp", 3128)
    );
    assert_eq!(Proxy::parse("proxy.corp").unwrap().port(), 80);
    assert_eq!(Proxy::parse("socks5://s").unwrap().port(), 1080);
    assert_eq!(
        Proxy::parse("SOCKS5H://s:9").unwrap().kind(),
        ProxyKind::Socks5
    );
    let p = Proxy::parse("http://[::1]:8080/").unwrap();
    assert_eq!((p.host(), p.port()), ("::1", 8080));
    let p = Proxy::parse("http://al%40ce:p%3Ass@h:1").unwrap();
    assert_eq!(p.credentials(), Some(("al@ce", "p:ss")));
    assert!(p.has_password());
    assert!(!Proxy::parse("http://bob@h:1").unwrap().has_password());
    for bad in [
        "https://h:1",
        "ftp://h",
        "http://:80",
        "http://h:0",
        "http://h:x",
        "http://u:%zz@h",
    ] {
        assert!(
            matches!(Proxy::parse(bad), Err(WireError::InvalidProxy(_))),
            "{bad}"
        );
    }
}

#[test]
fn passwords_stay_out_of_debug_and_errors() {
    let p = Proxy::parse("http://alice:hunter2@h:1").unwrap();
    assert_eq!(format!("{p:?}"), "http://alice:<redacted>@h:1");
    let err = Proxy::parse("https://alice:hunter2@h:1").unwrap_err();
    assert!(!err.to_string().contains("hunter2"));
    let config = WireConfig::new("ws://x/").unwrap().proxy(p);
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn connect_asks_for_the_real_host_with_basic_credentials() {
    let (_, out) = tunnel("http://aladdin:open%20sesame@p:3128", "example.com");
    // RFC 7617 §2's own example credentials.
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
         Proxy-Authorization: Basic YWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
    );
    let (_, out) = tunnel("http://p", "::1");
    assert!(out.starts_with(b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"));
}

#[test]
fn connect_2xx_opens_the_tunnel_and_keeps_what_follows() {
    let (mut t, _) = tunnel("http://p", "h");
    let mut out = Vec::new();
    assert_eq!(
        t.receive(b"HTTP/1.1 200 Connection est", &mut out),
        Ok(None)
    );
    let rest = t.receive(b"ablished\r\nX: y\r\n\r\n\x16\x03", &mut out);
    assert_eq!(rest, Ok(Some(b"\x16\x03".to_vec())));
}

#[test]
fn connect_refusals_are_typed() {
    let answer = |url: &str, head: &[u8]| tunnel(url, "h").0.receive(head, &mut Vec::new());
    let head_407 = b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
    assert_eq!(
        answer("http://p", head_407),
        Err(ProxyError::AuthenticationRequired)
    );
    assert_eq!(
        answer("http://u:bad@p", head_407),
        Err(ProxyError::AuthenticationFailed)
    );
    let refused = answer("http://p", b"HTTP/1.0 403 Filtered\r\n\r\n").unwrap_err();
    assert_eq!(
        refused,
        ProxyError::Refused {
            status: 403,
            reason: "Filtered".into()
        }
    );
    assert!(refused.is_permanent());
    let bad_gateway = answer("http://p", b"HTTP/1.1 502 Bad Gateway\r\n\r\n").unwrap_err();
    assert!(bad_gateway.to_string().contains("HTTP 502 Bad Gateway"));
    assert!(!bad_gateway.is_permanent());
    assert!(matches!(
        answer("http://p", b"SSH-2.0-OpenSSH\r\n"),
        Err(ProxyError::InvalidResponse(_))
    ));
}

#[test]
fn socks5_without_auth_sends_the_host_name_for_the_proxy_to_resolve() {
    let (mut t, out) = tunnel("socks5h://p", "ex.io");
    assert_eq!(out, [5, 1, 0]);
    let mut out = Vec::new();
    assert_eq!(t.receive(&[5, 0], &mut out), Ok(None));
    assert_eq!(out, [5, 1, 0, 3, 5, b'e', b'x', b'.', b'i', b'o', 1, 187]);
    // Success, bound to 127.0.0.1:5000, then the server's first byte.
    let reply = [5, 0, 0, 1, 127, 0, 0, 1, 0x13, 0x88, 0x16];
    // One byte at a time: the tunnel opens with the reply's last byte.
    let opened_at = reply
        .iter()
        .position(|&byte| t.receive(&[byte], &mut out).unwrap().is_some());
    assert_eq!(opened_at, Some(9));
}

#[test]
fn socks5_username_password_follows_rfc_1929() {
    let (mut t, out) = tunnel("socks5://bob:pw@p", "10.0.0.1");
    assert_eq!(out, [5, 2, 0, 2]);
    let mut out = Vec::new();
    t.receive(&[5, 2], &mut out).unwrap();
    assert_eq!(out, [1, 3, b'b', b'o', b'b', 2, b'p', b'w']);
    out.clear();
    t.receive(&[1, 0], &mut out).unwrap();
    assert_eq!(
        out,
        [5, 1, 0, 1, 10, 0, 0, 1, 1, 187],
        "an IPv4 literal as type 1"
    );
    let reply = [5, 0, 0, 3, 1, b'x', 0, 80, 9, 9];
    assert_eq!(t.receive(&reply, &mut out), Ok(Some(vec![9, 9])));
}

#[test]
fn socks5_failures_are_typed_and_named() {
    let (mut t, _) = tunnel("socks5://p", "h");
    assert_eq!(
        t.receive(&[5, 0xFF], &mut Vec::new()),
        Err(ProxyError::AuthenticationRequired)
    );
    let (mut t, _) = tunnel("socks5://u:p@p", "h");
    t.receive(&[5, 2], &mut Vec::new()).unwrap();
    assert_eq!(
        t.receive(&[1, 1], &mut Vec::new()),
        Err(ProxyError::AuthenticationFailed)
    );
    let (mut t, _) = tunnel("socks5://p", "h");
    t.receive(&[5, 0], &mut Vec::new()).unwrap();
    let err = t.receive(&[5, 5, 0, 1], &mut Vec::new()).unwrap_err();
    assert_eq!(err, ProxyError::Socks(SocksReply::ConnectionRefused));
    assert_eq!(
        err.to_string(),
        "the SOCKS5 proxy refused the connection: connection refused (X'05')"
    );
    assert!(ProxyError::Socks(SocksReply::from_code(2)).is_permanent());
    assert_eq!(
        SocksReply::from_code(0x42).to_string(),
        "unassigned reply code (X'42')"
    );
    let (mut t, _) = tunnel("socks5://p", "h");
    assert!(matches!(
        t.receive(b"HT", &mut Vec::new()),
        Err(ProxyError::InvalidResponse(_))
    ));
}

/// Every SOCKS5 reply code of RFC 1928 §6, as a proxy sends it: typed,
/// named, numbered back, and permanent only when retrying cannot help.
#[test]
fn every_socks5_reply_code_is_typed_named_and_classified() {
    let table = [
        (
            1,
            SocksReply::GeneralFailure,
            "general SOCKS server failure",
            false,
        ),
        (
            2,
            SocksReply::NotAllowed,
            "connection not allowed by ruleset",
            true,
        ),
        (
            3,
            SocksReply::NetworkUnreachable,
            "network unreachable",
            false,
        ),
        (4, SocksReply::HostUnreachable, "host unreachable", false),
        (
            5,
            SocksReply::ConnectionRefused,
            "connection refused",
            false,
        ),
        (6, SocksReply::TtlExpired, "TTL expired", false),
        (
            7,
            SocksReply::CommandNotSupported,
            "command not supported",
            true,
        ),
        (
            8,
            SocksReply::AddressTypeNotSupported,
            "address type not supported",
            true,
        ),
        (9, SocksReply::Unassigned(9), "unassigned reply code", false),
        (
            0xFF,
            SocksReply::Unassigned(0xFF),
            "unassigned reply code",
            false,
        ),
    ];
    for (code, reply, name, permanent) in table {
        let (mut t, _) = tunnel("socks5://p", "h");
        t.receive(&[5, 0], &mut Vec::new()).unwrap();
        let err = t.receive(&[5, code, 0, 1], &mut Vec::new()).unwrap_err();
        assert_eq!(err, ProxyError::Socks(reply), "code {code}");
        assert_eq!(reply.code(), code);
        assert_eq!(SocksReply::from_code(code), reply);
        assert_eq!(reply.to_string(), format!("{name} (X'{code:02X}')"));
        assert_eq!(err.is_permanent(), permanent, "code {code}");
    }
}

fn proxied_wire(url: &str, proxy: &str) -> Wire {
    let config = WireConfig::new(url)
        .unwrap()
        .proxy(Proxy::parse(proxy).unwrap());
    Wire::new(Arc::new(config), &mut rand::rngs::StdRng::seed_from_u64(7)).unwrap()
}

#[test]
fn the_upgrade_follows_the_tunnel() {
    let mut wire = proxied_wire("ws://example.com:9001/ws", "http://p:3128");
    let out = wire.pending_transmit().to_vec();
    assert!(out.starts_with(b"CONNECT example.com:9001 HTTP/1.1\r\n"));
    wire.advance_transmit(out.len());
    wire.handle_bytes(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(wire.poll_event(), Ok(None));
    assert!(wire.pending_transmit().starts_with(b"GET /ws HTTP/1.1\r\n"));
}

#[test]
fn tls_starts_inside_the_tunnel_for_the_real_host() {
    let mut wire = proxied_wire("wss://example.com/", "socks5h://p");
    assert_eq!(wire.pending_transmit(), [5, 1, 0]);
    wire.advance_transmit(3);
    wire.handle_bytes(&[5, 0]);
    let n = wire.pending_transmit().len();
    wire.advance_transmit(n);
    wire.handle_bytes(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    let hello = wire.pending_transmit();
    assert_eq!(hello[0], 0x16, "a TLS handshake record");
    let sni = b"example.com";
    assert!(
        hello.windows(sni.len()).any(|w| w == sni),
        "SNI names the real host"
    );
}

#[test]
fn proxy_errors_and_eof_fail_the_wire() {
    let mut wire = proxied_wire("ws://h/", "http://p");
    wire.handle_bytes(b"HTTP/1.1 407 Auth\r\n\r\n");
    assert_eq!(
        wire.poll_event(),
        Err(WireError::Proxy(ProxyError::AuthenticationRequired))
    );
    let mut wire = proxied_wire("ws://h/", "http://p");
    wire.handle_eof();
    assert_eq!(wire.poll_event(), Err(WireError::Proxy(ProxyError::Closed)));
    assert!(matches!(wire.poll_event(), Ok(None::<WireEvent>)));
}

fn env_proxy(url: &str, vars: &[(&str, &str)]) -> Option<String> {
    let endpoint = Endpoint::parse(url).unwrap();
    proxy_for(&endpoint, vars.iter().copied())
        .unwrap()
        .map(|p| format!("{p:?}"))
}

#[test]
fn env_picks_the_variable_for_the_scheme_then_all_proxy() {
    let vars = [
        ("HTTPS_PROXY", "http://tls-proxy:1"),
        ("http_proxy", "http://plain-proxy:2"),
        ("ALL_PROXY", "socks5h://any:3"),
    ];
    assert_eq!(env_proxy("wss://x/", &vars).unwrap(), "http://tls-proxy:1");
    assert_eq!(env_proxy("ws://x/", &vars).unwrap(), "http://plain-proxy:2");
    assert_eq!(env_proxy("ws://x/", &vars[2..]).unwrap(), "socks5://any:3");
    assert_eq!(
        env_proxy("ws://x/", &[("HTTP_PROXY", "u:2")]).unwrap(),
        "http://u:2"
    );
    assert_eq!(
        env_proxy("wss://x/", &[("http_proxy", "h:2")]),
        None,
        "ws only"
    );
    assert_eq!(env_proxy("wss://x/", &[]), None);
}

#[test]
fn env_lowercase_wins_and_empty_is_unset() {
    let vars = [("HTTPS_PROXY", "upper:1"), ("https_proxy", "lower:2")];
    assert_eq!(env_proxy("wss://x/", &vars).unwrap(), "http://lower:2");
    let vars = [("https_proxy", ""), ("all_proxy", "all:3")];
    assert_eq!(env_proxy("wss://x/", &vars).unwrap(), "http://all:3");
    let vars = [("https_proxy", "p:1"), ("no_proxy", ""), ("NO_PROXY", "x")];
    assert_eq!(
        env_proxy("wss://x/", &vars),
        None,
        "NO_PROXY when no_proxy is empty"
    );
}

#[test]
fn no_proxy_matches_suffixes_ips_cidrs_and_star() {
    let list = "localhost, .internal.corp example.com,10.0.0.0/8,[::1],fd00::/8";
    for direct in [
        "localhost",
        "api.internal.corp",
        "internal.corp",
        "EXAMPLE.com",
        "a.b.example.com",
        "10.200.3.4",
        "::1",
        "[fd12::5]",
    ] {
        assert!(no_proxy_matches(list, direct), "{direct}");
    }
    for proxied in [
        "badexample.com",
        "example.com.evil",
        "11.0.0.1",
        "::2",
        "fe80::1",
        "corp",
    ] {
        assert!(!no_proxy_matches(list, proxied), "{proxied}");
    }
    assert!(no_proxy_matches("*", "anything"));
    assert!(
        !no_proxy_matches("*.example.com", "a.example.com"),
        "no globs, as in curl"
    );
    assert!(no_proxy_matches("0.0.0.0/0", "8.8.8.8"));
    assert!(no_proxy_matches("127.0.0.1/32", "127.0.0.1"));
    assert!(!no_proxy_matches("127.0.0.1/33", "127.0.0.1"));
}

#[test]
fn an_invalid_env_proxy_names_the_variable_not_the_value() {
    let endpoint = Endpoint::parse("wss://x/").unwrap();
    let err = proxy_for(&endpoint, [("HTTPS_PROXY", "https://u:hunter2@p")]).unwrap_err();
    assert_eq!(err, WireError::InvalidProxyVariable("https_proxy"));
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn a_connect_answer_head_may_take_16_kib_and_no_more() {
    let (mut t, _) = tunnel("http://p", "h");
    let mut out = Vec::new();
    let start = b"HTTP/1.1 200 OK\r\nX: ";
    let mut head = start.to_vec();
    head.resize(16 * 1024, b'a'); // still no end of head: keep reading
    assert_eq!(t.receive(&head, &mut out), Ok(None));
    assert_eq!(
        t.receive(b"a", &mut out),
        Err(ProxyError::InvalidResponse("answer head too large"))
    );
}
