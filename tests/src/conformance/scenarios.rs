//! The conformance scenarios, each written once against
//! [`DriverUnderTest`] and run for every driver by
//! [`conformance_tests!`](crate::conformance_tests).
//!
//! Peers: the tokio-tungstenite [`EchoServer`] (plain and TLS, with
//! `kill_connections`/`close_connections`), the raw-TCP [`BadServer`],
//! Python's `websockets` ([`PythonServer`]) and the [`MockDeribit`]
//! exchange. Every wait is bounded by [`STEP`]; absence (no hot loop) is
//! shown by waiting one second.

use std::time::Duration;

use serde_json::{Value, json};
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, CloseReason, Credentials, DisconnectReason, Event, Initiator,
    SessionError, SessionState,
};
use wsnova_core::wire::{CloseCode, Limits, Message, WireError};

use super::{AdapterKind, Conn, ConnectFailure, ConnectParams, DriverUnderTest, STEP, Wait};
use crate::bad_server::{BadServer, ConnectionReport, Misbehaviour};
use crate::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};
use crate::mem_peer::raw_server_frame;
use crate::python::PythonServer;
use crate::{EchoServer, TestPki};

/// The first reconnect delay of [`fast_backoff`].
const BASE: Duration = Duration::from_millis(10);
const TICKER: &str = "ticker.BTC-PERPETUAL.100ms";

// ---- helpers ---------------------------------------------------------------

/// Exponential from [`BASE`] to 100 ms, no jitter, unlimited attempts.
fn fast_backoff() -> BackoffConfig {
    BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: BASE,
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    }
}

/// Plain params for `url` with [`fast_backoff`].
fn echo_params(url: &str) -> ConnectParams {
    let mut params = ConnectParams::echo(url);
    params.config.backoff = fast_backoff();
    params
}

fn connect(driver: &dyn DriverUnderTest, params: ConnectParams) -> Box<dyn Conn> {
    match driver.connect(params) {
        Ok(conn) => conn,
        Err(e) => panic!("{}: connect failed: {e:?}", driver.name()),
    }
}

fn connect_err(driver: &dyn DriverUnderTest, params: ConnectParams) -> ConnectFailure {
    match driver.connect(params) {
        Ok(_) => panic!("{}: connected, expected a failure", driver.name()),
        Err(e) => e,
    }
}

fn next_event(conn: &mut dyn Conn) -> Event {
    match conn.next_event(STEP) {
        Ok(event) => event,
        Err(wait) => panic!("expected an event within {STEP:?}, got {wait:?}"),
    }
}

