//! SOCKS5 (RFC 1928) with no authentication or username/password (RFC
//! 1929): greeting, method choice, optional sub-negotiation, then `CONNECT`
//! with the host name (address type 3) so that the proxy resolves it.

use super::{Proxy, ProxyError, SocksReply};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASSWORD: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xFF;

/// Where the SOCKS5 exchange is.
#[derive(Debug)]
enum Phase {
    /// Sent the methods we offer; waiting for the proxy's choice (§3).
    Method,
    /// Sent user and password; waiting for the status (RFC 1929 §2).
    Auth,
    /// Sent `CONNECT`; waiting for the reply (§6).
    Reply,
}

/// A SOCKS5 exchange in progress.
pub(crate) struct Socks {
    phase: Phase,
    received: Vec<u8>,
    /// The `CONNECT` request, sent once a method is agreed.
    request: Vec<u8>,
    /// The RFC 1929 request, when credentials were given.
    auth: Option<Vec<u8>>,
}

/// Never shows the queued credentials.
impl std::fmt::Debug for Socks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socks").field("phase", &self.phase).finish()
    }
}

impl Socks {
    /// Writes the greeting to `out`.
    pub(crate) fn start(proxy: &Proxy, host: &str, port: u16, out: &mut Vec<u8>) -> Socks {
        let auth = proxy.credentials().map(|(user, password)| {
            // RFC 1929 §2: VER=1, ULEN, UNAME, PLEN, PASSWD (at most 255 bytes each).
            let user = &user.as_bytes()[..user.len().min(255)];
            let password = &password.as_bytes()[..password.len().min(255)];
            let mut req = vec![1, user.len() as u8];
            req.extend_from_slice(user);
            req.push(password.len() as u8);
            req.extend_from_slice(password);
            req
        });
        match auth {
            Some(_) => out.extend_from_slice(&[VERSION, 2, NO_AUTH, USER_PASSWORD]),
            None => out.extend_from_slice(&[VERSION, 1, NO_AUTH]),
        }
        Socks {
            phase: Phase::Method,
            received: Vec::new(),
            request: connect_request(host, port),
            auth,
        }
    }

    /// Takes the proxy's bytes; the next request goes to `out`.
    pub(crate) fn receive(
        &mut self,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<Vec<u8>>, ProxyError> {
        self.received.extend_from_slice(data);
        loop {
            match self.phase {
                Phase::Method => {
                    let Some([version, method]) = self.take::<2>() else {
                        return Ok(None);
                    };
                    if version != VERSION {
                        return Err(ProxyError::InvalidResponse("not a SOCKS5 proxy"));
                    }
                    match (method, self.auth.take()) {
                        (NO_AUTH, _) => self.send_connect(out),
                        (USER_PASSWORD, Some(auth)) => {
                            out.extend_from_slice(&auth);
                            self.phase = Phase::Auth;
                        }
                        (NO_ACCEPTABLE, None) => return Err(ProxyError::AuthenticationRequired),
                        (NO_ACCEPTABLE, Some(_)) => return Err(ProxyError::AuthenticationFailed),
                        _ => {
                            return Err(ProxyError::InvalidResponse(
                                "the SOCKS5 proxy chose a method that was not offered",
                            ));
                        }
                    }
                }
                Phase::Auth => {
                    let Some([_version, status]) = self.take::<2>() else {
                        return Ok(None);
                    };
                    if status != 0 {
                        return Err(ProxyError::AuthenticationFailed);
                    }
                    self.send_connect(out);
                }
                Phase::Reply => return self.reply(),
            }
        }
    }

    fn send_connect(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.request);
        self.phase = Phase::Reply;
    }

