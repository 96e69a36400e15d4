//! What a session reports about itself (its name, what it dials, the
//! compression agreed for the current connection) and the direct read a
//! driver does into its buffer.

use std::time::{Duration, Instant};

use wsnova_core::session::{
    Call, DisconnectReason, Event, HeartbeatConfig, Input, Output, Plain, Session, SessionConfig,
    SessionError, Tap,
};
use wsnova_core::wire::{CloseCode, PerMessageDeflate, Proxy};
use wsnova_tests::mem_peer::handshake_response;

fn session(url: &str, configure: impl FnOnce(&mut SessionConfig)) -> Session<Plain> {
    let mut config = SessionConfig::new(url).unwrap();
    config.seed = 5;
    configure(&mut config);
    Session::new(config, Plain, Instant::now())
}

/// Dials and answers the upgrade with a `101` carrying `extensions` (if
/// any); returns the generation.
fn upgrade(session: &mut Session<Plain>, extensions: Option<&str>) -> u64 {
    upgrade_at(session, Instant::now(), extensions)
}

fn upgrade_at(session: &mut Session<Plain>, now: Instant, extensions: Option<&str>) -> u64 {
    session.connect(now).unwrap();
    let Some(Output::Dial { generation, .. }) = session.poll_output() else {
        panic!("expected a dial")
    };
    session.handle_input(now, Input::Connected { generation });
    let request = String::from_utf8(session.pending_transmit().to_vec()).unwrap();
    session.advance_transmit(request.len());
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let extensions = extensions.map_or(String::new(), |e| format!("Sec-WebSocket-Extensions: {e}"));
    let reply = handshake_response(key, &extensions);
    session.handle_input(
        now,
        Input::Bytes {
            generation,
            data: reply.as_bytes(),
        },
    );
    let connected = std::iter::from_fn(|| session.poll_output())
        .any(|o| matches!(o, Output::Event(Event::Connected)));
    assert!(connected, "the upgrade was accepted");
    generation
}

#[test]
fn the_connection_is_named_by_its_host_unless_named() {
    assert_eq!(
        session("wss://exchange.test/ws?key=s3cret", |_| {}).connection_name(),
        "exchange.test"
    );
    let named = session("wss://exchange.test/ws", |c| c.name = Some("feed".into()));
    assert_eq!(named.connection_name(), "feed");
}

