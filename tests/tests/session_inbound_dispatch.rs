//! The inbound dispatch and the restore's bookkeeping, against the fake
//! exchange in virtual time: every data message counted, platform-heartbeat
//! replies kept out of the request latency, an auth refusal never taken for
//! the end of the session, the restore waiting for its setup request, and an
//! unsubscribe of channels never subscribed sending nothing.

use std::time::Duration;

use wsnova_core::session::{Credentials, DisconnectReason, Event, SessionState};
use wsnova_tests::sim::{Sim, TestRpc};

const SECOND: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

fn ready(adapter: TestRpc, credentials: Option<Credentials>) -> Sim<TestRpc> {
    let mut sim = Sim::new(adapter, move |config| config.credentials = credentials);
    sim.connect_until_ready();
    sim
}

#[test]
fn every_text_message_counts_once_in_messages_in() {
    let mut sim = ready(TestRpc::default(), None);
    let before = sim.client.stats().messages_in;
    let generation = sim.client.generation();
    for n in 0..3 {
        sim.server
            .send_text(generation, &format!(r#"{{"hello":{n}}}"#));
    }
    sim.drive();
    let others = sim
        .events
        .iter()
        .filter(|e| matches!(e, Event::Message(_)))
        .count();
    assert_eq!(others, 3, "{:?}", sim.events);
    assert_eq!(sim.client.stats().messages_in, before + 3);
}

#[test]
fn heartbeat_replies_stay_out_of_the_request_latency() {
    let mut sim = ready(TestRpc::default(), None);
    let before = sim.client.stats().request_latency.samples;
    let generation = sim.client.generation();
    sim.server.test_request(generation);
    sim.drive();
    assert_eq!(sim.server.count("public/test"), 1, "the reply went out");
    assert_eq!(sim.client.pending_requests(), 0, "and was answered");
    assert_eq!(sim.client.stats().request_latency.samples, before);
    let id = sim.request("echo", "{}");
    sim.drive();
    assert!(
        sim.events
            .iter()
            .any(|e| matches!(e, Event::Response { id: i, .. } if *i == id))
    );
    assert_eq!(sim.client.stats().request_latency.samples, before + 1);
}

/// A refused refresh is the auth's business (it falls back to the client
/// credentials), even when the adapter calls its code session-ending.
#[test]
fn a_refused_refresh_never_ends_the_session() {
    let adapter = TestRpc {
        session_ending_codes: vec![13004],
        ..TestRpc::default()
    };
    let mut sim = ready(adapter, Some(Credentials::new("client", "s3cret")));
    sim.server.behaviour.token_lifetime = 100;
    sim.server.behaviour.auth_failures = [13004].into();
    let authenticated = |s: &Sim<TestRpc>| {
        s.events
            .iter()
            .filter(|e| matches!(e, Event::Authenticated { .. }))
            .count()
    };
    // The first token (one hour) is refreshed once, refused, then replaced.
    assert!(sim.run_until(|s| authenticated(s) == 2, 4_000 * SECOND));
    assert!(
        !sim.events.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                reason: DisconnectReason::SessionEnded(_),
                ..
            }
        )),
        "{:?}",
        sim.events
    );
    assert_eq!(sim.dials.len(), 1);
}

/// Virtual time from `connect` to `Ready` over a path of 20 ms each way.
fn time_to_ready(adapter: TestRpc) -> Duration {
    let mut sim = Sim::new(adapter, |_| {});
    sim.latency = 20 * MS;
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));
    sim.elapsed()
}

#[test]
fn ready_waits_one_round_trip_for_the_setup_request() {
    let plain = time_to_ready(TestRpc::default());
    let with_setup = time_to_ready(TestRpc {
        heartbeat_interval: Some(10),
        ..TestRpc::default()
    });
    assert_eq!(with_setup, plain + 40 * MS);
}

#[test]
fn unsubscribing_what_was_never_subscribed_sends_nothing() {
    let mut sim = ready(TestRpc::default(), None);
    let now = sim.now;
    sim.client
        .unsubscribe(now, &["book.never"])
        .expect("unsubscribe");
    sim.drive();
    assert_eq!(sim.server.count("public/unsubscribe"), 0);
    assert_eq!(sim.server.count("private/unsubscribe"), 0);
    assert_eq!(sim.client.state(), SessionState::Ready);
}

/// A platform heartbeat's reply refused with a code that, per the adapter,
/// ends the server's session: the session is over on this connection.
#[test]
fn a_session_ending_refusal_of_a_heartbeat_reply_ends_the_session() {
    let adapter = TestRpc {
        session_ending_codes: vec![-32000],
        ..TestRpc::default()
    };
    let mut sim = ready(adapter, None);
    let echo = sim.request("echo", "{}");
    sim.drive();
    let generation = sim.client.generation();
    // The reply to the next test_request takes the next id; the refusal
    // follows the test_request on the same stream.
    sim.server.test_request(generation);
    let refusal = format!(
        r#"{{"jsonrpc":"2.0","id":{},"error":{{"code":-32000,"message":"session over"}}}}"#,
        echo.0 + 1
    );
    sim.server.send_text(generation, &refusal);
    sim.drive();
    assert!(
        sim.events.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                reason: DisconnectReason::SessionEnded(err),
                ..
            } if err.code == -32000
        )),
        "{:?}",
        sim.events
    );
}

/// A heartbeat reply is in flight until answered (or `request_timeout`).
#[test]
fn a_heartbeat_reply_stays_pending_until_its_answer() {
    let mut sim = ready(TestRpc::default(), None);
    sim.latency = 20 * MS;
    let generation = sim.client.generation();
    sim.server.test_request(generation);
    assert!(sim.run_until(|s| s.server.count("public/test") == 1, SECOND));
    assert_eq!(sim.client.pending_requests(), 1);
    sim.drive();
    assert_eq!(sim.client.pending_requests(), 0);
}

#[test]
fn every_binary_message_counts_once_in_messages_in() {
    let mut sim = ready(TestRpc::default(), None);
    let before = sim.client.stats().messages_in;
    let generation = sim.client.generation();
    for n in 0..3u8 {
        sim.server.send_binary(generation, &[0xff, n]);
    }
    sim.drive();
    let binaries = sim
        .events
        .iter()
        .filter(|e| matches!(e, Event::Message(m) if m.is_binary()))
        .count();
    assert_eq!(binaries, 3, "{:?}", sim.events);
    assert_eq!(sim.client.stats().messages_in, before + 3);
}

#[test]
fn a_protocol_violation_fails_the_connection_after_exactly_the_linger() {
    let mut sim = ready(TestRpc::default(), None);
    let generation = sim.client.generation();
    // Opcode 3 is reserved (RFC 6455 §5.2): the connection must fail.
    sim.server.send_raw(generation, &[0x83, 0x00]);
    let sent_at = sim.now;
    let lost = |s: &Sim<TestRpc>| {
        s.events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. }))
    };
    assert!(sim.run_until(lost, SECOND));
    // Replies to what came before may leave for 100 ms after it arrives.
    assert_eq!(sim.now - sent_at, sim.latency + 100 * MS);
    assert!(
        sim.events.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                reason: DisconnectReason::Wire(_),
                ..
            }
        )),
        "{:?}",
        sim.events
    );
}
