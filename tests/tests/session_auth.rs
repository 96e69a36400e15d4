//! Authentication scenarios: a session against the fake exchange in virtual
//! time — auth before anything else on every connection, token expiry and
//! refresh, refused refreshes, fatal and transient auth failures, and
//! authenticating a live connection.

use std::time::Duration;

use serde_json::json;
use wsnova_core::session::{
    CloseReason, Credentials, DisconnectReason, Event, Initiator, RequestError, RequestId,
    SessionError, SessionState,
};
use wsnova_tests::sim::{Received, Sim, TestRpc};

const SECOND: Duration = Duration::from_secs(1);

fn credentials() -> Credentials {
    Credentials::new("client", "s3cret")
}

/// A simulation whose session authenticates with `credentials`.
fn sim_with(credentials: Option<Credentials>) -> Sim<TestRpc> {
    Sim::new(TestRpc::default(), move |config| {
        config.credentials = credentials;
    })
}

/// Connects and runs until the session is ready.
fn connect_until_ready(sim: &mut Sim<TestRpc>) {
    sim.connect();
    assert!(
        sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND),
        "not ready: {:?}",
        sim.events
    );
}

/// What the server received on connection `generation`, in order.
fn received_on(sim: &Sim<TestRpc>, generation: u64) -> Vec<Received> {
    sim.server
        .received
        .iter()
        .filter(|r| r.generation == generation)
        .cloned()
        .collect()
}

fn methods(received: &[Received]) -> Vec<&str> {
    received.iter().map(|r| r.method.as_str()).collect()
}

/// The `grant_type` of every `public/auth` the server received, in order.
fn grants(sim: &Sim<TestRpc>) -> Vec<String> {
    sim.server
        .received
        .iter()
        .filter(|r| r.method == "public/auth")
        .map(|r| r.params["grant_type"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn authenticated_count(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Authenticated { .. }))
        .count()
}

fn disconnects(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Disconnected { .. }))
        .count()
}

fn index_of(events: &[Event], what: impl Fn(&Event) -> bool) -> usize {
    events
        .iter()
        .position(what)
        .unwrap_or_else(|| panic!("event missing from {events:?}"))
}

fn outcome_of(events: &[Event], id: RequestId) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| {
            matches!(e, Event::Response { id: i, .. } | Event::RequestFailed { id: i, .. } if *i == id)
        })
        .collect()
}

#[test]
fn reconnect_reauthenticates_then_replays_private_then_public_subscriptions() {
    let mut sim = sim_with(Some(credentials()));
    sim.subscribe(&["user.orders", "ticker.A"]);
    connect_until_ready(&mut sim);
    let first = sim.client.generation();
    assert_eq!(
        methods(&received_on(&sim, first)),
        ["public/auth", "private/subscribe", "public/subscribe"]
    );
    assert!(sim.is_ready_and_consistent());

    // The exchange drops the connection; while the client waits to reconnect,
    // the application makes a private request.
    sim.drop_connection();
    assert!(sim.run_until(|s| s.client.state() == SessionState::BackingOff, SECOND));
    sim.take_events();
    let order = sim.request("private/get_position", "{}");
    assert!(
        sim.run_until(
            |s| s.client.generation() > first && s.client.state() == SessionState::Ready,
            5 * SECOND
        ),
        "no reconnect: {:?}",
        sim.events
    );
    assert!(sim.is_ready_and_consistent());
    assert!(sim.run_until(|s| !outcome_of(&s.events, order).is_empty(), SECOND));

    // The new connection carries: auth, private replay, public replay, then
    // the application's request.
    let second = sim.client.generation();
    let replay = received_on(&sim, second);
    assert_eq!(
        methods(&replay),
        [
            "public/auth",
            "private/subscribe",
            "public/subscribe",
            "private/get_position"
        ]
    );
    assert_eq!(replay[0].params["grant_type"], "client_credentials");
    assert_eq!(replay[1].params["channels"], json!(["user.orders"]));
    assert_eq!(replay[2].params["channels"], json!(["ticker.A"]));
    assert!(!replay[0].authed, "auth is the first thing on a connection");
    for r in &replay[1..] {
        assert!(r.authed, "{} arrived before auth", r.method);
    }
    assert!(matches!(
        outcome_of(&sim.events, order)[..],
        [Event::Response { .. }]
    ));
    assert_eq!(
        sim.server.subscriptions(second),
        ["ticker.A", "user.orders"].map(String::from).into()
    );

    // The application hears it in the same order.
    let events = &sim.events;
    let reconnecting = index_of(events, |e| matches!(e, Event::Reconnecting { .. }));
    let authenticated = index_of(events, |e| matches!(e, Event::Authenticated { .. }));
    let private = index_of(
        events,
        |e| matches!(e, Event::Subscribed { channels } if channels == &["user.orders"]),
    );
    let public = index_of(
        events,
        |e| matches!(e, Event::Subscribed { channels } if channels == &["ticker.A"]),
    );
    let ready = index_of(events, |e| matches!(e, Event::Ready));
    assert!(reconnecting < authenticated);
    assert!(authenticated < private && private < public && public < ready);
}

