//! Subscription scenarios: a session against the fake exchange in virtual
//! time — confirmation only by the server's answer, partial confirmation,
//! notifications, unsubscribing, replay after reconnects, private channels
//! without credentials and subscribing while disconnected.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use wsnova_core::session::{Credentials, Event, SessionState};
use wsnova_tests::sim::{Received, Sim, TestRpc};

const SECOND: Duration = Duration::from_secs(1);

/// A ready session (without credentials) subscribed to `channels`.
fn ready_sim(channels: &[&str]) -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    if !channels.is_empty() {
        sim.subscribe(channels);
    }
    sim.connect();
    assert!(
        sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND),
        "not ready: {:?}",
        sim.events
    );
    sim
}

/// Drops the connection and runs until the next connection is ready.
fn reconnect(sim: &mut Sim<TestRpc>) {
    let before = sim.client.generation();
    sim.drop_connection();
    assert!(
        sim.run_until(
            |s| s.client.generation() > before && s.client.state() == SessionState::Ready,
            5 * SECOND
        ),
        "no reconnect: {:?}",
        sim.events
    );
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn desired(sim: &Sim<TestRpc>) -> BTreeSet<String> {
    sim.client
        .desired_subscriptions()
        .map(String::from)
        .collect()
}

fn confirmed(sim: &Sim<TestRpc>) -> BTreeSet<String> {
    sim.client
        .confirmed_subscriptions()
        .map(String::from)
        .collect()
}

fn received_on(sim: &Sim<TestRpc>, generation: u64) -> Vec<Received> {
    sim.server
        .received
        .iter()
        .filter(|r| r.generation == generation)
        .cloned()
        .collect()
}

/// The `channels` of every request with `method` on connection `generation`.
fn channel_params(sim: &Sim<TestRpc>, generation: u64, method: &str) -> Vec<serde_json::Value> {
    received_on(sim, generation)
        .into_iter()
        .filter(|r| r.method == method)
        .map(|r| r.params["channels"].clone())
        .collect()
}

fn notifications(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notification { channel, data } => {
                Some((channel.clone(), data.as_str().to_owned()))
            }
            _ => None,
        })
        .collect()
}

fn notification_text(channel: &str, data: &serde_json::Value) -> String {
    json!({"jsonrpc": "2.0", "method": "subscription",
           "params": {"channel": channel, "data": data}})
    .to_string()
}

#[test]
fn a_notification_never_confirms_a_channel_only_the_servers_answer_does() {
    let mut sim = ready_sim(&[]);
    let generation = sim.client.generation();
    sim.subscribe(&["ticker.A"]);
    // The exchange pushes data on the channel before it answers the subscribe,
    // and data on a channel nobody asked for.
    let tick = json!({"price": 1});
    sim.server
        .send_text(generation, &notification_text("ticker.A", &tick));
    sim.server
        .send_text(generation, &notification_text("ticker.Z", &tick));

    assert!(sim.run_until(|s| notifications(&s.events).len() == 2, SECOND));
    assert!(
        !sim.events
            .iter()
            .any(|e| matches!(e, Event::Subscribed { .. })),
        "the answer has not arrived yet"
    );
    assert_eq!(confirmed(&sim), set(&[]), "data confirms nothing");
    assert_eq!(desired(&sim), set(&["ticker.A"]));
    assert!(!sim.is_ready_and_consistent());

    assert!(sim.run_until(
        |s| {
            s.events
                .iter()
                .any(|e| matches!(e, Event::Subscribed { .. }))
        },
        SECOND
    ));
    assert_eq!(confirmed(&sim), set(&["ticker.A"]));
    assert!(sim.is_ready_and_consistent());
    assert!(!confirmed(&sim).contains("ticker.Z"));
}

