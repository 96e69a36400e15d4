//! Configuration mistakes fail at once with an error naming the field and the
//! value, before anything is dialled (loading from files: `config_load.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};
use wsnova_core::session::{RateClass, RateLimits};

use wsnova_core::session::{
    ConfigError, Plain, RateLimitConfig, Session, SessionConfig, SessionError, SessionState,
};
use wsnova_core::wire::{Limits, RootCertStore};

fn config() -> SessionConfig {
    SessionConfig::new("ws://127.0.0.1:9001/feed").expect("valid URL")
}

fn rate_limit() -> RateLimitConfig {
    RateLimitConfig {
        capacity: 10,
        refill_amount: 5,
        refill_interval: Duration::from_secs(1),
        queue_capacity: 100,
    }
}

/// `validate` finds the mistake, and `connect` refuses before dialling.
fn assert_refused(config: SessionConfig, expected: ConfigError, text: &str) {
    assert_eq!(config.validate(), Err(expected.clone()));
    assert_eq!(expected.to_string(), text);
    let now = Instant::now();
    let mut session = Session::new(config, Plain, now);
    assert_eq!(session.connect(now), Err(SessionError::Config(expected)));
    assert_eq!(session.poll_output(), None, "nothing is dialled");
    assert_eq!(session.state(), SessionState::Idle);
}

/// A change that makes a configuration wrong.
type Mistake = fn(&mut SessionConfig);

fn zero(field: &'static str) -> ConfigError {
    ConfigError::ZeroDuration { field }
}

#[test]
fn the_defaults_are_valid() {
    assert_eq!(config().validate(), Ok(()));
    let secure = SessionConfig::new("wss://example.com/ws").unwrap();
    assert_eq!(secure.validate(), Ok(()));
}

#[test]
fn tls_roots_on_a_plain_url_are_refused() {
    let mut c = config();
    c.wire = c.wire.root_certificates(RootCertStore::empty());
    assert_refused(
        c,
        ConfigError::TlsOnPlainUrl {
            option: "root_certificates",
            url: "ws://127.0.0.1:9001/feed".into(),
        },
        "wire.root_certificates: TLS settings were given but the URL \"ws://127.0.0.1:9001/feed\" \
         is plain ws://; use wss:// or drop them",
    );
}

#[test]
fn a_tls_config_on_a_plain_url_is_refused() {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(RootCertStore::empty())
    .with_no_client_auth();
    let mut c = SessionConfig::new("ws://example.com/ws?key=s3cret").unwrap();
    c.wire = c.wire.tls_config(Arc::new(tls));
    let err = c.validate().unwrap_err();
    assert!(matches!(
        err,
        ConfigError::TlsOnPlainUrl {
            option: "tls_config",
            ..
        }
    ));
    assert!(
        !err.to_string().contains("s3cret"),
        "the query stays hidden: {err}"
    );
}

#[test]
fn zero_timeouts_are_refused() {
    let cases: [(Mistake, &str); 3] = [
        (|c| c.connect_timeout = Duration::ZERO, "connect_timeout"),
        (|c| c.request_timeout = Duration::ZERO, "request_timeout"),
        (|c| c.close_timeout = Duration::ZERO, "close_timeout"),
    ];
    for (mistake, field) in cases {
        let mut c = config();
        mistake(&mut c);
        assert_refused(
            c,
            zero(field),
            &format!("{field} = 0s: it must be greater than zero"),
        );
    }
}