#[test]
fn debug_shows_the_state_and_generation_and_no_secret() {
    let mut s = session("wss://exchange.test/ws?key=s3cret", |c| {
        c.credentials = Some(wsnova_core::session::Credentials::new("id", "s3cret"));
    });
    s.connect(Instant::now()).unwrap();
    let shown = format!("{s:?}");
    assert!(
        shown.starts_with("Session { state: Connecting, generation: 1,"),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn the_dial_target_is_the_endpoint_or_its_proxy() {
    let direct = session("ws://exchange.test:8080/ws", |_| {});
    assert_eq!(direct.dial_target(), ("exchange.test", 8080));
    assert_eq!(direct.endpoint().host(), "exchange.test");
    let proxied = session("wss://exchange.test/ws", |c| {
        c.wire = c
            .wire
            .clone()
            .proxy(Proxy::parse("http://proxy.test:3128").unwrap());
    });
    assert_eq!(proxied.dial_target(), ("proxy.test", 3128));
    assert_eq!(
        proxied.endpoint().port(),
        443,
        "the server is still the URL's"
    );
}

#[test]
fn the_agreed_compression_is_reported_until_the_connection_is_lost() {
    let mut s = session("ws://127.0.0.1:9001/", |_| {});
    assert_eq!(s.compression(), None, "not connected");
    let generation = upgrade(
        &mut s,
        Some("permessage-deflate; server_max_window_bits=12; client_no_context_takeover"),
    );
    let agreed = PerMessageDeflate {
        server_max_window_bits: 12,
        client_no_context_takeover: true,
        ..PerMessageDeflate::default()
    };
    assert_eq!(s.compression(), Some(&agreed));
    s.handle_input(Instant::now(), Input::Closed { generation });
    assert_eq!(s.compression(), None, "gone with its connection");
}

#[test]
fn without_the_extension_in_the_answer_nothing_is_compressed() {
    let mut s = session("ws://127.0.0.1:9001/", |_| {});
    upgrade(&mut s, None);
    assert_eq!(s.compression(), None);
}

fn events(session: &mut Session<Plain>) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_output())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[test]
fn a_plaintext_read_goes_straight_into_the_sessions_buffer() {
    let mut s = session("ws://127.0.0.1:9001/", |_| {});
    let now = Instant::now();
    let generation = upgrade(&mut s, None);
    // An unmasked text frame "hi" (RFC 6455 §5.2), as the socket gives it.
    let bytes_before = s.stats().bytes_in;
    let read = s.read_into(now, generation, |buf| {
        buf.extend_from_slice(&[0x81, 2, b'h', b'i']);
        4
    });
    assert_eq!(read, Some(4));
    assert_eq!(s.stats().bytes_in, bytes_before + 4, "counted as read");
    let events = events(&mut s);
    assert!(
        matches!(&events[..], [.., Event::Message(m)] if format!("{m:?}").contains("hi")),
        "{events:?}"
    );
    // A socket of an older generation is not read.
    let mut called = false;
    assert_eq!(s.read_into(now, generation + 1, |_| called = true), None);
    assert!(!called);
}

#[test]
fn a_read_that_brings_nothing_is_no_sign_of_life() {
    let idle = Duration::from_secs(5);
    let mut s = session("ws://127.0.0.1:9001/", |c| {
        c.heartbeat = HeartbeatConfig {
            ping_interval: None,
            idle_timeout: Some(idle),
            ..HeartbeatConfig::default()
        };
    });
    let t0 = Instant::now();
    let generation = upgrade_at(&mut s, t0, None);
    // Four seconds on, a read returns without bytes: the idle deadline stays.
    let t4 = t0 + Duration::from_secs(4);
    assert_eq!(s.read_into(t4, generation, |_| 0), Some(0));
    let idle_lost = |events: Vec<Event>| {
        events.iter().any(|e| {
            matches!(
                e,
                Event::Disconnected {
                    reason: DisconnectReason::IdleTimeout,
                    ..
                }
            )
        })
    };
    s.handle_timeout(t0 + idle - Duration::from_millis(1));
    assert!(!idle_lost(events(&mut s)));
    s.handle_timeout(t0 + idle);
    assert!(
        idle_lost(events(&mut s)),
        "five seconds after the last byte"
    );
}

/// A tap that counts the timeouts it is told of.
#[derive(Default)]
struct Timeouts(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Tap for Timeouts {
    fn input(&mut self, _: Instant, _: &Input<'_>) {}
    fn timeout(&mut self, _: Instant) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn command(&mut self, _: Instant, _: &Call<'_>, _: Result<(), &SessionError>) {}
    fn output(&mut self, _: &Output) {}
    fn written(&mut self, _: u64, _: &[u8]) {}
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

#[test]
fn a_tap_hears_of_a_timeout_only_when_something_was_due() {
    let mut s = session("ws://127.0.0.1:9001/", |c| {
        c.connect_timeout = Duration::from_secs(3);
    });
    let count = Timeouts::default();
    let heard = count.0.clone();
    assert!(!s.is_tapped());
    s.set_tap(Box::new(count));
    assert!(s.is_tapped());
    let t0 = Instant::now();
    s.connect(t0).unwrap();
    let heard = move || heard.load(std::sync::atomic::Ordering::Relaxed);
    s.handle_timeout(t0 + Duration::from_millis(2_999));
    assert_eq!(heard(), 0, "called early: nothing due, nothing recorded");
    s.handle_timeout(t0 + Duration::from_secs(3));
    assert_eq!(heard(), 1, "the connect deadline");
    let tap = s.take_tap().expect("the tap comes back");
    assert!(tap.into_any().downcast::<Timeouts>().is_ok());
    assert!(!s.is_tapped());
}

#[test]
fn the_bytes_waiting_for_the_socket_are_counted_without_sealing_them() {
    let mut s = session("ws://127.0.0.1:9001/", |_| {});
    assert_eq!(s.pending_transmit_len(), 0);
    let now = Instant::now();
    s.connect(now).unwrap();
    let Some(Output::Dial { generation, .. }) = s.poll_output() else {
        panic!("expected a dial")
    };
    s.handle_input(now, Input::Connected { generation });
    // The upgrade request waits.
    let waiting = s.pending_transmit_len();
    assert!(waiting > 100, "{waiting}");
    assert_eq!(s.pending_transmit().len(), waiting);
    s.advance_transmit(40);
    assert_eq!(s.pending_transmit_len(), waiting - 40);
    s.advance_transmit(waiting - 40);
    assert_eq!(s.pending_transmit_len(), 0);
    assert_eq!(s.stats().bytes_out, waiting as u64, "counted as written");
}

#[test]
fn a_socket_reset_on_an_open_connection_is_reported_as_a_reset() {
    let mut s = session("ws://127.0.0.1:9001/", |_| {});
    let generation = upgrade(&mut s, None);
    let error = "Connection reset by peer (os error 104)";
    s.handle_input(Instant::now(), Input::Failed { generation, error });
    let events = events(&mut s);
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Disconnected { reason: DisconnectReason::Reset(e), .. } if e == error
        )),
        "{events:?}"
    );
}

#[test]
fn only_bytes_waiting_are_announced_and_only_once() {
    let mut s = session("ws://127.0.0.1:9001/", |_| {});
    let generation = upgrade(&mut s, None);
    let now = Instant::now();
    while s.poll_output().is_some() {}
    assert_eq!(s.pending_transmit_len(), 0);
    assert_eq!(s.poll_output(), None, "nothing waits: nothing announced");
    s.send_text(now, "hello").unwrap();
    assert_eq!(s.poll_output(), Some(Output::Transmit { generation }));
    assert_eq!(s.poll_output(), None, "announced once");
    let n = s.pending_transmit().len();
    s.advance_transmit(n);
    assert_eq!(s.poll_output(), None, "all written");
    // Closing: our close frame goes out; a ping that follows gets no pong
    // (RFC 6455 §5.5.1: nothing after the close frame), so nothing to announce.
    s.close(now, CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(s.poll_output(), Some(Output::Transmit { generation }));
    let n = s.pending_transmit().len();
    s.advance_transmit(n);
    s.handle_input(
        now,
        Input::Bytes {
            generation,
            data: &[0x89, 0],
        },
    );
    let announced: Vec<Output> = std::iter::from_fn(|| s.poll_output())
        .filter(|o| matches!(o, Output::Transmit { .. }))
        .collect();
    assert_eq!(announced, [], "{:?}", s.pending_transmit());
}
