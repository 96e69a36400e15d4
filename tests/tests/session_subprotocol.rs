//! Subprotocols: the session offers the configured list, reports the one the
//! server selected for the current connection (cleared when it is lost), and
//! a server that selects one never offered fails the upgrade with an error
//! naming it.

use std::time::{Duration, Instant};

use tungstenite::handshake::derive_accept_key;
use wsnova_core::session::{
    DisconnectReason, Event, Input, Output, Plain, Session, SessionConfig, SessionState,
};
use wsnova_core::wire::WireError;
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(60);

fn offering(protocols: &[&str]) -> SessionConfig {
    let mut config = SessionConfig::new("ws://127.0.0.1:9001/").unwrap();
    config.seed = 3;
    for protocol in protocols {
        config.wire = config.wire.subprotocol(protocol);
    }
    config
}

/// Dials, reads the upgrade request and answers it with a `101` carrying
/// `selected` (if any); returns the request and the events that followed.
fn upgrade(session: &mut Session<Plain>, selected: Option<&str>) -> (String, Vec<Event>) {
    let now = Instant::now();
    session.connect(now).unwrap();
    let Some(Output::Dial { generation, .. }) = session.poll_output() else {
        panic!("expected a dial")
    };
    session.handle_input(now, Input::Connected { generation });
    let request = String::from_utf8(session.pending_transmit().to_vec()).unwrap();
    let n = request.len();
    session.advance_transmit(n);
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let protocol = selected.map_or(String::new(), |p| {
        format!("Sec-WebSocket-Protocol: {p}\r\n")
    });
    let reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{protocol}\r\n",
        derive_accept_key(key.as_bytes())
    );
    session.handle_input(
        now,
        Input::Bytes {
            generation,
            data: reply.as_bytes(),
        },
    );
    let events = std::iter::from_fn(|| session.poll_output())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    (request, events)
}

#[test]
fn the_selected_subprotocol_is_reported_until_the_connection_is_lost() {
    let mut session = Session::new(offering(&["v2.json", "v1.json"]), Plain, Instant::now());
    let (request, events) = upgrade(&mut session, Some("v1.json"));
    assert!(
        request.contains("Sec-WebSocket-Protocol: v2.json, v1.json\r\n"),
        "{request}"
    );
    assert!(events.contains(&Event::Connected), "{events:?}");
    assert_eq!(session.subprotocol(), Some("v1.json"));

    let generation = session.generation();
    session.handle_input(Instant::now(), Input::Closed { generation });
    assert_eq!(session.state(), SessionState::BackingOff);
    assert_eq!(session.subprotocol(), None, "cleared with the connection");
}

#[test]
fn no_subprotocol_is_reported_when_the_server_selects_none() {
    let mut session = Session::new(offering(&["v2.json"]), Plain, Instant::now());
    let (_, events) = upgrade(&mut session, None);
    assert!(events.contains(&Event::Connected), "{events:?}");
    assert_eq!(session.subprotocol(), None);
}

#[test]
fn nothing_is_offered_by_default() {
    let mut session = Session::new(offering(&[]), Plain, Instant::now());
    let (request, events) = upgrade(&mut session, None);
    assert!(!request.contains("Sec-WebSocket-Protocol"), "{request}");
    assert!(events.contains(&Event::Connected), "{events:?}");
    assert_eq!(session.subprotocol(), None);
}

#[test]
fn an_unoffered_subprotocol_fails_the_upgrade_naming_it() {
    let mut session = Session::new(offering(&["a"]), Plain, Instant::now());
    let (_, events) = upgrade(&mut session, Some("foo"));
    let reason = events
        .iter()
        .find_map(|e| match e {
            Event::Disconnected { reason, .. } => Some(reason),
            _ => None,
        })
        .expect("the upgrade fails");
    let DisconnectReason::Wire(err @ WireError::InvalidHandshake(_)) = reason else {
        panic!("expected InvalidHandshake, got {reason:?}")
    };
    assert_eq!(
        err.to_string(),
        r#"invalid upgrade response: server selected subprotocol "foo", which was not offered (offered: ["a"])"#
    );
    assert!(!events.contains(&Event::Connected));
    assert_eq!(session.subprotocol(), None);
}

#[test]
fn through_the_sim_each_connection_reports_its_own_subprotocol() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        c.wire = c.wire.clone().subprotocol("v3").subprotocol("v2");
    });
    sim.server.behaviour.subprotocol = Some("v2".into());
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    assert_eq!(sim.client.subprotocol(), Some("v2"));

    // The next connection selects none: the old answer must not linger.
    sim.server.behaviour.subprotocol = None;
    sim.drop_connection();
    assert!(sim.run_until(|s| s.client.subprotocol().is_none(), LIMIT));
    let reconnected =
        |s: &Sim<TestRpc>| s.client.state() == SessionState::Ready && s.client.generation() == 2;
    assert!(sim.run_until(reconnected, LIMIT));
    assert_eq!(sim.client.subprotocol(), None);
}
