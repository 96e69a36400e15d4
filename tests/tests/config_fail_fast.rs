//! Configuration mistakes fail at once with an error naming the field and the
//! value, before anything is dialled; configurations load from TOML and JSON
//! with the defaults of `SessionConfig::new` for every omitted key.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wsnova_core::session::{
    BackoffStrategy, ConfigError, Echo, Jitter, RateLimitConfig, Session, SessionConfig,
    SessionError, SessionState,
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
    let mut session = Session::new(config, Echo, now);
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
fn a_rate_limit_of_zero_capacity_or_interval_is_refused() {
    let mut c = config();
    c.rate_limit = Some(RateLimitConfig {
        capacity: 0,
        ..rate_limit()
    });
    assert_refused(
        c,
        ConfigError::ZeroSize {
            field: "rate_limit.capacity",
        },
        "rate_limit.capacity = 0: it must be greater than zero",
    );
    let mut c = config();
    c.rate_limit = Some(RateLimitConfig {
        refill_interval: Duration::ZERO,
        ..rate_limit()
    });
    assert_refused(
        c,
        zero("rate_limit.refill_interval"),
        "rate_limit.refill_interval = 0s: it must be greater than zero",
    );
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

// ---- loading from TOML and JSON --------------------------------------

const FULL: &str = r#"
url = "wss://test.deribit.com/ws/api/v2?x=1"
name = "deribit-main"
seed = 42
subprotocols = ["v2.json", "json"]
max_frame_size = 1048576
max_message_size = 4194304
connect_timeout = "3s"
request_timeout = "1m30s"
close_timeout = "250ms"
stable_after = "0s"
queue_capacity = 7
refresh_at = 0.5

[headers]
"User-Agent" = "wsnova-tests/1.0"

[heartbeat]
ping_interval = "off"
pong_timeout = "4s"
idle_timeout = "2m"

[backoff]
strategy = "decorrelated_jitter"
base = "100ms"
max_delay = "1h"
max_attempts = 3

[rate_limit]
capacity = 20
refill_amount = 5
refill_interval = "1s"
queue_capacity = 50
"#;

#[test]
fn a_full_toml_file_sets_every_key() {
    let c: SessionConfig = toml::from_str(FULL).expect("valid file");
    let ep = c.wire.endpoint();
    assert_eq!(
        (ep.host(), ep.port(), ep.path_and_query()),
        ("test.deribit.com", 443, "/ws/api/v2?x=1")
    );
    assert_eq!(c.name.as_deref(), Some("deribit-main"));
    assert_eq!(c.seed, 42);
    assert_eq!(c.wire.subprotocols(), ["v2.json", "json"]);
    let shown = format!("{:?}", c.wire);
    assert!(shown.contains("User-Agent: <redacted>"), "{shown}");
    assert!(
        shown.contains("max_frame_size: 1048576, max_message_size: 4194304"),
        "{shown}"
    );
    assert_eq!(c.connect_timeout, Duration::from_secs(3));
    assert_eq!(c.request_timeout, Duration::from_secs(90));
    assert_eq!(c.close_timeout, Duration::from_millis(250));
    assert_eq!(c.stable_after, Duration::ZERO);
    assert_eq!(c.queue_capacity, 7);
    assert_eq!(c.refresh_at, 0.5);
    assert_eq!(c.heartbeat.ping_interval, None);
    assert_eq!(c.heartbeat.pong_timeout, Duration::from_secs(4));
    assert_eq!(c.heartbeat.idle_timeout, Some(Duration::from_secs(120)));
    assert_eq!(
        c.backoff.strategy,
        BackoffStrategy::Jittered(Jitter::Decorrelated)
    );
    assert_eq!(c.backoff.base, Duration::from_millis(100));
    assert_eq!(c.backoff.max_delay, Duration::from_secs(3600));
    assert_eq!(c.backoff.max_attempts, Some(3));
    assert_eq!(
        c.rate_limit,
        Some(RateLimitConfig {
            capacity: 20,
            refill_amount: 5,
            refill_interval: Duration::from_secs(1),
            queue_capacity: 50,
        })
    );
    assert!(c.credentials.is_none());
}

/// Every field of two configurations, compared (`SessionConfig` holds a
/// rustls configuration and so has no `PartialEq`; its `Debug` shows every
/// field, header values and secrets redacted).
fn assert_same(a: &SessionConfig, b: &SessionConfig) {
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(a.wire.subprotocols(), b.wire.subprotocols());
    assert_eq!(
        (
            a.seed,
            a.connect_timeout,
            a.request_timeout,
            a.close_timeout,
            a.stable_after
        ),
        (
            b.seed,
            b.connect_timeout,
            b.request_timeout,
            b.close_timeout,
            b.stable_after
        )
    );
    assert_eq!(
        (a.queue_capacity, a.refresh_at),
        (b.queue_capacity, b.refresh_at)
    );
    assert_eq!(
        (a.heartbeat, a.backoff, a.rate_limit),
        (b.heartbeat, b.backoff, b.rate_limit)
    );
    assert_eq!((&a.name, &a.credentials), (&b.name, &b.credentials));
    assert_eq!(a.fail_before_first_ready, b.fail_before_first_ready);
}

#[test]
fn a_minimal_toml_file_equals_the_defaults() {
    let url = "wss://example.com/ws";
    let loaded: SessionConfig = toml::from_str(&format!("url = {url:?}")).unwrap();
    assert_same(&loaded, &SessionConfig::new(url).unwrap());
    // Half a section keeps the other half's defaults.
    let loaded: SessionConfig = toml::from_str(&format!(
        "url = {url:?}\n[heartbeat]\npong_timeout = \"3s\""
    ))
    .unwrap();
    let mut expected = SessionConfig::new(url).unwrap();
    expected.heartbeat.pong_timeout = Duration::from_secs(3);
    assert_same(&loaded, &expected);
}

#[test]
fn unknown_keys_are_named_at_every_level() {
    for (file, key) in [
        (
            "url = \"ws://x.io/\"\nrequest_timout = \"5s\"",
            "request_timout",
        ),
        ("url = \"ws://x.io/\"\n[heartbeat]\nping = \"5s\"", "ping"),
        ("url = \"ws://x.io/\"\n[backoff]\nmax = \"5s\"", "max"),
        (
            "url = \"ws://x.io/\"\n[credentials]\nclient_id = \"a\"\nsecret = \"b\"",
            "credentials",
        ),
    ] {
        let err = toml::from_str::<SessionConfig>(file)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("unknown field `{key}`")), "{err}");
    }
}