#[test]
fn authenticated_reports_expiry_as_response_time_plus_token_lifetime() {
    let mut sim = sim_with(Some(credentials()));
    sim.connect();
    assert!(sim.run_until(|s| authenticated_count(&s.events) == 1, SECOND));
    // `run_until` stops at the instant the answer was handled.
    let answered_at = sim.now;
    let expires_at = sim.events.iter().find_map(|e| match e {
        Event::Authenticated { expires_at } => Some(*expires_at),
        _ => None,
    });
    assert_eq!(
        expires_at,
        Some(Some(answered_at + Duration::from_secs(900)))
    );
    assert!(sim.client.is_authenticated());
}

#[test]
fn token_is_refreshed_at_eighty_percent_of_its_life_without_disconnecting() {
    let mut sim = sim_with(Some(credentials()));
    sim.server.behaviour.token_lifetime = 100;
    sim.connect();
    assert!(sim.run_until(|s| authenticated_count(&s.events) == 1, SECOND));
    let authenticated_at = sim.now;
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));

    // Nothing happens just before 80 s.
    let refresh_due = authenticated_at + 80 * SECOND;
    sim.run_for(refresh_due - Duration::from_millis(1) - sim.now);
    assert_eq!(grants(&sim), ["client_credentials"]);

    // The refresh arrives at 80 s (plus the one-way latency).
    assert!(sim.run_until(|s| grants(s).len() == 2, SECOND));
    assert_eq!(grants(&sim), ["client_credentials", "refresh_token"]);
    assert_eq!(sim.now, refresh_due + sim.latency);
    let refresh = sim.server.received.last().expect("refresh");
    assert_eq!(refresh.params["refresh_token"], "rt-1");

    // A new token, with a new expiry, on the same connection.
    assert!(sim.run_until(|s| authenticated_count(&s.events) == 2, SECOND));
    let renewed = sim.events.iter().rev().find_map(|e| match e {
        Event::Authenticated { expires_at } => Some(*expires_at),
        _ => None,
    });
    assert_eq!(renewed, Some(Some(sim.now + 100 * SECOND)));
    assert_eq!(sim.dials.len(), 1);
    assert_eq!(disconnects(&sim.events), 0, "{:?}", sim.events);
    assert_eq!(sim.client.state(), SessionState::Ready);
    assert!(sim.client.is_authenticated());

    // And the next refresh follows 80 s after that, with the new refresh token.
    sim.run_for(81 * SECOND);
    assert_eq!(
        grants(&sim),
        ["client_credentials", "refresh_token", "refresh_token"]
    );
    assert_eq!(
        sim.server.received.last().expect("refresh").params["refresh_token"],
        "rt-2"
    );
    assert_eq!(authenticated_count(&sim.events), 3);
    assert_eq!(sim.dials.len(), 1);
}

