//! `wsnova --adapter deribit` against the test kit's mock exchange: a
//! request, a subscription, credentials from the environment and a file,
//! and the exit codes of a refused request and failed authentication.

mod support;

use serde_json::Value;
use support::{run, wsnova};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};

const TICKER: &str = "ticker.BTC-PERPETUAL.100ms";

fn mock() -> MockDeribit {
    MockDeribit::start(MockConfig::default())
}

#[test]
fn a_request_prints_its_result() {
    let mock = mock();
    let args = [
        &mock.url() as &str,
        "--adapter",
        "deribit",
        "--request",
        "public/get_time",
        "{}",
    ];
    let result = run(wsnova(&args), "");
    assert_eq!(result.code(), 0, "{result:?}");
    let time: u64 = result.stdout.trim().parse().expect("the server time");
    assert!(time > 0, "{result:?}");
    assert_eq!(mock.request_count("public/get_time"), 1);
}

#[test]
fn a_subscription_prints_notifications_until_count() {
    let mock = mock();
    let args = [
        &mock.url() as &str,
        "--adapter",
        "deribit",
        "--subscribe",
        TICKER,
        "-n",
        "--count",
        "2",
    ];
    let result = run(wsnova(&args), "");
    assert_eq!(result.code(), 0, "{result:?}");
    let lines = result.lines();
    assert_eq!(lines.len(), 2, "{result:?}");
    for line in lines {
        let (channel, data) = line.split_once(' ').expect("channel and data");
        assert_eq!(channel, TICKER);
        let data: Value = serde_json::from_str(data).expect("JSON data");
        assert_eq!(data["instrument_name"], "BTC-PERPETUAL", "{line}");
    }
}

#[test]
fn json_output_shows_the_subscription_and_the_response() {
    let mock = mock();
    let args = [
        &mock.url() as &str,
        "--adapter",
        "deribit",
        "--json",
        "--subscribe",
        TICKER,
        "--request",
        "public/test",
        "{}",
        "-n",
        "--count",
        "1",
    ];
    let result = run(wsnova(&args), "");
    assert_eq!(result.code(), 0, "{result:?}");
    let events: Vec<Value> = result
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let find = |kind: &str| events.iter().find(|e| e["event"] == kind).cloned();
    assert_eq!(
        find("subscribed").expect("subscribed")["channels"][0],
        TICKER
    );
    assert_eq!(find("response").expect("response")["method"], "public/test");
    assert_eq!(
        find("notification").expect("a notification")["channel"],
        TICKER
    );
}

#[test]
fn credentials_come_from_the_environment() {
    let mock = mock();
    let args = [
        &mock.url() as &str,
        "--adapter",
        "deribit",
        "--request",
        "private/get_account_summary",
        r#"{"currency":"BTC"}"#,
    ];
    let mut command = wsnova(&args);
    command
        .env("WSNOVA_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("WSNOVA_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    let result = run(command, "");
    assert_eq!(result.code(), 0, "{result:?}");
    let summary: Value = serde_json::from_str(result.stdout.trim()).expect("a JSON result");
    assert_eq!(summary["currency"], "BTC", "{result:?}");
    assert!(
        !result.stderr.contains(DEFAULT_CLIENT_SECRET),
        "the secret leaked: {result:?}"
    );
}

#[test]
fn wrong_credentials_from_a_file_exit_6() {
    let mock = mock();
    let file = std::env::temp_dir().join(format!("wsnova-cli-creds-{}", std::process::id()));
    std::fs::write(&file, format!("{DEFAULT_CLIENT_ID}\nnot-the-secret\n")).unwrap();
    let args = [
        &mock.url() as &str,
        "--adapter",
        "deribit",
        "--credentials-file",
        file.to_str().unwrap(),
    ];
    let result = run(wsnova(&args), "");
    let _ = std::fs::remove_file(&file);
    assert_eq!(result.code(), 6, "{result:?}");
    assert!(
        !result.stderr.contains("not-the-secret"),
        "the secret leaked: {result:?}"
    );
}

#[test]
fn a_refused_request_exits_5() {
    let mock = mock();
    let args = [
        &mock.url() as &str,
        "--adapter",
        "deribit",
        "--request",
        "public/no_such_method",
        "{}",
    ];
    let result = run(wsnova(&args), "");
    assert_eq!(result.code(), 5, "{result:?}");
    assert!(
        result.stderr.contains("--request public/no_such_method"),
        "{result:?}"
    );
}

#[test]
fn a_refused_subscription_exits_5() {
    let mock = mock();
    let args = [
        &mock.url() as &str,
        "--adapter",
        "deribit",
        "--subscribe",
        "ticker.NOPE.100ms",
        "-n",
    ];
    let result = run(wsnova(&args), "");
    assert_eq!(result.code(), 5, "{result:?}");
}