#[test]
fn mistakes_in_a_file_fail_the_load_naming_field_and_value() {
    let cases = [
        (
            "url = \"http://x.io/?key=s3cret\"",
            "url = \"http://x.io/?…\": not a usable WebSocket URL",
        ),
        (
            "request_timeout = \"0s\"",
            "request_timeout = 0s: it must be greater than zero",
        ),
        ("request_timeout = \"10\"", "invalid duration \"10\""),
        (
            "[heartbeat]\nping_interval = \"never\"",
            "invalid duration \"never\"",
        ),
        (
            "[backoff]\nstrategy = \"random\"",
            "unknown variant `random`",
        ),
        (
            "[backoff]\nbase = \"2s\"\nmax_delay = \"1s\"",
            "backoff.max_delay = 1s is less than backoff.base = 2s",
        ),
        (
            "refresh_at = 2.0",
            "refresh_at = 2: it must be greater than 0 and at most 1",
        ),
        (
            "[rate_limit]\ncapacity = 5",
            "missing field `refill_amount`",
        ),
        (
            "[headers]\n\"Bad Name\" = \"v\"",
            "headers.\"Bad Name\": the name is not an HTTP token",
        ),
    ];
    for (file, expected) in cases {
        let file = if file.starts_with("url") {
            file.to_owned()
        } else {
            format!("url = \"ws://x.io/\"\n{file}")
        };
        let err = toml::from_str::<SessionConfig>(&file)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{file}\n→ {err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}

#[test]
fn json_loads_the_same_keys() {
    let json = r#"{
        "url": "ws://127.0.0.1:9001/",
        "subprotocols": ["v2.json"],
        "request_timeout": "5s",
        "heartbeat": {"ping_interval": "20s"},
        "backoff": {"strategy": "linear", "max_attempts": 0}
    }"#;
    let c = SessionConfig::from_json_str(json).unwrap();
    assert_eq!(c.wire.subprotocols(), ["v2.json"]);
    assert_eq!(c.request_timeout, Duration::from_secs(5));
    assert_eq!(c.heartbeat.ping_interval, Some(Duration::from_secs(20)));
    assert_eq!(c.heartbeat.pong_timeout, Duration::from_secs(10));
    assert_eq!(
        (c.backoff.strategy, c.backoff.max_attempts),
        (BackoffStrategy::Linear, Some(0))
    );
    let minimal = SessionConfig::from_json_str(r#"{"url": "ws://127.0.0.1:9001/"}"#).unwrap();
    assert_same(
        &minimal,
        &SessionConfig::new("ws://127.0.0.1:9001/").unwrap(),
    );
    let err = SessionConfig::from_json_str(r#"{"url": "ws://x.io/", "heartbeat": {"pong": "1s"}}"#)
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `pong`"), "{err}");
}