#[test]
fn partial_confirmation_reports_both_and_refused_channels_are_not_retried_after_reconnect() {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    sim.server.behaviour.refused_channels = set(&["ticker.B"]);
    sim.subscribe(&["ticker.A", "ticker.B"]);
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));

    assert_eq!(
        channel_params(&sim, 1, "public/subscribe"),
        [json!(["ticker.A", "ticker.B"])]
    );
    assert!(sim.events.contains(&Event::Subscribed {
        channels: vec!["ticker.A".into()]
    }));
    assert!(sim.events.iter().any(|e| matches!(
        e,
        Event::SubscriptionFailed { channels, .. } if channels == &["ticker.B"]
    )));
    assert_eq!(
        desired(&sim),
        set(&["ticker.A"]),
        "refused left the desired set"
    );
    assert_eq!(confirmed(&sim), set(&["ticker.A"]));

    // Even though the exchange would now accept it, it is not asked again.
    sim.server.behaviour.refused_channels.clear();
    reconnect(&mut sim);
    assert_eq!(
        channel_params(&sim, 2, "public/subscribe"),
        [json!(["ticker.A"])]
    );
    assert_eq!(sim.server.subscriptions(2), set(&["ticker.A"]));
    assert!(sim.is_ready_and_consistent());
}

/// Data can come before the answer and after an unsubscribe (it was in
/// flight): neither makes a channel confirmed, so a refused channel stays
/// refused and a dropped one stays dropped.
#[test]
fn data_before_a_refusal_or_after_an_unsubscribe_confirms_nothing() {
    let mut sim = Sim::new(TestRpc::default(), |_| {});
    sim.server.behaviour.refused_channels = set(&["ticker.B"]);
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));
    let generation = sim.client.generation();
    sim.subscribe(&["ticker.A", "ticker.B"]);
    let tick = json!({"price": 1});
    sim.server
        .send_text(generation, &notification_text("ticker.B", &tick));
    assert!(sim.run_until(
        |s| s.events.iter().any(|e| matches!(
            e,
            Event::SubscriptionFailed { channels, .. } if channels == &["ticker.B"]
        )),
        SECOND
    ));
    assert_eq!(
        notifications(&sim.events).len(),
        1,
        "the early data arrived"
    );
    assert_eq!(confirmed(&sim), set(&["ticker.A"]), "refused, data or not");
    assert_eq!(desired(&sim), set(&["ticker.A"]));

    sim.client
        .unsubscribe(sim.now, &["ticker.A"])
        .expect("unsubscribe");
    assert!(sim.run_until(
        |s| {
            s.events
                .iter()
                .any(|e| matches!(e, Event::Unsubscribed { .. }))
        },
        SECOND
    ));
    sim.server
        .send_text(generation, &notification_text("ticker.A", &tick));
    assert!(sim.run_until(|s| notifications(&s.events).len() == 2, SECOND));
    assert_eq!(confirmed(&sim), set(&[]), "late data does not resubscribe");
    assert_eq!(desired(&sim), set(&[]));
    assert!(sim.is_ready_and_consistent());
}

#[test]
fn notifications_reach_the_app_with_the_data_exactly_as_sent() {
    let mut sim = ready_sim(&["ticker.A", "ticker.B"]);
    sim.take_events();
    let first = json!({"instrument": "A", "price": 101.5, "bids": [[101.0, 2]], "note": "é\"q"});
    let second = json!([1, "two", null, {"nested": true}]);
    let other = json!({"price": 7});
    sim.server.notify("ticker.A", first.clone());
    sim.server.notify("ticker.B", other.clone());
    sim.server.notify("ticker.A", second.clone());
    assert!(sim.run_until(|s| notifications(&s.events).len() == 3, SECOND));

    assert_eq!(
        notifications(&sim.events),
        [
            ("ticker.A".to_owned(), first.to_string()),
            ("ticker.B".to_owned(), other.to_string()),
            ("ticker.A".to_owned(), second.to_string()),
        ]
    );
    let parsed: serde_json::Value = match &sim.events[0] {
        Event::Notification { data, .. } => data.parse().expect("json"),
        other => panic!("{other:?}"),
    };
    assert_eq!(parsed, first);
}

