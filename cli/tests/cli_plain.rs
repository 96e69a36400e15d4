//! `wsnova` as a plain WebSocket pipe against the test kit's echo server:
//! stdin lines out, messages in, `--json`, and the exit codes of mistakes.

mod support;

use serde_json::Value;
use support::{run, wsnova};
use wsnova_tests::echo_server::EchoServer;

#[test]
fn stdin_lines_go_out_and_echoes_come_back_in_order() {
    let server = EchoServer::start();
    let result = run(wsnova(&[&server.url()]), "hello\nworld\r\n\nlast");
    assert_eq!(result.code(), 0, "{result:?}");
    assert_eq!(result.lines(), ["hello", "world", "", "last"], "{result:?}");
}

#[test]
fn json_output_is_one_object_per_event() {
    let server = EchoServer::start();
    let result = run(wsnova(&[&server.url(), "--json"]), "hi\n");
    assert_eq!(result.code(), 0, "{result:?}");
    let events: Vec<Value> = result
        .lines()
        .iter()
        .map(|line| serde_json::from_str(line).expect("a JSON object per line"))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"connected"), "{kinds:?}");
    assert!(kinds.contains(&"ready"), "{kinds:?}");
    let message = events
        .iter()
        .find(|e| e["event"] == "message")
        .expect("a message");
    assert_eq!(message["text"], "hi");
    assert_eq!(events.last().unwrap()["event"], "closed");
}

#[test]
fn count_ends_the_run_normally() {
    let server = EchoServer::start();
    let result = run(wsnova(&[&server.url(), "--count", "2"]), "a\nb\nc\nd\n");
    assert_eq!(result.code(), 0, "{result:?}");
    assert_eq!(result.lines(), ["a", "b"], "{result:?}");
}

#[test]
fn a_bad_url_is_a_usage_error() {
    let result = run(wsnova(&["http://127.0.0.1:1/"]), "");
    assert_eq!(result.code(), 2, "{result:?}");
    assert!(result.stderr.contains("bad URL"), "{result:?}");
    let result = run(wsnova(&["not a url"]), "");
    assert_eq!(result.code(), 2, "{result:?}");
}

#[test]
fn bad_flags_are_usage_errors_that_name_them() {
    let result = run(wsnova(&["ws://127.0.0.1:1/", "--ping-timeout", "ten"]), "");
    assert_eq!(result.code(), 2, "{result:?}");
    assert!(result.stderr.contains("invalid duration"), "{result:?}");
    let result = run(wsnova(&["ws://127.0.0.1:1/", "--subscribe", "x"]), "");
    assert_eq!(result.code(), 2, "{result:?}");
    assert!(result.stderr.contains("--adapter"), "{result:?}");
    let result = run(wsnova(&["ws://127.0.0.1:1/", "-H", "no colon"]), "");
    assert_eq!(result.code(), 2, "{result:?}");
    let result = run(
        wsnova(&["ws://127.0.0.1:1/", "--root-cert", "/nonexistent.pem"]),
        "",
    );
    assert_eq!(result.code(), 2, "{result:?}");
    assert!(result.stderr.contains("--root-cert"), "{result:?}");
}

#[test]
fn a_refused_connection_exits_3() {
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let result = run(wsnova(&[&format!("ws://127.0.0.1:{port}/")]), "");
    assert_eq!(result.code(), 3, "{result:?}");
    assert!(result.stderr.contains("connection failed"), "{result:?}");
}

#[test]
fn a_server_that_goes_away_for_good_exits_4() {
    let server = EchoServer::start();
    let mut command = wsnova(&[&server.url(), "--max-retries", "0", "--no-stdin", "--json"]);
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the connection is up, then cut it.
    let deadline = std::time::Instant::now() + support::RUN;
    while server.live_connections() == 0 {
        assert!(std::time::Instant::now() < deadline, "no connection");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    server.kill_connections();
    let result = support::finish(child);
    assert_eq!(result.code(), 4, "{result:?}");
    assert!(result.stdout.contains("\"disconnected\""), "{result:?}");
}

#[test]
fn proxy_flag_goes_through_tinyproxy_and_takes_no_credentials() {
    let server = EchoServer::start();
    let proxy = wsnova_tests::proxies::Tinyproxy::start(None);
    let result = run(
        wsnova(&[&server.url(), "--proxy", &proxy.url(), "--no-compress"]),
        "through the tunnel\n",
    );
    assert_eq!(result.code(), 0, "{result:?}");
    assert_eq!(result.lines(), ["through the tunnel"], "{result:?}");
    let result = run(
        wsnova(&[&server.url(), "--proxy", "http://user:s3cret@127.0.0.1:1"]),
        "",
    );
    assert_eq!(result.code(), 2, "{result:?}");
    assert!(result.stderr.contains("HTTPS_PROXY"), "{result:?}");
    assert!(!result.stderr.contains("s3cret"), "{result:?}");
}
