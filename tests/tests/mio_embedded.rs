//! The embedding API: `Connection`s driven by a mio loop the test runs
//! itself. The documented example (`io-mio/examples/embedded.rs`) is
//! compiled in here and driven against two echo servers with a TCP client
//! of its own listener; a hand-written loop checks reconnects, timers and
//! resolving without a `Resolver`.

#[allow(dead_code)] // its `main`
#[path = "../../io-mio/examples/embedded.rs"]
mod embedded;

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Event, Plain, SessionConfig, SessionState,
};
use wsnova_core::wire::{CloseCode, Message};
use wsnova_mio::Connection;
use wsnova_mio::mio::{Events, Poll, Token};
use wsnova_tests::EchoServer;

const STEP: Duration = Duration::from_secs(10);

#[test]
fn the_example_bridges_a_tcp_client_to_two_connections() {
    let (a, b) = (EchoServer::start(), EchoServer::start());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // `localhost` for one of them: its lookup runs on the resolver thread.
    let url_b = format!("ws://localhost:{}/", b.addr().port());
    let urls = [a.url(), url_b];
    let bridge = std::thread::spawn(move || embedded::run([&urls[0], &urls[1]], listener));

    let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.set_read_timeout(Some(STEP)).unwrap();
    let mut lines = BufReader::new(client.try_clone().unwrap()).lines();
    let mut next_line = || lines.next().expect("a line in time").unwrap();
    (&client).write_all(b"hello\n").unwrap();
    // Ready lines may come first if the client was quicker than the upgrades.
    let mut echoes = Vec::new();
    while echoes.len() < 2 {
        let line = next_line();
        if !line.ends_with("is ready") {
            echoes.push(line);
        }
    }
    echoes.sort();
    assert_eq!(echoes, ["a: hello", "b: hello"]);
    (&client).write_all(b"second line\nquit\n").unwrap();
    let mut rest = Vec::new();
    while rest.len() < 4 {
        rest.push(next_line());
    }
    rest.sort();
    assert_eq!(
        rest,
        [
            "a is closed",
            "a: second line",
            "b is closed",
            "b: second line"
        ]
    );
    let report = bridge.join().unwrap().unwrap();
    assert_eq!(
        report,
        embedded::Report {
            clients: 1,
            lines: 2,
            echoes: 4
        }
    );
    assert_eq!((a.connections_accepted(), b.connections_accepted()), (1, 1));
}

/// A minimal loop around one connection, until `done` says so.
struct Loop {
    poll: Poll,
    events: Events,
    connection: Connection,
}

impl Loop {
    fn new(config: SessionConfig) -> Loop {
        let poll = Poll::new().unwrap();
        let registry = Arc::new(poll.registry().try_clone().unwrap());
        let mut connection = Connection::new(config, Plain, registry, Token(7));
        connection.connect().unwrap();
        Loop {
            poll,
            events: Events::with_capacity(64),
            connection,
        }
    }

    /// Turns the loop until an event matching `want` comes out.
    fn until(&mut self, want: impl Fn(&Event) -> bool) -> Event {
        let deadline = Instant::now() + STEP;
        loop {
            while let Some(event) = self.connection.poll_event() {
                if want(&event) {
                    return event;
                }
            }
            let now = Instant::now();
            assert!(now < deadline, "no matching event in time");
            let next = self
                .connection
                .poll_timeout()
                .map_or(deadline, |at| at.min(deadline));
            self.poll
                .poll(&mut self.events, Some(next.saturating_duration_since(now)))
                .unwrap();
            for event in self.events.iter() {
                self.connection.handle_event(event);
            }
            let now = Instant::now();
            if self.connection.poll_timeout().is_some_and(|at| at <= now) {
                self.connection.handle_timeout(now);
            }
        }
    }
}

#[test]
fn a_hand_written_loop_reconnects_on_the_connections_timers() {
    let server = EchoServer::start();
    let mut config = SessionConfig::new(&server.url()).unwrap();
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    };
    let mut l = Loop::new(config);
    assert_eq!(l.connection.token(), Token(7));
    l.until(|e| *e == Event::Ready);
    l.connection.send_text("one").unwrap();
    let one = l.until(|e| matches!(e, Event::Message(_)));
    assert_eq!(one, Event::Message(Message::text("one")));

    assert_eq!(server.kill_connections(), 1);
    l.until(|e| matches!(e, Event::Disconnected { .. }));
    // The backoff delay is a deadline in `poll_timeout`; `handle_timeout` redials.
    assert_eq!(
        l.until(|e| !matches!(e, Event::Message(_))),
        Event::Reconnecting { attempt: 1 }
    );
    l.until(|e| *e == Event::Ready);
    l.connection.send_binary(&[1, 2, 3]).unwrap();
    let two = l.until(|e| matches!(e, Event::Message(_)));
    assert_eq!(two, Event::Message(Message::binary(vec![1u8, 2, 3])));
    assert_eq!(l.connection.status().stats.reconnects, 1);

    l.connection.close(CloseCode::NORMAL, "done").unwrap();
    l.until(|e| matches!(e, Event::Closed { .. }));
    assert_eq!(l.connection.state(), SessionState::Closed);
    assert!(l.connection.is_finished());
    assert_eq!(l.connection.poll_timeout(), None);
}

#[test]
fn a_host_name_without_a_resolver_or_address_fails_connect_at_once() {
    let poll = Poll::new().unwrap();
    let registry = Arc::new(poll.registry().try_clone().unwrap());
    let config = SessionConfig::new("ws://example.invalid:9/").unwrap();
    let mut connection = Connection::new(config, Plain, registry, Token(7));
    match connection.connect() {
        Err(wsnova_mio::ConnectError::InvalidOption(error)) => {
            assert!(
                error.contains("Resolver") && error.contains("example.invalid"),
                "{error}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        connection.state(),
        SessionState::Idle,
        "nothing was dialled"
    );
    assert_eq!(connection.poll_event(), None, "no retry loop, no event");
}

#[test]
fn a_given_address_is_dialed_instead_of_the_host_name() {
    let server = EchoServer::start();
    let poll = Poll::new().unwrap();
    let registry = Arc::new(poll.registry().try_clone().unwrap());
    let config = SessionConfig::new("ws://echo.invalid/").unwrap();
    let mut connection =
        Connection::new(config, Plain, registry, Token(1)).with_address(server.addr());
    connection.connect().unwrap();
    let mut l = Loop {
        poll,
        events: Events::with_capacity(64),
        connection,
    };
    l.until(|e| *e == Event::Ready);
    assert_eq!(server.connections_accepted(), 1);
}
