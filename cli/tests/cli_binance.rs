//! `wsnova --adapter binance` against the test kit's mock Binance: a
//! WebSocket API request, a stream subscription on the combined endpoint,
//! and the exit code of a refused subscription.

mod support;

use serde_json::Value;
use support::{run, wsnova};
use wsnova_tests::binance::{MockBinance, MockConfig};

const TRADES: &str = "btcusdt@trade";

#[test]
fn a_ws_api_request_prints_its_result() {
    let mock = MockBinance::start(MockConfig::default());
    let args = [
        &mock.api_url() as &str,
        "--adapter",
        "binance",
        "--request",
        "time",
        "{}",
    ];
    let result = run(wsnova(&args), "");
    assert_eq!(result.code(), 0, "{result:?}");
    let time: Value = serde_json::from_str(result.stdout.trim()).expect("a JSON result");
    assert!(
        time["serverTime"].as_u64().is_some_and(|t| t > 0),
        "{result:?}"
    );
    assert_eq!(mock.stats().api_requests["time"], 1);
}

#[test]
fn a_subscription_prints_stream_events_until_count() {
    let mock = MockBinance::start(MockConfig::default());
    let url = mock.combined_url(&[]);
    let args = [
        &url as &str,
        "--adapter",
        "binance",
        "--subscribe",
        TRADES,
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
        assert_eq!(channel, TRADES);
        let data: Value = serde_json::from_str(data).expect("JSON data");
        assert_eq!(
            (data["e"].as_str(), data["s"].as_str()),
            (Some("trade"), Some("BTCUSDT")),
            "{line}"
        );
    }
}

#[test]
fn a_refused_subscription_exits_5() {
    let mock = MockBinance::start(MockConfig::default());
    let url = mock.combined_url(&[]);
    let args = [
        &url as &str,
        "--adapter",
        "binance",
        "--subscribe",
        "NOT A STREAM",
        "-n",
    ];
    let result = run(wsnova(&args), "");
    assert_eq!(result.code(), 5, "{result:?}");
}
