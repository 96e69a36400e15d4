//! Each setter of [`Builder`] lands where the drivers read it, with values
//! other than the defaults (the doc examples say the same, but mutation runs
//! leave doc tests out).

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::session::{BackoffStrategy, Credentials, RateClass};
use crate::wire::{DeflateConfig, Limits, RootCertStore};

fn builder() -> Builder {
    Builder::new("wss://example.com/ws").unwrap()
}

#[test]
fn the_upgrade_request_setters_reach_the_wire_config() {
    let limits = Limits {
        max_frame_size: 1_000,
        max_message_size: 2_000,
    };
    let deflate = DeflateConfig {
        server_max_window_bits: Some(10),
        ..DeflateConfig::default()
    };
    let b = builder()
        .header("X-Api-Key", "k")
        .unwrap()
        .subprotocol("json")
        .subprotocol("msgpack")
        .limits(limits)
        .deflate(deflate)
        .unwrap()
        .root_certificates(RootCertStore::empty());
    let wire = &b.config().wire;
    assert_eq!(wire.headers, [("X-Api-Key".to_owned(), "k".to_owned())]);
    assert_eq!(wire.subprotocols(), ["json", "msgpack"]);
    assert_eq!(wire.size_limits(), limits);
    assert_eq!(wire.deflate_config().server_max_window_bits, Some(10));
    assert!(wire.tls.is_some(), "the roots given make the TLS config");
    assert!(builder().header("Upgrade", "x").is_err(), "reserved");
    let off = builder().deflate(DeflateConfig::disabled()).unwrap();
    assert!(!off.config().wire.deflate_config().enabled);
}

#[test]
fn a_proxy_applies_to_every_endpoint_and_turns_the_environment_off() {
    let b = builder()
        .failover_url("wss://backup.example.com/ws")
        .unwrap()
        .proxy("http://127.0.0.1:3128")
        .unwrap();
    assert!(!b.config().proxy_from_env);
    assert_eq!(b.config().wire.dial_target(), ("127.0.0.1", 3128));
    assert_eq!(b.config().failover.len(), 1);
    assert_eq!(b.config().failover[0].dial_target(), ("127.0.0.1", 3128));
    assert!(builder().proxy("ftp://x").is_err());
    // A failover added after the proxy goes directly, as its own URL says.
    let direct = b.clone().no_proxy();
    assert!(!direct.config().proxy_from_env);
    assert_eq!(direct.config().wire.dial_target(), ("example.com", 443));
    assert_eq!(
        direct.config().failover[0].dial_target(),
        ("backup.example.com", 443)
    );
    let env_off = builder().no_proxy_env();
    assert!(!env_off.config().proxy_from_env);
    assert!(builder().config().proxy_from_env, "on by default");
}

#[test]
fn dial_overrides_are_kept_for_the_driver() {
    let b = builder();
    assert_eq!(b.dial_override(), None);
    assert!(b.address_override().is_empty());
    let a: SocketAddr = "127.0.0.1:9001".parse().unwrap();
    let c: SocketAddr = "[::1]:9002".parse().unwrap();
    let b = b.dial_to("tunnel.local", 8443).addresses([a, c]);
    assert_eq!(b.dial_override(), Some(("tunnel.local", 8443)));
    assert_eq!(b.address_override(), [a, c]);
}

#[test]
fn the_session_setters_reach_the_session_config() {
    let backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_millis(7),
        ..BackoffConfig::default()
    };
    let heartbeat = HeartbeatConfig {
        ping_interval: Some(Duration::from_secs(3)),
        pong_timeout: Duration::from_secs(4),
        idle_timeout: Some(Duration::from_secs(5)),
    };
    let b = builder()
        .credentials(Credentials::new("id", "secret"))
        .backoff(backoff)
        .heartbeat(heartbeat)
        .connect_timeout(Duration::from_millis(1_001))
        .request_timeout(Duration::from_millis(1_002))
        .close_timeout(Duration::from_millis(1_003))
        .queue_capacity(17)
        .refresh_at(0.5)
        .stable_after(Duration::from_millis(1_004))
        .stop(StopPolicy::OnNormalClose)
        .name("feed")
        .seed(42);
    let config = b.config();
    assert!(config.credentials.is_some());
    assert_eq!(config.backoff, backoff);
    assert_eq!(config.heartbeat, heartbeat);
    assert_eq!(config.connect_timeout, Duration::from_millis(1_001));
    assert_eq!(config.request_timeout, Duration::from_millis(1_002));
    assert_eq!(config.close_timeout, Duration::from_millis(1_003));
    assert_eq!(config.queue_capacity, 17);
    assert_eq!(config.refresh_at, 0.5);
    assert_eq!(config.stable_after, Duration::from_millis(1_004));
    assert_eq!(config.stop, StopPolicy::OnNormalClose);
    assert_eq!(config.name.as_deref(), Some("feed"));
    assert_eq!(config.seed, 42);
}