    /// §6: VER REP RSV ATYP BND.ADDR BND.PORT.
    fn reply(&mut self) -> Result<Option<Vec<u8>>, ProxyError> {
        let r = &self.received;
        if r.len() < 2 {
            return Ok(None);
        }
        if r[0] != VERSION {
            return Err(ProxyError::InvalidResponse("not a SOCKS5 reply"));
        }
        if r[1] != 0 {
            return Err(ProxyError::Socks(SocksReply::from_code(r[1])));
        }
        if r.len() < 5 {
            return Ok(None);
        }
        let addr_len = match r[3] {
            1 => 4,
            4 => 16,
            3 => 1 + r[4] as usize,
            _ => return Err(ProxyError::InvalidResponse("unknown SOCKS5 address type")),
        };
        let len = 4 + addr_len + 2;
        if r.len() < len {
            return Ok(None);
        }
        Ok(Some(self.received.split_off(len)))
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes: [u8; N] = self.received.get(..N)?.try_into().ok()?;
        self.received.drain(..N);
        Some(bytes)
    }
}

/// §4: VER CMD=1 (CONNECT) RSV ATYP DST.ADDR DST.PORT; IP literals as
/// such, names as type 3 for the proxy to resolve.
fn connect_request(host: &str, port: u16) -> Vec<u8> {
    let mut req = vec![VERSION, 1, 0];
    match host.parse::<core::net::IpAddr>() {
        Ok(core::net::IpAddr::V4(ip)) => {
            req.push(1);
            req.extend_from_slice(&ip.octets());
        }
        Ok(core::net::IpAddr::V6(ip)) => {
            req.push(4);
            req.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let name = &host.as_bytes()[..host.len().min(255)];
            req.extend_from_slice(&[3, name.len() as u8]);
            req.extend_from_slice(name);
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SOCKS5 exchange to `h:443` past the method choice (no auth).
    fn at_reply() -> Socks {
        let mut socks = Socks::start(
            &Proxy::parse("socks5://p").unwrap(),
            "h",
            443,
            &mut Vec::new(),
        );
        assert_eq!(socks.receive(&[5, NO_AUTH], &mut Vec::new()), Ok(None));
        socks
    }

    #[test]
    fn debug_shows_the_phase_not_the_credentials() {
        let proxy = Proxy::parse("socks5://alice:hunter2@p").unwrap();
        let socks = Socks::start(&proxy, "h", 443, &mut Vec::new());
        assert_eq!(format!("{socks:?}"), "Socks { phase: Method }");
    }

    #[test]
    fn no_acceptable_method_after_offering_credentials_is_a_failed_login() {
        // RFC 1928 §3: X'FF' means none of the offered methods is acceptable.
        let proxy = Proxy::parse("socks5://alice:pw@p").unwrap();
        let mut socks = Socks::start(&proxy, "h", 443, &mut Vec::new());
        assert_eq!(
            socks.receive(&[5, NO_ACCEPTABLE], &mut Vec::new()),
            Err(ProxyError::AuthenticationFailed)
        );
    }

    #[test]
    fn a_failure_reply_is_reported_from_its_first_two_bytes() {
        // RFC 1928 §6: REP is the second byte; X'05' is "connection refused".
        assert_eq!(
            at_reply().receive(&[5, 5], &mut Vec::new()),
            Err(ProxyError::Socks(SocksReply::ConnectionRefused))
        );
    }

    #[test]
    fn an_unknown_address_type_is_refused_from_the_fifth_byte() {
        assert!(matches!(
            at_reply().receive(&[5, 0, 0, 9, 0], &mut Vec::new()),
            Err(ProxyError::InvalidResponse(_))
        ));
    }

    #[test]
    fn an_ipv6_bound_address_is_16_bytes() {
        // RFC 1928 §6: ATYP X'04', a 16-byte BND.ADDR, then BND.PORT.
        let mut reply = vec![5, 0, 0, 4];
        reply.extend_from_slice(&[0; 16]);
        reply.extend_from_slice(&[0x1F, 0x90, 0xAB]);
        assert_eq!(
            at_reply().receive(&reply, &mut Vec::new()),
            Ok(Some(vec![0xAB]))
        );
    }
}