#[test]
fn unsubscribe_sends_unsubscribe_reports_it_and_is_not_replayed_after_reconnect() {
    let mut sim = ready_sim(&["ticker.A", "ticker.B"]);
    sim.take_events();
    sim.client
        .unsubscribe(sim.now, &["ticker.A"])
        .expect("unsubscribe");
    assert_eq!(
        desired(&sim),
        set(&["ticker.B"]),
        "left the desired set at once"
    );

    assert!(sim.run_until(
        |s| {
            s.events
                .iter()
                .any(|e| matches!(e, Event::Unsubscribed { .. }))
        },
        SECOND
    ));
    assert_eq!(
        sim.events,
        [Event::Unsubscribed {
            channels: vec!["ticker.A".into()]
        }]
    );
    assert_eq!(
        channel_params(&sim, 1, "public/unsubscribe"),
        [json!(["ticker.A"])]
    );
    assert_eq!(sim.server.subscriptions(1), set(&["ticker.B"]));
    assert_eq!(confirmed(&sim), set(&["ticker.B"]));
    assert!(sim.is_ready_and_consistent());

    // Data on the dropped channel no longer arrives.
    sim.server.notify("ticker.A", json!({"price": 1}));
    sim.server.notify("ticker.B", json!({"price": 2}));
    assert!(sim.run_until(|s| !notifications(&s.events).is_empty(), SECOND));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(
        notifications(&sim.events),
        [("ticker.B".to_owned(), r#"{"price":2}"#.to_owned())]
    );

    reconnect(&mut sim);
    assert_eq!(
        channel_params(&sim, 2, "public/subscribe"),
        [json!(["ticker.B"])]
    );
    assert!(channel_params(&sim, 2, "public/unsubscribe").is_empty());
    assert_eq!(sim.server.subscriptions(2), set(&["ticker.B"]));
    assert!(sim.is_ready_and_consistent());
}

#[test]
fn after_every_reconnect_confirmed_equals_desired_once_ready() {
    let mut sim = Sim::new(TestRpc::default(), |config| {
        config.credentials = Some(Credentials::new("client", "s3cret"));
    });
    sim.subscribe(&["user.orders", "ticker.A", "ticker.B"]);
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));
    assert!(sim.is_ready_and_consistent());

    for round in 0..6u64 {
        let before = sim.client.generation();
        // Vary the set between connections, and the way connections end.
        match round {
            1 => sim.subscribe(&["ticker.C"]),
            3 => sim
                .client
                .unsubscribe(sim.now, &["ticker.A"])
                .expect("unsubscribe"),
            // Subscribed on a connection that dies before the request arrives.
            4 => sim.subscribe(&["ticker.D"]),
            _ => {}
        }
        if round % 2 == 0 {
            sim.drop_connection();
        } else {
            sim.run_for(Duration::from_millis(50));
            sim.server.close(before, 1012, "restart");
        }
        // Stop at the very first instant the new connection is ready.
        assert!(
            sim.run_until(
                |s| s.client.generation() > before && s.client.state() == SessionState::Ready,
                // Rapid losses grow the backoff (the streak only ends after a stable Ready).
                60 * SECOND
            ),
            "round {round}: {:?}",
            sim.events
        );
        assert!(
            sim.is_ready_and_consistent(),
            "round {round}: confirmed {:?} desired {:?}",
            confirmed(&sim),
            desired(&sim)
        );
        assert_eq!(
            sim.server.subscriptions(sim.client.generation()),
            desired(&sim),
            "round {round}"
        );
    }
    assert_eq!(
        desired(&sim),
        set(&["ticker.B", "ticker.C", "ticker.D", "user.orders"])
    );
}

