//! `SessionConfig` loads from TOML and JSON: the defaults of
//! `SessionConfig::new` for every omitted key, unknown keys named at every
//! level, mistakes refused with the field and the value.

use std::time::Duration;

use wsnova_core::session::{BackoffStrategy, Jitter, RateLimitConfig, SessionConfig, StopPolicy};

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
        c.rate_limits.get(wsnova_core::session::RateClass::DEFAULT),
        Some(Some(RateLimitConfig {
            capacity: 20,
            refill_amount: 5,
            refill_interval: Duration::from_secs(1),
            queue_capacity: 50,
        }))
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
        (a.heartbeat, a.backoff, &a.rate_limits),
        (b.heartbeat, b.backoff, &b.rate_limits)
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

#[test]
fn the_stop_policy_loads_by_name_or_as_a_table() {
    let load = |stop: &str| {
        toml::from_str::<SessionConfig>(&format!("url = \"ws://h/\"\nstop = {stop}\n"))
            .map(|c| c.stop)
    };
    assert_eq!(
        toml::from_str::<SessionConfig>("url = \"ws://h/\"")
            .unwrap()
            .stop,
        StopPolicy::Adapter
    );
    assert_eq!(load("\"adapter\"").unwrap(), StopPolicy::Adapter);
    assert_eq!(
        load("\"on_normal_close\"").unwrap(),
        StopPolicy::OnNormalClose
    );
    assert_eq!(load("\"never\"").unwrap(), StopPolicy::Never);
    assert_eq!(
        load("{ after_failures = 5 }").unwrap(),
        StopPolicy::AfterFailures(5)
    );
    let err = load("\"sometimes\"").unwrap_err().to_string();
    assert!(err.contains("sometimes"), "{err}");
}