#[test]
fn refused_refresh_falls_back_to_client_credentials_on_the_same_connection() {
    let mut sim = sim_with(Some(credentials()));
    sim.server.behaviour.token_lifetime = 100;
    connect_until_ready(&mut sim);
    // The exchange will refuse the refresh token.
    sim.server.behaviour.auth_failures = [13004].into();

    assert!(sim.run_until(|s| authenticated_count(&s.events) == 2, 100 * SECOND));
    assert_eq!(
        grants(&sim),
        ["client_credentials", "refresh_token", "client_credentials"]
    );
    let generation = sim.client.generation();
    assert!(
        sim.server
            .received
            .iter()
            .all(|r| r.generation == generation),
        "everything on one connection"
    );
    assert!(
        !sim.events.iter().any(|e| matches!(
            e,
            Event::AuthFailed { fatal: true, .. } | Event::Closed { .. }
        )),
        "{:?}",
        sim.events
    );
    assert_eq!(disconnects(&sim.events), 0, "{:?}", sim.events);
    assert_eq!(sim.dials.len(), 1);
    assert_eq!(sim.client.state(), SessionState::Ready);
    assert!(sim.client.is_authenticated());

    // The fresh token is refreshed in turn.
    sim.run_for(81 * SECOND);
    assert_eq!(
        grants(&sim).last().map(String::as_str),
        Some("refresh_token")
    );
    assert_eq!(authenticated_count(&sim.events), 3);
}

#[test]
fn wrong_secret_is_a_fatal_auth_failure_that_closes_without_reconnecting() {
    let mut sim = sim_with(Some(Credentials::new("client", "wrong")));
    sim.connect();
    assert!(
        sim.run_until(|s| s.client.state() == SessionState::Closed, SECOND),
        "{:?}",
        sim.events
    );
    let failed = index_of(
        &sim.events,
        |e| matches!(e, Event::AuthFailed { fatal: true, error } if error == "invalid_credentials"),
    );
    let closed = index_of(&sim.events, |e| {
        matches!(
            e,
            Event::Closed {
                reason: CloseReason::Stopped(DisconnectReason::AuthFailed(_))
            }
        )
    });
    assert!(failed < closed);
    assert_eq!(closed, sim.events.len() - 1, "nothing follows Closed");
    assert!(sim.events.iter().all(|e| !matches!(
        e,
        Event::Disconnected {
            reconnect_in: Some(_),
            ..
        } | Event::Authenticated { .. }
            | Event::Ready
    )));
    assert!(!sim.client.is_authenticated());

    // No reconnect, ever.
    sim.run_for(600 * SECOND);
    assert_eq!(sim.dials.len(), 1);
    assert_eq!(sim.server.count("public/auth"), 1);
    assert!(
        !sim.events
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. }))
    );
    assert_eq!(sim.client.state(), SessionState::Closed);
    assert_eq!(
        sim.client.request(sim.now, "echo", "{}"),
        Err(SessionError::Closed)
    );
}

#[test]
fn transient_auth_failure_disconnects_and_the_next_attempt_gets_ready() {
    let mut sim = sim_with(Some(credentials()));
    sim.server.behaviour.auth_failures = [10500].into();
    sim.connect();
    assert!(
        sim.run_until(|s| s.client.state() == SessionState::Ready, 5 * SECOND),
        "{:?}",
        sim.events
    );

    let failed = index_of(&sim.events, |e| {
        matches!(e, Event::AuthFailed { fatal: false, .. })
    });
    let disconnected = index_of(&sim.events, |e| {
        matches!(
            e,
            Event::Disconnected {
                reason: DisconnectReason::AuthFailed(_),
                initiator: Initiator::Library,
                reconnect_in: Some(_),
            }
        )
    });
    let reconnecting = index_of(&sim.events, |e| {
        matches!(e, Event::Reconnecting { attempt: 1 })
    });
    let authenticated = index_of(&sim.events, |e| matches!(e, Event::Authenticated { .. }));
    let ready = index_of(&sim.events, |e| matches!(e, Event::Ready));
    assert!(failed < disconnected && disconnected < reconnecting);
    assert!(reconnecting < authenticated && authenticated < ready);
    assert!(!sim.events.iter().any(|e| matches!(e, Event::Closed { .. })));

    assert_eq!(sim.dials.len(), 2);
    assert_eq!(sim.client.generation(), 2);
    let auths: Vec<u64> = sim
        .server
        .received
        .iter()
        .filter(|r| r.method == "public/auth")
        .map(|r| r.generation)
        .collect();
    assert_eq!(auths, [1, 2]);
    assert!(sim.client.is_authenticated());
    sim.run_for(std::time::Duration::from_secs(2));
    assert_eq!(
        sim.client.failed_attempts(),
        0,
        "a stable Ready ends the streak"
    );
}

