//! The classifications callers branch on, pinned to literal tables: whether
//! a loss happened after the transport was up, which kind of error a wire
//! error is, and the status of a connection that is gone. (Their doc tests
//! show one case each; these check every variant.)

use std::borrow::Cow;

use wsnova_core::driver::Status;
use wsnova_core::session::{DisconnectReason, RpcError, SessionState};
use wsnova_core::wire::{CloseCode, CloseFrame, ErrorKind, ProxyError, WireError};

#[test]
fn transport_was_up_for_every_disconnect_reason() {
    let rpc = RpcError {
        code: 10028,
        message: "too_many_requests".into(),
        data: None,
    };
    let table = [
        (DisconnectReason::ConnectFailed("refused".into()), false),
        (DisconnectReason::ConnectTimeout, false),
        (DisconnectReason::TransportClosed("eof".into()), false),
        (DisconnectReason::Reset("reset by peer".into()), true),
        (
            DisconnectReason::Wire(WireError::InvalidUrl("no host")),
            false,
        ),
        (
            DisconnectReason::Wire(WireError::Tls(rustls::Error::DecryptError)),
            false,
        ),
        (
            DisconnectReason::Wire(WireError::Certificate(rustls::CertificateError::Expired)),
            false,
        ),
        (DisconnectReason::Wire(WireError::HandshakeEof), true),
        (DisconnectReason::Wire(WireError::AbnormalClosure), true),
        (
            DisconnectReason::Wire(WireError::Proxy(ProxyError::Closed)),
            true,
        ),
        (
            DisconnectReason::ServerClosed(CloseFrame::new(CloseCode::GOING_AWAY, "bye")),
            true,
        ),
        (DisconnectReason::PongTimeout, true),
        (DisconnectReason::IdleTimeout, true),
        (DisconnectReason::AuthFailed("bad key".into()), true),
        (DisconnectReason::UserClose, true),
        (DisconnectReason::SessionEnded(rpc), true),
    ];
    for (reason, up) in table {
        assert_eq!(reason.transport_was_up(), up, "{reason:?}");
    }
}

#[test]
fn every_wire_error_has_its_kind() {
    let table = [
        (WireError::InvalidUrl("x"), ErrorKind::Misuse),
        (WireError::InvalidProxy("x"), ErrorKind::Misuse),
        (
            WireError::InvalidProxyVariable("HTTPS_PROXY"),
            ErrorKind::Misuse,
        ),
        (
            WireError::InvalidHeader {
                name: "Host".into(),
                reason: "reserved",
            },
            ErrorKind::Misuse,
        ),
        (WireError::NotOpen("closed"), ErrorKind::Misuse),
        (WireError::InvalidCloseCode(999), ErrorKind::Misuse),
        (WireError::InvalidDeflate("bits"), ErrorKind::Misuse),
        (WireError::ControlPayloadTooLong(126), ErrorKind::Misuse),
        (
            WireError::FrameTooLarge {
                size: 1 << 30,
                limit: 1 << 20,
            },
            ErrorKind::Limit,
        ),
        (
            WireError::MessageTooLarge {
                size: 1 << 30,
                limit: 1 << 20,
            },
            ErrorKind::Limit,
        ),
        (WireError::ResponseTooLarge(65536), ErrorKind::Limit),
        (WireError::Proxy(ProxyError::Closed), ErrorKind::Peer),
        (WireError::Tls(rustls::Error::DecryptError), ErrorKind::Peer),
        (
            WireError::InvalidHandshake(Cow::Borrowed("no upgrade")),
            ErrorKind::Peer,
        ),
        (WireError::HandshakeEof, ErrorKind::Peer),
        (WireError::Protocol("reserved bits"), ErrorKind::Peer),
        (WireError::PeerCloseCode(1005), ErrorKind::Peer),
        (WireError::AbnormalClosure, ErrorKind::Peer),
        (WireError::InvalidUtf8, ErrorKind::Peer),
    ];
    for (error, kind) in table {
        assert_eq!(error.kind(), kind, "{error:?}");
    }
}

#[test]
fn the_status_of_a_connection_that_is_gone() {
    let status = Status::closed();
    assert_eq!(status.state, SessionState::Closed);
    assert!(status.subscriptions.is_empty());
    assert!(status.desired_subscriptions.is_empty());
    assert!(!status.authenticated);
    assert_eq!(status.subprotocol, None);
    assert_eq!(status.endpoint, None);
    assert_eq!(status.stats.reconnects, 0);
}