#[test]
fn rate_limits_are_set_per_class_or_replaced() {
    let limit = RateLimitConfig {
        capacity: 5,
        refill_amount: 2,
        refill_interval: Duration::from_secs(1),
        queue_capacity: 9,
    };
    let other = RateClass::new("matching_engine");
    let b = builder().rate_limit(limit);
    assert_eq!(
        b.config().rate_limits.get(RateClass::DEFAULT),
        Some(Some(limit))
    );
    assert_eq!(b.config().rate_limits.get(other), None);
    let b = b.rate_limit_for(other, limit);
    assert_eq!(b.config().rate_limits.get(other), Some(Some(limit)));
    let b = b.rate_limits(RateLimits::off());
    assert_eq!(b.config().rate_limits, RateLimits::off());
}

#[test]
fn event_delivery_and_recording_are_kept_for_the_driver() {
    let b = builder();
    assert_eq!(b.capacity(), DEFAULT_EVENT_CAPACITY);
    assert_eq!(b.policy(), LagPolicy::Backpressure);
    assert!(!b.retries_initial());
    assert!(b.recording().is_none());
    let b = b
        .event_capacity(3)
        .lag_policy(LagPolicy::DropOldest)
        .retry_initial_connect(true)
        .record("/tmp/wsnova-builder-test.jsonl");
    assert_eq!(b.capacity(), 3);
    assert_eq!(b.policy(), LagPolicy::DropOldest);
    assert!(b.retries_initial());
    assert_eq!(
        format!("{:?}", b.recording().unwrap()),
        "RecordTo(\"/tmp/wsnova-builder-test.jsonl\")"
    );
    let to_writer = builder().record_to(Vec::new());
    assert_eq!(
        format!("{:?}", to_writer.recording().unwrap()),
        "RecordTo(<writer>)"
    );
}

#[test]
fn validate_checks_the_event_capacity_and_the_session_config() {
    assert!(builder().validate().is_ok());
    assert!(builder().event_capacity(1).validate().is_ok());
    let zero = builder().event_capacity(0).validate().unwrap_err();
    assert!(zero.to_string().contains("event_capacity"), "{zero}");
    // The session configuration's own rules are checked too.
    let config = builder()
        .request_timeout(Duration::ZERO)
        .validate()
        .unwrap_err();
    assert!(config.to_string().contains("request_timeout"), "{config}");
}

#[test]
fn the_session_config_a_driver_starts_with() {
    let once = builder().seed(9).session_config();
    assert!(
        once.fail_before_first_ready,
        "the first attempt's failure fails connect"
    );
    assert_eq!(once.seed, 9);
    let retrying = builder().retry_initial_connect(true).session_config();
    assert!(!retrying.fail_before_first_ready);
    assert_ne!(retrying.seed, 0, "a seed of 0 is replaced");
    // Odd, so never 0, and different each time (64 draws: an even one
    // would show within a few if the low bit were not set).
    let draws: std::collections::HashSet<u64> = (0..64).map(|_| entropy_seed()).collect();
    assert_eq!(draws.len(), 64);
    assert!(draws.iter().all(|seed| seed & 1 == 1));
    let env = [("HTTPS_PROXY", "http://127.0.0.1:3128")];
    let via = builder().session_config_with_env(env).unwrap();
    assert_eq!(via.wire.dial_target(), ("127.0.0.1", 3128));
    assert!(via.fail_before_first_ready);
    let bad = builder().session_config_with_env([("HTTPS_PROXY", "ftp://proxy:21")]);
    assert!(bad.is_err());
}
