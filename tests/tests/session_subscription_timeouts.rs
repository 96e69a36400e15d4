//! Subscription requests that time out or are refused, against the fake
//! exchange in virtual time: an unanswered subscribe is asked again, an
//! unanswered unsubscribe of a channel wanted again is not, and an
//! unsubscribe refusal is reported unless the token was to blame.

use std::time::Duration;

use wsnova_core::session::{DisconnectReason, Event};
use wsnova_tests::sim::{Sim, TestRpc};

/// The default `request_timeout`.
const TIMEOUT: Duration = Duration::from_secs(10);

fn ready() -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    sim.connect_until_ready();
    sim
}

fn confirmed(sim: &Sim<TestRpc>) -> Vec<String> {
    sim.client
        .confirmed_subscriptions()
        .map(str::to_owned)
        .collect()
}

/// Subscribes `ticker.A` and waits for its confirmation.
fn subscribed() -> Sim<TestRpc> {
    let mut sim = ready();
    sim.subscribe(&["ticker.A"]);
    sim.drive();
    assert_eq!(confirmed(&sim), ["ticker.A"]);
    sim
}

#[test]
fn a_subscribe_answered_only_after_its_timeout_is_asked_again() {
    let mut sim = ready();
    // The request takes twice the timeout to arrive; later packets none.
    sim.latency = 2 * TIMEOUT;
    sim.subscribe(&["ticker.A"]);
    sim.step();
    sim.latency = Duration::ZERO;
    sim.run_for(3 * TIMEOUT);
    // Asked again at the timeout (the stream delivers it after the first).
    assert!(sim.server.count("public/subscribe") >= 2);
    assert_eq!(confirmed(&sim), ["ticker.A"]);
}

#[test]
fn an_unanswered_unsubscribe_of_a_channel_wanted_again_is_not_repeated() {
    let mut sim = subscribed();
    sim.server.behaviour.swallow_unsubscribes = 1;
    sim.client.unsubscribe(sim.now, &["ticker.A"]).unwrap();
    sim.drive();
    sim.subscribe(&["ticker.A"]);
    sim.run_for(2 * TIMEOUT);
    assert_eq!(sim.server.count("public/unsubscribe"), 1);
    assert_eq!(confirmed(&sim), ["ticker.A"]);
    assert!(
        !sim.events
            .iter()
            .any(|e| matches!(e, Event::Unsubscribed { .. }))
    );
}

/// Refuses the unsubscribe request the server just swallowed with `error`.
fn refuse_last_unsubscribe(sim: &mut Sim<TestRpc>, error: &str) {
    let last = sim.server.received.last().expect("a request").clone();
    assert_eq!(last.method, "public/unsubscribe");
    let id = last.id.expect("an id");
    let answer = format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{error}}}"#);
    sim.server.send_text(last.generation, &answer);
    sim.drive();
}

#[test]
fn a_refused_unsubscribe_is_reported() {
    let mut sim = subscribed();
    sim.server.behaviour.swallow_unsubscribes = 1;
    sim.client.unsubscribe(sim.now, &["ticker.A"]).unwrap();
    sim.drive();
    refuse_last_unsubscribe(&mut sim, r#"{"code":-32000,"message":"nope"}"#);
    let failed: Vec<_> = sim
        .events
        .iter()
        .filter_map(|e| match e {
            Event::SubscriptionFailed { channels, error } => {
                Some((channels.clone(), error.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        failed,
        [(
            vec!["ticker.A".to_owned()],
            "unsubscribe refused: nope".to_owned()
        )]
    );
}

#[test]
fn an_unsubscribe_refused_for_its_token_replaces_the_connection_without_a_failure() {
    let mut sim = subscribed();
    sim.server.behaviour.swallow_unsubscribes = 1;
    sim.client.unsubscribe(sim.now, &["ticker.A"]).unwrap();
    sim.drive();
    refuse_last_unsubscribe(
        &mut sim,
        r#"{"code":13009,"message":"invalid_token","data":{"reason":"token has expired"}}"#,
    );
    assert!(
        sim.events.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                reason: DisconnectReason::AuthFailed(_),
                ..
            }
        )),
        "{:?}",
        sim.events
    );
    assert!(
        !sim.events
            .iter()
            .any(|e| matches!(e, Event::SubscriptionFailed { .. })),
        "{:?}",
        sim.events
    );
}

#[test]
fn an_unsubscribe_answered_while_closing_is_reported_and_the_close_completes() {
    let mut sim = subscribed();
    sim.latency = Duration::from_millis(50);
    sim.client.unsubscribe(sim.now, &["ticker.A"]).unwrap();
    sim.step();
    // The close follows the unsubscribe on the stream; its answer comes
    // back while the session is closing.
    sim.client
        .close(sim.now, wsnova_core::wire::CloseCode::NORMAL, "bye")
        .unwrap();
    sim.run_for(TIMEOUT);
    assert_eq!(sim.server.count("public/unsubscribe"), 1);
    let unsubscribed = sim
        .events
        .iter()
        .position(|e| matches!(e, Event::Unsubscribed { channels } if channels == &["ticker.A"]));
    let closed = sim
        .events
        .iter()
        .position(|e| matches!(e, Event::Closed { .. }));
    assert!(
        matches!((unsubscribed, closed), (Some(u), Some(c)) if u < c),
        "{:?}",
        sim.events
    );
}