/// The next data message, skipping `Connected`/`Ready`/pongs; fails on a
/// loss or the end of the stream.
fn next_message(conn: &mut dyn Conn) -> Message {
    loop {
        match next_event(conn) {
            Event::Message(m) => return m,
            Event::Connected | Event::Ready | Event::Pong { .. } => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// The next event that is not a data message or a pong.
fn next_lifecycle(conn: &mut dyn Conn) -> Event {
    loop {
        match next_event(conn) {
            Event::Message(_) | Event::Pong { .. } | Event::Notification { .. } => continue,
            e => return e,
        }
    }
}

/// Skips events until one matches `pred`.
fn until_event(conn: &mut dyn Conn, what: &str, mut pred: impl FnMut(&Event) -> bool) -> Event {
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match conn.next_event(left) {
            Ok(event) if pred(&event) => return event,
            Ok(_) => {}
            Err(wait) => panic!("no {what} within {STEP:?}: {wait:?}"),
        }
    }
}

/// Every event until the stream ends.
fn drain(conn: &mut dyn Conn) -> Vec<Event> {
    let mut all = Vec::new();
    loop {
        match conn.next_event(STEP) {
            Ok(event) => all.push(event),
            Err(Wait::Ended) => return all,
            Err(Wait::Timeout) => panic!("the event stream did not end after {all:?}"),
        }
    }
}

/// Closes normally and checks the stream ends with `Closed { User }`.
fn close_and_drain(conn: &mut dyn Conn) -> Vec<Event> {
    conn.close().expect("close accepted");
    let rest = drain(conn);
    assert!(
        matches!(
            rest.last(),
            Some(Event::Closed {
                reason: CloseReason::User
            })
        ),
        "{rest:?}"
    );
    rest
}

fn skip_first_ready(conn: &mut dyn Conn) {
    assert_eq!(next_event(conn), Event::Connected);
    assert_eq!(next_event(conn), Event::Ready);
}

/// After a `Disconnected`: exactly `Reconnecting { attempt: 1 }`, `Connected`, `Ready`.
fn expect_first_retry_succeeds(conn: &mut dyn Conn) {
    assert_eq!(next_lifecycle(conn), Event::Reconnecting { attempt: 1 });
    assert_eq!(next_lifecycle(conn), Event::Connected);
    assert_eq!(next_lifecycle(conn), Event::Ready);
}

/// Sends `n` texts tagged `tag` and checks they echo back in order.
fn echo_round(conn: &mut dyn Conn, tag: &str, n: usize) {
    for i in 0..n {
        conn.send_text(&format!("{tag}-{i}")).unwrap();
    }
    for i in 0..n {
        assert_eq!(next_message(conn), Message::text(format!("{tag}-{i}")));
    }
}

/// Polls `conn.status()` until `pred` holds (bounded by [`STEP`]).
fn status_until(conn: &dyn Conn, what: &str, pred: impl Fn(&super::Status) -> bool) {
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let status = conn.status();
        if pred(&status) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status never showed {what}: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The next report of `server` (its `next_report` is async: a small runtime
/// of our own waits for it).
fn next_report(server: &mut BadServer) -> ConnectionReport {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime to wait for the report");
    runtime
        .block_on(async { tokio::time::timeout(STEP, server.next_report()).await })
        .expect("a report in time")
        .expect("the bad server runs")
}

/// The failed connection's close frame: exactly one, masked, final, with `code`.
fn assert_closed_with(report: &ConnectionReport, code: u16) {
    assert!(report.client_closed, "the client closed its socket");
    assert_eq!(report.close_code(), Some(code), "{report:?}");
    assert_eq!(report.frames.len(), 1, "{report:?}");
    let close = &report.frames[0];
    assert!(close.masked && close.fin, "{close:?}");
    assert!(report.trailing.is_empty(), "{report:?}");
}

/// Exactly 1 MiB of valid UTF-8 with multi-byte characters in it.
fn one_mib_text() -> String {
    let unit = "0123456789ab\u{2713}d"; // 12 + 3 + 1 = 16 bytes
    unit.repeat((1 << 20) / 16)
}

fn unknown_issuer() -> DisconnectReason {
    DisconnectReason::Wire(WireError::Certificate(
        rustls::CertificateError::UnknownIssuer,
    ))
}

fn tls_url(server: &EchoServer) -> String {
    format!("wss://localhost:{}/", server.addr().port())
}

// ---- echo ------------------------------------------------------------------

/// Text messages (one with non-ASCII, an empty one, 100 pipelined) round-trip in order.
pub fn echo_text(driver: &dyn DriverUnderTest) {
    let server = EchoServer::start();
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    conn.send_text("hello wsnova \u{1f980}").unwrap();
    conn.send_text("").unwrap();
    assert_eq!(next_message(conn), Message::text("hello wsnova \u{1f980}"));
    assert_eq!(next_message(conn), Message::text(""));
    echo_round(conn, "m", 100);
    let stats = conn.status().stats;
    assert_eq!((stats.messages_out, stats.messages_in), (102, 102));
    close_and_drain(conn);
}

/// Binary messages (and an empty one) round-trip in order.
pub fn echo_binary(driver: &dyn DriverUnderTest) {
    let server = EchoServer::start();
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    conn.send_binary(&[0, 1, 2, 255]).unwrap();
    conn.send_binary(&[]).unwrap();
    conn.send_binary(&[7; 70_000]).unwrap();
    assert_eq!(next_message(conn), Message::binary(vec![0u8, 1, 2, 255]));
    assert_eq!(next_message(conn), Message::binary(Vec::<u8>::new()));
    assert_eq!(next_message(conn), Message::binary(vec![7u8; 70_000]));
    close_and_drain(conn);
}

/// A 1 MiB text and a 1 MiB binary message round-trip intact.
pub fn echo_one_mib(driver: &dyn DriverUnderTest) {
    let server = EchoServer::start();
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    let text = one_mib_text();
    let binary: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
    conn.send_text(&text).unwrap();
    conn.send_binary(&binary).unwrap();
    match next_message(conn) {
        Message::Text(got) => assert!(got.as_str() == text, "1 MiB text differs"),
        other => panic!("expected text, got {} binary bytes", other.len()),
    }
    match next_message(conn) {
        Message::Binary(got) => assert!(got[..] == binary[..], "1 MiB binary differs"),
        other => panic!("expected binary, got {} text bytes", other.len()),
    }
    close_and_drain(conn);
}

/// `ping` returns a plausible RTT, `status` records it, consumers see the pong.
pub fn ping_rtt(driver: &dyn DriverUnderTest) {
    let server = EchoServer::start();
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    let rtt = conn.ping().expect("ping on a ready connection");
    assert!(rtt > Duration::ZERO && rtt < STEP, "{rtt:?}");
    assert_eq!(conn.status().stats.last_rtt, Some(rtt));
    match until_event(conn, "a pong", |e| {
        !matches!(e, Event::Connected | Event::Ready)
    }) {
        Event::Pong { rtt: seen } => assert_eq!(seen, rtt),
        other => panic!("expected Pong, got {other:?}"),
    }
    for _ in 0..3 {
        assert!(conn.ping().unwrap() < STEP);
    }
    close_and_drain(conn);
}

/// A ping whose connection is lost before the pong fails with
/// `NotConnected` (it is never answered by a later connection's pong).
pub fn ping_fails_when_the_connection_is_lost(driver: &dyn DriverUnderTest) {
    // Upgrades, then never answers anything: the pong deadline ends it.
    let server = BadServer::start(Misbehaviour::AfterUpgrade(Vec::new()));
    let mut params = echo_params(&server.url());
    params.config.heartbeat.ping_interval = None;
    params.config.heartbeat.pong_timeout = Duration::from_millis(200);
    let mut conn = connect(driver, params);
    let conn = &mut *conn;
    assert_eq!(conn.ping(), Err(SessionError::NotConnected));
    match until_event(conn, "the loss", |e| {
        !matches!(e, Event::Connected | Event::Ready)
    }) {
        Event::Disconnected { reason, .. } => assert_eq!(reason, DisconnectReason::PongTimeout),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    close_and_drain(conn);
}

// ---- close -----------------------------------------------------------------

/// `close_with(1001, "bye")` ends with `Disconnected { UserClose }` then
/// `Closed { User }`, no reconnect; the closed connection refuses commands.
pub fn close_with_code(driver: &dyn DriverUnderTest) {
    let server = EchoServer::start();
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    conn.send_text("last words").unwrap();
    conn.close_with(CloseCode::GOING_AWAY, "bye")
        .expect("close accepted");
    assert_eq!(conn.status().state, SessionState::Closed);
    let all = drain(conn);
    let n = all.len();
    assert!(n >= 4, "{all:?}");
    assert_eq!(&all[..2], &[Event::Connected, Event::Ready], "{all:?}");
    assert_eq!(
        &all[n - 2..],
        &[
            Event::Disconnected {
                reason: DisconnectReason::UserClose,
                initiator: Initiator::User,
                reconnect_in: None,
            },
            Event::Closed {
                reason: CloseReason::User
            },
        ],
        "{all:?}"
    );
    assert!(
        !all.iter()
            .any(|e| matches!(e, Event::Reconnecting { .. } | Event::Lagged { .. })),
        "{all:?}"
    );
    assert_eq!(conn.send_text("late"), Err(SessionError::Closed));
    assert_eq!(conn.close(), Ok(()), "closing again is a no-op");
    assert_eq!(server.connections_accepted(), 1);
}

/// A close code that may not be sent (1006) is refused; the connection stays up.
pub fn invalid_close_code_is_refused(driver: &dyn DriverUnderTest) {
    let server = EchoServer::start();
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    let err = conn
        .close_with(CloseCode::ABNORMAL, "1006 may not be sent")
        .unwrap_err();
    assert!(matches!(err, SessionError::Wire(_)), "{err:?}");
    assert_eq!(conn.status().state, SessionState::Ready);
    conn.send_text("still here").unwrap();
    assert_eq!(next_message(conn), Message::text("still here"));
    close_and_drain(conn);
}

// ---- reconnect -------------------------------------------------------------

/// The server closes with 1001: reported with its frame, then one retry
/// reconnects and messages flow.
pub fn server_close_1001_reconnects(driver: &dyn DriverUnderTest) {
    let server = EchoServer::start();
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    skip_first_ready(conn);
    echo_round(conn, "before", 3);
    assert_eq!(server.close_connections(1001, "restarting"), 1);
    match next_lifecycle(conn) {
        Event::Disconnected {
            reason: DisconnectReason::ServerClosed(frame),
            initiator,
            reconnect_in,
        } => {
            assert_eq!(frame.code, CloseCode::GOING_AWAY);
            assert_eq!(frame.reason.as_str(), "restarting");
            assert_eq!(initiator, Initiator::Remote);
            assert!(reconnect_in.is_some());
        }
        other => panic!("expected Disconnected(ServerClosed(1001)), got {other:?}"),
    }
    expect_first_retry_succeeds(conn);
    echo_round(conn, "after", 10);
    assert_eq!(conn.status().stats.reconnects, 1);
    assert_eq!(server.connections_accepted(), 2);
    close_and_drain(conn);
}

/// The server drops the socket mid-stream (no close frame): `AbnormalClosure`
/// (or `Reset` when it had unread bytes), a retry after the base delay, and messages flow again.
pub fn server_kill_reconnects(driver: &dyn DriverUnderTest) {
    let server = EchoServer::start();
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    skip_first_ready(conn);
    for i in 0..50 {
        conn.send_text(&format!("before-{i}")).unwrap();
    }
    assert_eq!(next_message(conn), Message::text("before-0"));
    assert_eq!(server.kill_connections(), 1);
    match next_lifecycle(conn) {
        Event::Disconnected {
            reason,
            initiator,
            reconnect_in,
        } => {
            // A FIN without a close frame, or a reset when our messages
            // were still unread there (RFC 2525 §2.17): reported as such.
            assert!(
                matches!(&reason, DisconnectReason::Wire(WireError::AbnormalClosure))
                    || matches!(&reason, DisconnectReason::Reset(e) if e.contains("reset")),
                "{reason:?}"
            );
            assert_eq!(initiator, Initiator::Remote);
            assert_eq!(reconnect_in, Some(BASE));
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    expect_first_retry_succeeds(conn);
    echo_round(conn, "after", 20);
    let status = conn.status();
    assert_eq!(status.state, SessionState::Ready);
    assert_eq!(status.stats.reconnects, 1);
    assert_eq!(server.connections_accepted(), 2);
    close_and_drain(conn);
}

// ---- TLS -------------------------------------------------------------------

/// `wss://` with the test CA: text, 300 kB binary and a ping over TLS.
pub fn tls_echo(driver: &dyn DriverUnderTest) {
    let pki = TestPki::new(&["localhost", "127.0.0.1"]);
    let server = EchoServer::start_tls(pki.server_config());
    let mut params = echo_params(&tls_url(&server));
    params.config.wire = params.config.wire.root_certificates(pki.root_store());
    let mut conn = connect(driver, params);
    let conn = &mut *conn;
    let big: Vec<u8> = (0..300_000).map(|i| (i % 253) as u8).collect();
    conn.send_text("over tls").unwrap();
    conn.send_binary(&big).unwrap();
    assert_eq!(next_message(conn), Message::text("over tls"));
    assert!(next_message(conn) == Message::binary(big), "300 kB differs");
    assert!(conn.ping().unwrap() < STEP);
    close_and_drain(conn);
    assert_eq!(server.connections_accepted(), 1);
}

/// A certificate from another CA fails `connect` with `UnknownIssuer`.
pub fn tls_wrong_ca_fails_connect(driver: &dyn DriverUnderTest) {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(server_pki.server_config());
    let mut params = echo_params(&tls_url(&server));
    params.config.wire = params.config.wire.root_certificates(other_ca.root_store());
    assert_eq!(
        connect_err(driver, params),
        ConnectFailure::Failed(unknown_issuer())
    );
    assert_eq!(server.connections_accepted(), 1);
}

/// With retries and a 10 ms backoff, a certificate error stops after one
/// attempt: `Closed(Stopped(UnknownIssuer))`, and nothing dials again.
pub fn tls_wrong_ca_with_retries_stops_after_one_attempt(driver: &dyn DriverUnderTest) {
    let server_pki = TestPki::new(&["localhost"]);
    let other_ca = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(server_pki.server_config());
    let mut params = echo_params(&tls_url(&server));
    params.config.wire = params.config.wire.root_certificates(other_ca.root_store());
    params.retry_initial = true;
    assert_eq!(
        connect_err(driver, params),
        ConnectFailure::Closed(CloseReason::Stopped(unknown_issuer()))
    );
    // No hot loop: absence can only be shown by waiting.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(server.connections_accepted(), 1);
}

// ---- bad input -------------------------------------------------------------

/// Invalid UTF-8 in a text frame: `Disconnected(InvalidUtf8)` and a 1007
/// close frame on the wire (read by the server).
pub fn bad_invalid_utf8_closes_with_1007(driver: &dyn DriverUnderTest) {
    let mut server = BadServer::start(Misbehaviour::AfterUpgrade(raw_server_frame(
        0x81,
        &[b'o', b'k', 0xc3, 0x28],
    )));
    let mut params = echo_params(&server.url());
    params.config.backoff.base = Duration::from_millis(50);
    let mut conn = connect(driver, params);
    let conn = &mut *conn;
    skip_first_ready(conn);
    match next_event(conn) {
        Event::Disconnected {
            reason,
            initiator,
            reconnect_in,
        } => {
            assert_eq!(reason, DisconnectReason::Wire(WireError::InvalidUtf8));
            assert_eq!(initiator, Initiator::Library);
            assert!(reconnect_in.is_some());
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    let report = next_report(&mut server);
    assert_closed_with(&report, 1007);
    assert!(report.request.starts_with("GET / HTTP/1.1\r\n"));
    close_and_drain(conn);
}

/// A message at the limit is delivered; one over it closes with 1009.
pub fn bad_oversized_message_closes_with_1009(driver: &dyn DriverUnderTest) {
    let mut bytes = raw_server_frame(0x82, &[7; 1024]);
    bytes.extend(raw_server_frame(0x82, &[0; 2000]));
    let mut server = BadServer::start(Misbehaviour::AfterUpgrade(bytes));
    let mut params = echo_params(&server.url());
    params.config.backoff.base = Duration::from_millis(50);
    params.config.wire = params.config.wire.limits(Limits {
        max_message_size: 1024,
        ..Limits::default()
    });
    let mut conn = connect(driver, params);
    let conn = &mut *conn;
    skip_first_ready(conn);
    assert_eq!(
        next_event(conn),
        Event::Message(Message::binary(vec![7u8; 1024]))
    );
    match next_event(conn) {
        Event::Disconnected {
            reason: DisconnectReason::Wire(err),
            initiator,
            ..
        } => {
            assert!(
                matches!(
                    err,
                    WireError::MessageTooLarge { limit: 1024, .. }
                        | WireError::FrameTooLarge { .. }
                ),
                "{err:?}"
            );
            assert_eq!(initiator, Initiator::Library);
        }
        other => panic!("expected Disconnected(Wire(..TooLarge)), got {other:?}"),
    }
    assert_closed_with(&next_report(&mut server), 1009);
    close_and_drain(conn);
}

/// Garbage instead of a `101`: `connect` fails with `InvalidHandshake`, the
/// client closes its socket without a frame, and does not retry.
pub fn bad_garbage_handshake_fails_connect(driver: &dyn DriverUnderTest) {
    let mut server = BadServer::start(Misbehaviour::Respond(b"SSH-2.0-OpenSSH\r\n".to_vec()));
    match connect_err(driver, echo_params(&server.url())) {
        ConnectFailure::Failed(DisconnectReason::Wire(WireError::InvalidHandshake(what))) => {
            assert!(!what.is_empty())
        }
        other => panic!("expected InvalidHandshake, got {other:?}"),
    }
    let report = next_report(&mut server);
    assert!(report.client_closed, "the client closed its socket");
    assert!(
        report.frames.is_empty() && report.trailing.is_empty(),
        "no close frame before an upgrade: {report:?}"
    );
    assert_eq!(server.connections_accepted(), 1, "fail-fast: no retry");
}

// ---- Python interop --------------------------------------------------------

const PYTHON_SCRIPT: &str = "python_echo_server.py";

/// Python's `websockets` echoes text, binary, 256 KiB and answers pings.
pub fn python_echo(driver: &dyn DriverUnderTest) {
    let server = PythonServer::start(PYTHON_SCRIPT);
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    conn.send_text("hello from wsnova \u{1f980}").unwrap();
    conn.send_binary(&[0, 1, 2, 253, 254, 255]).unwrap();
    conn.send_text("").unwrap();
    assert_eq!(
        next_message(conn),
        Message::text("hello from wsnova \u{1f980}")
    );
    assert_eq!(
        next_message(conn),
        Message::binary(vec![0u8, 1, 2, 253, 254, 255])
    );
    assert_eq!(next_message(conn), Message::text(""));
    let binary: Vec<u8> = (0..256 * 1024).map(|i| (i % 241) as u8).collect();
    conn.send_binary(&binary).unwrap();
    assert!(
        next_message(conn) == Message::binary(binary),
        "256 KiB differs"
    );
    echo_round(conn, "py", 100);
    let rtt = conn.ping().expect("a pong from Python");
    assert!(rtt > Duration::ZERO && rtt < STEP, "{rtt:?}");
    close_and_drain(conn);
}

/// Python closes with 4000 "bye" on request: `ServerClosed(4000)`, then a
/// reconnect and messages flow.
pub fn python_server_close_4000_reconnects(driver: &dyn DriverUnderTest) {
    let server = PythonServer::start(PYTHON_SCRIPT);
    let mut conn = connect(driver, echo_params(&server.url()));
    let conn = &mut *conn;
    skip_first_ready(conn);
    conn.send_text("close-me").unwrap();
    match next_event(conn) {
        Event::Disconnected {
            reason: DisconnectReason::ServerClosed(frame),
            initiator,
            reconnect_in,
        } => {
            assert_eq!(u16::from(frame.code), 4000);
            assert_eq!(frame.reason.as_str(), "bye");
            assert_eq!(initiator, Initiator::Remote);
            assert!(reconnect_in.is_some());
        }
        other => panic!("expected Disconnected(ServerClosed(4000)), got {other:?}"),
    }
    expect_first_retry_succeeds(conn);
    conn.send_text("again").unwrap();
    assert_eq!(next_message(conn), Message::text("again"));
    close_and_drain(conn);
}

// ---- Deribit mock ----------------------------------------------------------

/// Deribit params for `url`: the default account, fast reconnects.
fn deribit_params(url: &str) -> ConnectParams {
    let mut params = ConnectParams::echo(url);
    params.adapter = AdapterKind::Deribit;
    params.config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    params.config.request_timeout = Duration::from_secs(5);
    params.config.connect_timeout = Duration::from_secs(2);
    params.config.backoff = fast_backoff();
    params.config.stable_after = Duration::from_millis(100);
    params
}

fn ticker_notification(conn: &mut dyn Conn) {
    until_event(
        conn,
        "a ticker notification",
        |e| matches!(e, Event::Notification { channel, .. } if channel == TICKER),
    );
}

fn private_request_works(conn: &dyn Conn) {
    let positions = conn
        .request("private/get_positions", &json!({"currency": "BTC"}))
        .expect("a private call works");
    let positions: Value = serde_json::from_str(&positions).expect("JSON");
    assert!(positions.is_array(), "{positions}");
}

/// Against the mock exchange: auth on connect, a ticker subscription with
/// notifications, a private request; then one dropped connection is
/// followed by a reconnect that re-authenticates and resubscribes, and the
/// ticker and private requests work again.
pub fn deribit_auth_subscribe_request_and_recover_from_a_drop(driver: &dyn DriverUnderTest) {
    let mock = MockDeribit::start(MockConfig::default());
    let mut conn = connect(driver, deribit_params(&mock.url()));
    let conn = &mut *conn;
    let status = conn.status();
    assert_eq!(status.state, SessionState::Ready);
    assert!(status.authenticated, "{status:?}");
    assert_eq!(mock.request_count("public/auth"), 1);

    conn.subscribe(&[TICKER]).unwrap();
    match until_event(conn, "a subscription outcome", |e| {
        matches!(
            e,
            Event::Subscribed { .. } | Event::SubscriptionFailed { .. }
        )
    }) {
        Event::Subscribed { channels } => assert_eq!(channels, [TICKER]),
        other => panic!("expected Subscribed, got {other:?}"),
    }
    ticker_notification(conn);
    private_request_works(conn);
    let first = mock.last_connection().expect("a connection");

    assert_eq!(mock.faults().live().drop_now(), 1);
    match until_event(conn, "the loss", |e| {
        matches!(e, Event::Disconnected { .. })
    }) {
        Event::Disconnected {
            initiator,
            reconnect_in,
            ..
        } => {
            assert_eq!(initiator, Initiator::Remote);
            assert!(reconnect_in.is_some());
        }
        _ => unreachable!(),
    }
    until_event(conn, "Ready again", |e| *e == Event::Ready);
    ticker_notification(conn);
    status_until(conn, "the ticker confirmed again", |s| {
        s.subscriptions == [TICKER]
    });
    let status = conn.status();
    assert!(status.authenticated, "re-authenticated: {status:?}");
    assert_eq!(status.desired_subscriptions, [TICKER]);
    assert_eq!(status.stats.reconnects, 1);
    private_request_works(conn);

    let second = mock.last_connection().expect("a second connection");
    assert_ne!(first, second);
    assert_eq!(
        mock.request_count("public/auth"),
        2,
        "re-authenticated once"
    );
    assert!(
        mock.subscriptions(second).contains(TICKER),
        "resubscribed on the new connection: {:?}",
        mock.subscriptions(second)
    );
    assert_eq!(mock.connections_accepted(), 2);
    close_and_drain(conn);
}
