//! `wsnova --record FILE`: the CLI's run is recorded (secrets redacted) and
//! the recording replays in the core with no divergence.

mod support;

use std::path::PathBuf;

use support::{run, wsnova};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};
use wsnova_tests::echo_server::EchoServer;
use wsnova_tokio::adapters::Deribit;
use wsnova_tokio::core::record::{header, replay};
use wsnova_tokio::{Plain, SessionConfig};

const TICKER: &str = "ticker.BTC-PERPETUAL.100ms";

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wsnova-cli-{name}-{}.jsonl", std::process::id()))
}

/// The configuration the CLI builds by default for `url`, with `seed`.
fn cli_config(url: &str, seed: u64) -> SessionConfig {
    let mut config = SessionConfig::new(url).unwrap();
    config.seed = seed;
    config.fail_before_first_ready = true;
    config
}

#[test]
fn a_recorded_deribit_run_replays_without_divergence_and_without_secrets() {
    let mock = MockDeribit::start(MockConfig::default());
    let file = temp("deribit");
    let args = [
        &mock.url() as &str,
        "--adapter",
        "deribit",
        "--subscribe",
        TICKER,
        "--request",
        "private/get_account_summary",
        r#"{"currency":"BTC"}"#,
        "-n",
        "--count",
        "2",
        "--record",
        file.to_str().unwrap(),
    ];
    let mut command = wsnova(&args);
    command
        .env("WSNOVA_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("WSNOVA_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    let result = run(command, "");
    let recording = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    assert_eq!(result.code(), 0, "{result:?}");
    let lines = result.lines();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with(TICKER)).count(),
        2,
        "{result:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("\"currency\":\"BTC\"")),
        "{result:?}"
    );
    assert!(
        !recording.contains(DEFAULT_CLIENT_SECRET),
        "the secret leaked"
    );
    let mut config = cli_config(&mock.url(), header(&recording).unwrap().seed);
    config.credentials = Some(wsnova_tokio::Credentials::new(DEFAULT_CLIENT_ID, "dummy"));
    let report = replay(&recording, config, Deribit::new()).unwrap_or_else(|d| panic!("{d}"));
    assert!(report.compared > 5, "{report:?}");
}

#[test]
fn a_recorded_plain_run_prints_what_an_unrecorded_one_does() {
    let server = EchoServer::start();
    let file = temp("plain");
    let args = [
        &server.url() as &str,
        "--record",
        file.to_str().unwrap(),
        "--seed",
        "9",
    ];
    let result = run(wsnova(&args), "one\ntwo\n");
    let recording = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    assert_eq!(result.code(), 0, "{result:?}");
    assert_eq!(result.lines(), ["one", "two"]);
    assert_eq!(header(&recording).unwrap().seed, 9);
    replay(&recording, cli_config(&server.url(), 9), Plain).unwrap_or_else(|d| panic!("{d}"));
    let divergence = replay(&recording, cli_config(&server.url(), 10), Plain).unwrap_err();
    assert!(
        divergence.to_string().contains("Sec-WebSocket-Key"),
        "{divergence}"
    );
}

#[test]
fn replay_serves_a_recording_to_a_new_client() {
    use std::io::BufRead;
    let server = EchoServer::start();
    let file = temp("served");
    let args = [&server.url() as &str, "--record", file.to_str().unwrap()];
    let recorded = run(wsnova(&args), "first\nsecond\n");
    assert_eq!(recorded.code(), 0, "{recorded:?}");
    drop(server);

    let mut replay = wsnova(&["replay", file.to_str().unwrap(), "--once"]);
    let mut serving = replay
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(serving.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).expect("the replay server's URL");
    let client = run(wsnova(&[url.trim(), "-n", "--count", "2"]), "");
    let served = support::finish(serving);
    let _ = std::fs::remove_file(&file);
    assert_eq!(client.code(), 0, "{client:?}");
    assert_eq!(client.lines(), ["first", "second"], "{client:?}");
    assert_eq!(served.code(), 0, "{served:?}");
}
