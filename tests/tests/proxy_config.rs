//! Proxy and failover configuration: the file form (a proxy password is
//! refused there), the builder's switches, and the environment rules as
//! drivers apply them (`Builder::session_config_with_env`, given the
//! variables: the tests never touch the process's environment).

use wsnova_core::driver::Builder;
use wsnova_core::session::{ConfigError, SessionConfig};
use wsnova_core::wire::WireError;

const ENV: [(&str, &str); 4] = [
    ("HTTPS_PROXY", "http://tls-proxy.corp:3128"),
    ("http_proxy", "http://plain-proxy.corp:8080"),
    ("ALL_PROXY", "socks5h://socks.corp"),
    ("NO_PROXY", "localhost,.internal.corp,10.0.0.0/8"),
];

fn target(builder: &Builder) -> (String, u16) {
    let config = builder.session_config_with_env(ENV).unwrap();
    let (host, port) = config.wire.dial_target();
    (host.to_owned(), port)
}

#[test]
fn drivers_take_the_proxy_from_the_environment_as_curl_does() {
    let t = |url: &str| target(&Builder::new(url).unwrap());
    assert_eq!(t("wss://exchange.com/ws"), ("tls-proxy.corp".into(), 3128));
    assert_eq!(t("ws://exchange.com/ws"), ("plain-proxy.corp".into(), 8080));
    assert_eq!(
        t("wss://api.internal.corp/ws"),
        ("api.internal.corp".into(), 443)
    );
    assert_eq!(t("ws://10.9.8.7:9000/"), ("10.9.8.7".into(), 9000));
    assert_eq!(t("ws://localhost:9001/"), ("localhost".into(), 9001));
}

#[test]
fn explicit_proxies_and_switches_beat_the_environment() {
    let url = "wss://exchange.com/ws";
    let explicit = Builder::new(url)
        .unwrap()
        .proxy("socks5://127.0.0.1:1080")
        .unwrap();
    assert_eq!(target(&explicit), ("127.0.0.1".into(), 1080));
    let no_env = Builder::new(url).unwrap().no_proxy_env();
    assert_eq!(target(&no_env), ("exchange.com".into(), 443));
    let direct = explicit.no_proxy();
    assert_eq!(target(&direct), ("exchange.com".into(), 443));
    let bad = [("https_proxy", "ftp://u:hunter2@p")];
    let err = Builder::new(url)
        .unwrap()
        .session_config_with_env(bad)
        .unwrap_err();
    assert!(err.to_string().contains("https_proxy"), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn each_failover_endpoint_gets_its_own_environment_proxy() {
    let builder = Builder::new("wss://primary.exchange.com/ws")
        .unwrap()
        .failover_url("wss://backup.internal.corp/ws")
        .unwrap();
    let config = builder.session_config_with_env(ENV).unwrap();
    assert_eq!(config.wire.dial_target(), ("tls-proxy.corp", 3128));
    assert_eq!(
        config.failover[0].dial_target(),
        ("backup.internal.corp", 443)
    );
}

#[test]
fn an_explicit_proxy_covers_failover_urls_added_before_and_after() {
    let builder = Builder::new("ws://a.example/")
        .unwrap()
        .failover_url("ws://b.example/")
        .unwrap()
        .proxy("http://proxy:3128")
        .unwrap()
        .failover_url("ws://c.example/")
        .unwrap();
    let config = builder.config();
    for wire in std::iter::once(&config.wire).chain(&config.failover) {
        assert_eq!(wire.dial_target(), ("proxy", 3128), "{:?}", wire.endpoint());
    }
}

#[test]
fn a_file_sets_proxy_failover_and_the_env_switch() {
    let config: SessionConfig = toml::from_str(
        r#"
        url = "wss://www.deribit.com/ws/api/v2"
        failover = ["wss://backup.deribit.com/ws/api/v2", "ws://127.0.0.1:9001/"]
        proxy = "socks5h://bob@proxy.corp:1081"
        proxy_from_env = false
        "#,
    )
    .unwrap();
    assert!(!config.proxy_from_env);
    assert_eq!(config.wire.dial_target(), ("proxy.corp", 1081));
    let hosts: Vec<_> = config
        .failover
        .iter()
        .map(|w| w.endpoint().host())
        .collect();
    assert_eq!(hosts, ["backup.deribit.com", "127.0.0.1"]);
    assert_eq!(config.failover[1].dial_target(), ("proxy.corp", 1081));
    let defaults: SessionConfig = toml::from_str(r#"url = "ws://h/""#).unwrap();
    assert!(defaults.proxy_from_env && defaults.failover.is_empty());
    assert!(defaults.wire.proxy_config().is_none());
}

#[test]
fn a_file_refuses_a_proxy_password_and_bad_proxy_urls() {
    let load = |proxy: &str| {
        toml::from_str::<SessionConfig>(&format!("url = \"ws://h/\"\nproxy = \"{proxy}\""))
            .unwrap_err()
            .to_string()
    };
    let err = load("http://bob:hunter2@proxy:3128");
    assert!(err.contains("password may not be given"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(load("https://proxy").contains("not supported"));
    let err = toml::from_str::<SessionConfig>("url = \"ws://h/\"\nfailover = [\"http://x/\"]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("http://x/"), "{err}");
    // The error type names what was wrong without the URL.
    let invalid = ConfigError::InvalidProxy { reason: "why" };
    assert_eq!(invalid.to_string(), "proxy: why");
    assert!(matches!(
        Builder::new("ws://h/").unwrap().proxy("gopher://p"),
        Err(WireError::InvalidProxy(_))
    ));
}