#[test]
fn zero_heartbeat_durations_are_refused_while_they_are_used() {
    let mut c = config();
    c.heartbeat.ping_interval = Some(Duration::ZERO);
    assert_refused(
        c,
        zero("heartbeat.ping_interval"),
        "heartbeat.ping_interval = 0s: it must be greater than zero",
    );
    let mut c = config();
    c.heartbeat.pong_timeout = Duration::ZERO;
    assert_refused(
        c,
        zero("heartbeat.pong_timeout"),
        "heartbeat.pong_timeout = 0s: it must be greater than zero",
    );
    let mut c = config();
    c.heartbeat.idle_timeout = Some(Duration::ZERO);
    assert_refused(
        c,
        zero("heartbeat.idle_timeout"),
        "heartbeat.idle_timeout = 0s: it must be greater than zero",
    );
    // Without pings the pong timeout is never used.
    let mut c = config();
    c.heartbeat.ping_interval = None;
    c.heartbeat.pong_timeout = Duration::ZERO;
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn a_pong_timeout_longer_than_the_ping_interval_is_allowed() {
    // Pings overlap; the deadline runs from the oldest unanswered one.
    let mut c = config();
    c.heartbeat.ping_interval = Some(Duration::from_secs(1));
    c.heartbeat.pong_timeout = Duration::from_secs(2);
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn an_inverted_or_zero_backoff_is_refused() {
    let mut c = config();
    c.backoff.base = Duration::from_secs(1);
    c.backoff.max_delay = Duration::from_millis(500);
    assert_refused(
        c,
        ConfigError::BackoffInverted {
            base: Duration::from_secs(1),
            max_delay: Duration::from_millis(500),
        },
        "backoff.max_delay = 500ms is less than backoff.base = 1s",
    );
    let mut c = config();
    c.backoff.base = Duration::ZERO;
    assert_refused(
        c,
        zero("backoff.base"),
        "backoff.base = 0s: it must be greater than zero",
    );
}

#[test]
fn refresh_at_must_be_a_fraction_in_zero_to_one() {
    for bad in [0.0, -0.5, 1.5, f64::NAN] {
        let mut c = config();
        c.refresh_at = bad;
        let err = c.validate().unwrap_err();
        assert!(matches!(err, ConfigError::RefreshAtOutOfRange(_)), "{bad}");
        assert_eq!(
            err.to_string(),
            format!("refresh_at = {bad}: it must be greater than 0 and at most 1")
        );
    }
    let mut c = config();
    c.refresh_at = 1.5;
    assert_refused(
        c,
        ConfigError::RefreshAtOutOfRange(1.5),
        "refresh_at = 1.5: it must be greater than 0 and at most 1",
    );
    let mut c = config();
    c.refresh_at = 1.0;
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn a_rate_limit_of_zero_capacity_or_interval_or_an_unnamed_class_is_refused() {
    let mut c = config();
    c.rate_limits = RateLimits::default().with(
        RateClass::DEFAULT,
        RateLimitConfig {
            capacity: 0,
            ..rate_limit()
        },
    );
    assert_refused(
        c,
        ConfigError::ZeroRateLimit {
            class: "default",
            field: "capacity",
        },
        "rate_limits.default.capacity = 0: it must be greater than zero",
    );
    let mut c = config();
    c.rate_limits = RateLimits::default().with(
        RateClass::new("matching_engine"),
        RateLimitConfig {
            refill_interval: Duration::ZERO,
            ..rate_limit()
        },
    );
    assert_refused(
        c,
        ConfigError::ZeroRateLimit {
            class: "matching_engine",
            field: "refill_interval",
        },
        "rate_limits.matching_engine.refill_interval = 0s: it must be greater than zero",
    );
    let mut c = config();
    c.rate_limits = RateLimits::off().with(RateClass::new(""), rate_limit());
    assert_refused(
        c,
        ConfigError::UnnamedRateClass,
        "rate_limits: a class has an empty name",
    );
    // Lifting a class's limit, or every limit, is not a mistake.
    let mut c = config();
    c.rate_limits = RateLimits::default().without(RateClass::DEFAULT);
    assert_eq!(c.validate(), Ok(()));
    c.rate_limits = RateLimits::off();
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn zero_size_limits_are_refused() {
    let mut c = config();
    c.wire = c.wire.limits(Limits {
        max_message_size: 0,
        ..Limits::default()
    });
    assert_refused(
        c,
        ConfigError::ZeroSize {
            field: "max_message_size",
        },
        "max_message_size = 0: it must be greater than zero",
    );
}

#[test]
fn bad_subprotocols_are_refused_by_name() {
    let mut c = config();
    c.wire = c.wire.subprotocol("v2.json").subprotocol("v1 json");
    let err = c.validate().unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#"subprotocols: "v1 json" is not an HTTP token"#),
        "{err}"
    );
    let mut c = config();
    c.wire = c.wire.subprotocol("a").subprotocol("a");
    assert_refused(
        c,
        ConfigError::InvalidSubprotocol {
            value: "a".into(),
            reason: "is offered twice",
        },
        r#"subprotocols: "a" is offered twice"#,
    );
}

#[test]
fn a_zero_queue_capacity_is_a_choice_not_a_mistake() {
    // It means "nothing waits": see session_requests.rs.
    let mut c = config();
    c.queue_capacity = 0;
    c.stable_after = Duration::ZERO;
    c.backoff.max_attempts = Some(0);
    assert_eq!(c.validate(), Ok(()));
}