#[test]
fn private_subscribe_without_credentials_fails_and_the_rest_still_gets_ready() {
    let mut sim = ready_sim(&["user.orders", "ticker.A"]);
    let received = received_on(&sim, 1);
    assert_eq!(received[0].method, "private/subscribe");
    assert!(!received[0].authed);

    let failed: Vec<&Event> = sim
        .events
        .iter()
        .filter(|e| matches!(e, Event::SubscriptionFailed { .. }))
        .collect();
    match &failed[..] {
        [Event::SubscriptionFailed { channels, error }] => {
            assert_eq!(channels, &["user.orders"]);
            assert!(error.contains("13009"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(sim.events.contains(&Event::Subscribed {
        channels: vec!["ticker.A".into()]
    }));
    assert_eq!(desired(&sim), set(&["ticker.A"]));
    assert!(sim.is_ready_and_consistent());

    // Not retried on the next connection either.
    reconnect(&mut sim);
    assert!(channel_params(&sim, 2, "private/subscribe").is_empty());
    assert!(sim.is_ready_and_consistent());
}

#[test]
fn subscribing_while_backing_off_is_replayed_on_the_next_connection() {
    let mut sim = ready_sim(&["ticker.A"]);
    sim.drop_connection();
    assert!(sim.run_until(|s| s.client.state() == SessionState::BackingOff, SECOND));
    sim.take_events();
    let before = sim.server.received.len();
    sim.subscribe(&["ticker.B"]);
    assert_eq!(sim.server.received.len(), before, "nothing to send it on");
    assert_eq!(desired(&sim), set(&["ticker.A", "ticker.B"]));
    assert_eq!(confirmed(&sim), set(&[]));

    assert!(sim.run_until(
        |s| s.client.generation() == 2 && s.client.state() == SessionState::Ready,
        5 * SECOND
    ));
    assert_eq!(
        channel_params(&sim, 2, "public/subscribe"),
        [json!(["ticker.A", "ticker.B"])]
    );
    assert!(sim.events.contains(&Event::Subscribed {
        channels: vec!["ticker.A".into(), "ticker.B".into()]
    }));
    assert!(sim.is_ready_and_consistent());
    assert_eq!(sim.server.subscriptions(2), set(&["ticker.A", "ticker.B"]));
}

#[test]

fn resubscribing_while_the_unsubscribe_is_in_flight_ends_subscribed() {
    let mut sim = ready_sim(&["ticker.A"]);
    sim.take_events();
    sim.client
        .unsubscribe(sim.now, &["ticker.A"])
        .expect("unsubscribe");
    // Changed our mind before the exchange answered the unsubscribe.
    sim.subscribe(&["ticker.A"]);
    assert_eq!(desired(&sim), set(&["ticker.A"]));
    sim.run_for(SECOND);

    assert_eq!(
        channel_params(&sim, 1, "public/unsubscribe"),
        [json!(["ticker.A"])]
    );
    assert_eq!(
        sim.server.subscriptions(1),
        set(&["ticker.A"]),
        "the exchange must be asked again: {:?}",
        sim.server.received
    );
    assert!(
        sim.is_ready_and_consistent(),
        "confirmed {:?} desired {:?}",
        confirmed(&sim),
        desired(&sim)
    );
}

#[test]

fn unsubscribing_during_the_replay_is_settled_before_ready() {
    let mut sim = ready_sim(&["ticker.A", "ticker.B"]);
    sim.drop_connection();
    // Wait until the replay is on its way, then drop one channel.
    assert!(sim.run_until(
        |s| s.client.generation() == 2 && s.client.state() == SessionState::Restoring,
        5 * SECOND
    ));
    sim.client
        .unsubscribe(sim.now, &["ticker.A"])
        .expect("unsubscribe");
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));
    assert!(
        sim.is_ready_and_consistent(),
        "confirmed {:?} desired {:?}",
        confirmed(&sim),
        desired(&sim)
    );
    assert_eq!(sim.server.subscriptions(2), set(&["ticker.B"]));
}
