//! `wsnova run FILE`: connections from a TOML file, and a hot reload that
//! adds and removes a subscription on the live connection (no reconnect).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use serde_json::Value;
use support::{RUN, wsnova};
use wsnova_tests::deribit::{MockConfig, MockDeribit};

const BTC: &str = "ticker.BTC-PERPETUAL.100ms";
const ETH: &str = "ticker.ETH-PERPETUAL.100ms";

fn config(url: &str, channel: &str) -> String {
    format!(
        "[[connection]]\nname = \"mock\"\nadapter = \"deribit\"\nsubscribe = [\"{channel}\"]\n\n\
         [connection.session]\nurl = \"{url}\"\nrequest_timeout = \"5s\"\n"
    )
}

/// The next event (a JSON object) for which `pred` holds.
fn until(lines: &mpsc::Receiver<String>, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + RUN;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {what} in time"));
        let value: Value = serde_json::from_str(&line).expect("a JSON line");
        if pred(&value) {
            return value;
        }
    }
}

/// `wsnova run FILE --json --reload-every 20ms` plus `extra`, with its
/// stdout (and stderr) as channels of lines.
fn run_file(
    file: &std::path::Path,
    extra: &[&str],
) -> (Child, mpsc::Receiver<String>, mpsc::Receiver<String>) {
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--json",
        "--reload-every",
        "20ms",
    ];
    args.extend_from_slice(extra);
    let mut child = wsnova(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    (child, stdout, stderr)
}

/// The lines `reader` yields, read on a thread of their own.
fn lines_of(reader: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    lines
}

#[test]
fn a_reload_swaps_a_subscription_without_reconnecting() {
    let mock = MockDeribit::start(MockConfig::default());
    let file = std::env::temp_dir().join(format!("wsnova-cli-run-{}.toml", std::process::id()));
    std::fs::write(&file, config(&mock.url(), BTC)).unwrap();
    let (mut child, lines, _stderr) = run_file(&file, &[]);
    let first = until(&lines, "a BTC notification", |e| e["channel"] == BTC);
    assert_eq!(first["connection"], "mock");

    std::fs::write(&file, config(&mock.url(), ETH)).unwrap();
    until(&lines, "BTC unsubscribed", |e| {
        e["event"] == "unsubscribed" && e["channels"][0] == BTC
    });
    until(&lines, "an ETH notification", |e| e["channel"] == ETH);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&file);
    assert_eq!(mock.connections_accepted(), 1, "the reload reconnected");
}

#[test]
fn a_reload_turns_pings_on_without_reconnecting() {
    let mock = MockDeribit::start(MockConfig::default());
    let file = std::env::temp_dir().join(format!("wsnova-cli-hb-{}.toml", std::process::id()));
    let with_pings = |interval: &str| {
        format!(
            "{}[connection.session.heartbeat]\nping_interval = \"{interval}\"\n",
            config(&mock.url(), BTC)
        )
    };
    std::fs::write(&file, with_pings("off")).unwrap();
    let (mut child, lines, _stderr) = run_file(&file, &["--print-ping-rtts"]);
    // Ready and subscribed, pings off: no pong can have come.
    let mut seen = vec![until(&lines, "a BTC notification", |e| e["channel"] == BTC)];
    seen.extend(
        lines
            .try_iter()
            .map(|l| serde_json::from_str::<Value>(&l).unwrap()),
    );
    assert!(seen.iter().all(|e| e["event"] != "pong"), "{seen:?}");

    std::fs::write(&file, with_pings("50ms")).unwrap();
    let pong = until(&lines, "a pong after the reload", |e| e["event"] == "pong");
    assert_eq!(pong["connection"], "mock");
    // Still the same connection: no `connected` again, one accepted by the mock.
    until(&lines, "a BTC notification after the pong", |e| {
        e["channel"] == BTC
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&file);
    let reconnected: Vec<String> = lines
        .try_iter()
        .filter(|l| l.contains("\"connected\""))
        .collect();
    assert!(reconnected.is_empty(), "{reconnected:?}");
    assert_eq!(mock.connections_accepted(), 1, "the reload reconnected");
}

#[test]
fn a_bad_config_file_is_a_usage_error() {
    let file = std::env::temp_dir().join(format!("wsnova-cli-bad-{}.toml", std::process::id()));
    std::fs::write(
        &file,
        "[[connection]]\nname = \"x\"\nunknown = 1\n[connection.session]\nurl = \"ws://h/\"\n",
    )
    .unwrap();
    let result = support::run(wsnova(&["run", file.to_str().unwrap()]), "");
    let _ = std::fs::remove_file(&file);
    assert_eq!(result.code(), 2, "{result:?}");
    assert!(result.stderr.contains("unknown"), "{result:?}");
}

#[test]
fn a_reload_changes_rate_limits_without_reconnecting() {
    let mock = MockDeribit::start(MockConfig::default());
    let file = std::env::temp_dir().join(format!("wsnova-cli-rl-{}.toml", std::process::id()));
    let with_limit = |capacity: u32| {
        format!(
            "{}[connection.session.rate_limit]\ncapacity = {capacity}\nrefill_amount = 10000\n\
             refill_interval = \"1s\"\nqueue_capacity = 64\n",
            config(&mock.url(), BTC)
        )
    };
    std::fs::write(&file, with_limit(50_000)).unwrap();
    let (mut child, lines, err_lines) = run_file(&file, &[]);
    until(&lines, "a BTC notification", |e| e["channel"] == BTC);

    std::fs::write(&file, with_limit(20_000)).unwrap();
    let deadline = Instant::now() + RUN;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = err_lines
            .recv_timeout(left)
            .expect("the reload is reported in time");
        assert!(!line.contains("restarting"), "{line}");
        if line.contains("rate_limit applied without a reconnect") {
            break;
        }
    }
    // The same connection goes on.
    until(&lines, "a BTC notification after the reload", |e| {
        e["channel"] == BTC
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&file);
    assert_eq!(mock.connections_accepted(), 1, "the reload reconnected");
}
