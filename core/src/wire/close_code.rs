//! Close status codes (RFC 6455 §7.4).

use std::fmt;

/// The status code of a close frame (RFC 6455 §7.4): a `u16` with the names
/// of §7.4.1 and the IANA registry as constants.
///
/// Any `u16` converts losslessly both ways, so codes a service defines
/// (3000–4999) need no special variant. Whether a code may be *sent* is
/// checked where a close frame is built ([`Wire::close`](super::Wire::close)).
///
/// ```
/// use wsnova_core::wire::CloseCode;
/// assert_eq!(CloseCode::from(1001), CloseCode::GOING_AWAY);
/// assert_eq!(u16::from(CloseCode::NORMAL), 1000);
/// assert_eq!(CloseCode::MESSAGE_TOO_BIG.to_string(), "1009 (message too big)");
/// assert_eq!(format!("{:?}", CloseCode::from(4000)), "CloseCode(4000)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page left).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the endpoint saw a protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: the endpoint cannot accept this type of data (e.g. binary).
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: reported when a close frame carried no code; never sent (§7.4.1).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: reported when the connection ended without a close frame; never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a message's data was not consistent with its type (e.g. bad UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (IANA registry).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway got a bad response upstream (IANA registry).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: the TLS handshake failed; reported, never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// The numeric code.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The registered name, if the code has one.
    ///
    /// ```
    /// use wsnova_core::wire::CloseCode;
    /// assert_eq!(CloseCode::GOING_AWAY.name(), Some("going away"));
    /// assert_eq!(CloseCode::from(4001).name(), None);
    /// ```
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "normal",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1005 => "no status",
            1006 => "abnormal",
            1007 => "invalid payload",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension",
            1011 => "internal error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "TLS handshake",
            _ => return None,
        })
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl PartialEq<u16> for CloseCode {
    fn eq(&self, other: &u16) -> bool {
        self.0 == *other
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "CloseCode({} {name})", self.0),
            None => write!(f, "CloseCode({})", self.0),
        }
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_with_a_plain_number() {
        assert!(CloseCode::NORMAL == 1000);
        assert!(
            CloseCode::NORMAL != 1001,
            "a code equals only its own number"
        );
        assert!(CloseCode::from(4000) != 1000);
    }

    #[test]
    fn constants_match_rfc_6455_numbers() {
        let all = [
            (CloseCode::NORMAL, 1000),
            (CloseCode::GOING_AWAY, 1001),
            (CloseCode::PROTOCOL_ERROR, 1002),
            (CloseCode::UNSUPPORTED_DATA, 1003),
            (CloseCode::NO_STATUS, 1005),
            (CloseCode::ABNORMAL, 1006),
            (CloseCode::INVALID_PAYLOAD, 1007),
            (CloseCode::POLICY_VIOLATION, 1008),
            (CloseCode::MESSAGE_TOO_BIG, 1009),
            (CloseCode::MANDATORY_EXTENSION, 1010),
            (CloseCode::INTERNAL_ERROR, 1011),
            (CloseCode::SERVICE_RESTART, 1012),
            (CloseCode::TRY_AGAIN_LATER, 1013),
            (CloseCode::BAD_GATEWAY, 1014),
            (CloseCode::TLS_HANDSHAKE, 1015),
        ];
        for (code, n) in all {
            assert_eq!(code.as_u16(), n);
            assert_eq!(CloseCode::from(n), code);
            assert!(code.name().is_some(), "{n}");
        }
        assert_eq!(CloseCode::from(1004).name(), None, "1004 is reserved");
    }

    #[test]
    fn debug_and_display_are_readable() {
        assert_eq!(format!("{:?}", CloseCode::NORMAL), "CloseCode(1000 normal)");
        assert_eq!(CloseCode::from(3001).to_string(), "3001");
        assert_eq!(CloseCode::GOING_AWAY, 1001);
    }
}
