//! `wsnova`'s TLS roots, ping round trips and Prometheus metrics, against
//! the test kit's echo server.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use data_encoding::BASE64;
use support::{RUN, run, wsnova};
use wsnova_tests::TestPki;
use wsnova_tests::echo_server::EchoServer;

/// `der` as a PEM certificate.
fn pem(der: &[u8]) -> String {
    let body = BASE64.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[test]
fn root_cert_trusts_a_private_ca_and_without_it_the_connection_fails() {
    let pki = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(pki.server_config());
    let url = format!("wss://localhost:{}/", server.addr().port());
    let file = std::env::temp_dir().join(format!("wsnova-cli-ca-{}.pem", std::process::id()));
    std::fs::write(&file, pem(&pki.ca_der())).unwrap();
    let trusted = run(
        wsnova(&[&url, "--root-cert", file.to_str().unwrap()]),
        "over tls\n",
    );
    let untrusted = run(wsnova(&[&url]), "over tls\n");
    let _ = std::fs::remove_file(&file);
    assert_eq!(trusted.code(), 0, "{trusted:?}");
    assert_eq!(trusted.lines(), ["over tls"]);
    assert_eq!(untrusted.code(), 3, "{untrusted:?}");
    assert!(
        untrusted.stderr.contains("connection failed"),
        "{untrusted:?}"
    );
}

#[test]
fn insecure_accepts_an_unknown_certificate_and_says_so() {
    let pki = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(pki.server_config());
    let url = format!("wss://localhost:{}/", server.addr().port());
    let result = run(wsnova(&[&url, "--insecure"]), "unverified\n");
    assert_eq!(result.code(), 0, "{result:?}");
    assert_eq!(result.lines(), ["unverified"]);
    assert!(result.stderr.contains("NOT verified"), "{result:?}");
    let plain = run(wsnova(&["ws://127.0.0.1:1/", "--insecure"]), "");
    assert_eq!(plain.code(), 2, "{plain:?}");
}

#[test]
fn ping_rtts_metrics_and_readiness_are_served() {
    let server = EchoServer::start();
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = metrics.local_addr().unwrap();
    drop(metrics);
    let mut command = wsnova(&[
        &server.url(),
        "--json",
        "-n",
        "--ping-interval",
        "20ms",
        "--print-ping-rtts",
        "--metrics",
        &addr.to_string(),
    ]);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + RUN;
    let pong = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("a pong line in time");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        if value["event"] == "pong" {
            break value;
        }
    };
    assert!(pong["rtt_ms"].as_f64().unwrap() >= 0.0, "{pong}");
    let body = loop {
        if let Some(body) = scrape(addr) {
            if body.contains("wsnova_ping_rtt_seconds") {
                break body;
            }
        }
        assert!(Instant::now() < deadline, "no metrics within {RUN:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(body.contains("wsnova_connections_total"), "{body}");
    assert!(get(addr, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200")));
    assert!(get(addr, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")));
    // The server goes away for good: no longer ready, still healthy.
    drop(server);
    loop {
        if get(addr, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 503")) {
            break;
        }
        assert!(Instant::now() < deadline, "/readyz still ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(get(addr, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200")));
    let _ = child.kill();
    let _ = child.wait();
}

/// GET /metrics, or `None` while the listener is not up.
fn scrape(addr: std::net::SocketAddr) -> Option<String> {
    get(addr, "/metrics")
}

/// GET `path`: the whole response, or `None` while the listener is not up.
fn get(addr: std::net::SocketAddr, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}
