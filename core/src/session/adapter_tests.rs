//! Every default of [`Adapter`] does what its documentation promises: an
//! adapter that overrides nothing speaks plain JSON-RPC 2.0, with no
//! subscriptions, no auth, a cost of one token and a reconnect after every
//! loss but a certificate or a permanent proxy error.

use super::*;
use crate::wire::ProxyError;

/// Overrides nothing.
struct Defaults;
impl Adapter for Defaults {}

/// Overrides only its codec.
struct Packed;
impl Adapter for Packed {
    fn codec(&self) -> Codec {
        Codec::MessagePack
    }
}

/// Overrides only `cost` (the method's length) and `sequence` (the data's length).
struct Counted;
impl Adapter for Counted {
    fn cost(&self, method: &str) -> u64 {
        method.len() as u64
    }
    fn sequence(&self, _channel: &str, data: &RawValue) -> Option<Sequence> {
        Some(Sequence {
            id: data.get().len() as u64,
            previous: None,
        })
    }
}

/// `{"a":1}` in MessagePack.
const PACKED_MAP: [u8; 4] = [0x81, 0xa1, b'a', 0x01];

fn refusal() -> RpcError {
    RpcError {
        code: 13_009,
        message: "invalid_token".into(),
        data: None,
    }
}

#[test]
fn json_leaves_binary_messages_alone_messagepack_decodes_them() {
    assert_eq!(Defaults.codec(), Codec::Json);
    assert_eq!(Defaults.decode_binary(&PACKED_MAP), None);
    let decoded = Packed.decode_binary(&PACKED_MAP).expect("decoded");
    assert_eq!(&*decoded, r#"{"a":1}"#);
}

#[test]
fn no_channel_is_private_and_an_answer_confirms_every_channel_asked() {
    assert!(!Defaults.is_private("private.orders.any"));
    let requested = ["book.BTC".to_owned(), "trades.ETH".to_owned()];
    assert_eq!(
        Defaults.confirmed_channels(&requested, r#"["book.BTC"]"#),
        requested
    );
}

#[test]
fn there_are_no_subscriptions_no_auth_and_no_setup() {
    let channels = ["book.BTC".to_owned()];
    assert!(Defaults.subscribe_request(&channels, false).is_none());
    assert!(Defaults.unsubscribe_request(&channels, true).is_none());
    let context = AuthContext {
        unix_time_ms: Some(1),
        nonce: "n0nce".into(),
    };
    let credentials = Credentials::new("id", "secret");
    assert!(Defaults.auth_request(&credentials, &context).is_none());
    assert!(Defaults.refresh_request(&AuthToken::default()).is_none());
    assert_eq!(Defaults.read_auth("{}"), Ok(AuthToken::default()));
    assert!(Defaults.on_connected().is_empty());
}

#[test]
fn a_refusal_is_only_a_refusal() {
    assert!(Defaults.auth_error_is_fatal(&refusal()));
    assert!(!Defaults.is_token_expired(&refusal()));
    assert_eq!(Defaults.retry_after(&refusal()), None);
    assert!(!Defaults.ends_session(&refusal()));
    assert!(!Defaults.is_terminal("private/logout"));
}

#[test]
fn a_request_costs_its_cost_in_the_default_class_and_nothing_is_limited() {
    assert_eq!(Defaults.cost("public/get_time"), 1);
    assert_eq!(
        Defaults.rate_charge("public/get_time"),
        Charge::new(RateClass::DEFAULT, 1)
    );
    assert_eq!(
        Counted.rate_charge("buy"),
        Charge::new(RateClass::DEFAULT, 3)
    );
    assert!(Defaults.default_rate_limits().is_empty());
    assert_eq!(Defaults.subscribe_limits(), SubscribeLimits::UNLIMITED);
}

#[test]
fn update_ids_are_the_sequence_numbers() {
    let data: Box<RawValue> = serde_json::from_str("[1,2]").unwrap();
    assert_eq!(Defaults.sequence("book", &data), None);
    assert_eq!(Defaults.update_id("book", &data), None);
    let five = Some(Sequence {
        id: 5,
        previous: None,
    });
    assert_eq!(Counted.update_id("book", &data), five);
}

#[test]
fn only_certificate_and_permanent_proxy_errors_stop_the_reconnects() {
    let policy = |reason: DisconnectReason| Defaults.disconnect_policy(&reason);
    assert_eq!(
        policy(DisconnectReason::Wire(WireError::Certificate(
            rustls::CertificateError::Expired
        ))),
        Policy::Stop
    );
    assert_eq!(
        policy(DisconnectReason::Wire(WireError::Proxy(
            ProxyError::AuthenticationFailed
        ))),
        Policy::Stop
    );
    assert_eq!(
        policy(DisconnectReason::Wire(WireError::Proxy(ProxyError::Closed))),
        Policy::Reconnect
    );
    assert_eq!(policy(DisconnectReason::ConnectTimeout), Policy::Reconnect);
    assert_eq!(policy(DisconnectReason::PongTimeout), Policy::Reconnect);
}