#[test]
fn authenticate_while_ready_authenticates_the_live_connection() {
    let mut sim = sim_with(None);
    connect_until_ready(&mut sim);
    assert!(!sim.client.is_authenticated());

    // Without auth, private methods are refused.
    let refused = sim.request("private/get_position", "{}");
    assert!(sim.run_until(|s| !outcome_of(&s.events, refused).is_empty(), SECOND));
    assert!(matches!(
        outcome_of(&sim.events, refused)[..],
        [Event::RequestFailed {
            error: RequestError::Rejected(e),
            ..
        }] if e.code == 13009
    ));

    sim.client
        .authenticate(sim.now, credentials())
        .expect("authenticate");
    assert!(sim.run_until(|s| authenticated_count(&s.events) == 1, SECOND));
    assert!(sim.client.is_authenticated());
    assert_eq!(grants(&sim), ["client_credentials"]);
    assert_eq!(sim.server.received.last().map(|r| r.generation), Some(1));

    let allowed = sim.request("private/get_position", "{}");
    assert!(sim.run_until(|s| !outcome_of(&s.events, allowed).is_empty(), SECOND));
    match &outcome_of(&sim.events, allowed)[..] {
        [Event::Response { result, .. }] => {
            let value: serde_json::Value = result.parse().expect("json");
            assert_eq!(value, json!({"method": "private/get_position"}));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.dials.len(), 1);
    assert_eq!(disconnects(&sim.events), 0);
    assert_eq!(sim.client.state(), SessionState::Ready);
}

#[test]
fn a_lost_connection_takes_its_token_with_it() {
    let mut sim = sim_with(Some(credentials()));
    connect_until_ready(&mut sim);
    assert!(sim.client.is_authenticated());
    sim.drop_connection();
    assert!(sim.run_until(|s| disconnects(&s.events) == 1, SECOND));
    assert!(!sim.client.is_authenticated(), "not on the next connection");
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, 10 * SECOND));
    assert!(sim.client.is_authenticated());
}

#[test]
fn a_request_waiting_for_a_failed_reauthentication_fails_with_its_refusal() {
    let mut sim = sim_with(Some(credentials()));
    connect_until_ready(&mut sim);
    // The token has expired: a private call is refused for it and waits
    // for a new token; both ways of getting one fail (a transient 10500).
    sim.server.expire_tokens();
    sim.server.behaviour.auth_failures = [10500, 10500].into();
    let id = sim.request("private/get_position", "{}");
    assert!(sim.run_until(|s| !outcome_of(&s.events, id).is_empty(), 10 * SECOND));
    let outcome = outcome_of(&sim.events, id);
    assert!(
        matches!(
            outcome[..],
            [Event::RequestFailed { error: RequestError::Rejected(e), .. }] if e.code == 13009
        ),
        "{:?}",
        sim.events
    );
    // Exactly one outcome, also after the session is ready again.
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, 10 * SECOND));
    sim.run_for(20 * SECOND);
    assert_eq!(outcome_of(&sim.events, id).len(), 1);
}
