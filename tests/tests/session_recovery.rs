//! Refusals that pass, and missed updates: an expired token is refreshed and
//! the request sent once more; a rate-limit refusal waits and retries; a gap
//! in a book's sequence resubscribes the channel for a fresh snapshot.

use std::time::Duration;

use serde_json::json;
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Credentials, Event, RequestError, SessionState,
};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(30);

fn ready_sim() -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        c.credentials = Some(Credentials::new("client", "s3cret"));
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    sim.take_events();
    sim
}

fn outcomes(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| matches!(e, Event::Response { .. } | Event::RequestFailed { .. }))
        .collect()
}

#[test]
fn an_expired_token_is_refreshed_and_the_request_sent_once_more() {
    let mut sim = ready_sim();
    sim.server.expire_tokens();
    let id = sim.request("private/get_positions", "{}");
    sim.drive();
    let events = sim.take_events();
    assert!(
        matches!(outcomes(&events)[..], [Event::Response { id: i, .. }] if *i == id),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Authenticated { .. }))
    );
    assert_eq!(
        sim.server.count("private/get_positions"),
        2,
        "refused once, then answered"
    );
    let grants: Vec<_> = sim
        .server
        .received
        .iter()
        .filter(|r| r.method == "public/auth")
        .map(|r| r.params["grant_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(grants, ["client_credentials", "refresh_token"]);
    assert_eq!(sim.dials.len(), 1, "no reconnect needed");
}

#[test]
fn a_request_refused_for_an_expired_token_twice_fails_with_the_refusal() {
    let mut sim = ready_sim();
    sim.server.expire_tokens();
    let id = sim.request("private/get_positions", "{}");
    // Expire again as soon as the refresh lands: the retry is refused too.
    assert!(sim.run_until(|s| s.server.count("public/auth") == 2, LIMIT));
    sim.server.expire_tokens();
    sim.drive();
    let events = sim.take_events();
    match outcomes(&events)[..] {
        [
            Event::RequestFailed {
                id: i,
                error: RequestError::Rejected(e),
            },
        ] => {
            assert_eq!((*i, e.code), (id, 13009));
        }
        ref other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.server.count("private/get_positions"),
        2,
        "retried once only"
    );
}

#[test]
fn a_subscription_refused_for_its_token_after_a_refresh_is_kept_and_restored() {
    let mut sim = ready_sim();
    sim.server.expire_tokens();
    sim.subscribe(&["user.orders"]);
    // Expire again as soon as the refresh lands: the retried subscribe is
    // refused too. That is the token's fault, not the channel's.
    assert!(sim.run_until(|s| s.server.count("public/auth") == 2, LIMIT));
    sim.server.expire_tokens();
    assert!(sim.run_until(|s| s.dials.len() == 2, LIMIT), "a reconnect");
    assert!(sim.run_until(|s| s.is_ready_and_consistent(), LIMIT));
    let events = sim.take_events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::SubscriptionFailed { .. })),
        "{events:?}"
    );
    assert!(
        sim.client
            .confirmed_subscriptions()
            .any(|c| c == "user.orders"),
        "confirmed again on the new connection"
    );
    assert_eq!(
        sim.server.count("private/subscribe"),
        3,
        "refused twice, then confirmed"
    );
}

#[test]
fn a_channel_refused_for_its_token_on_a_fresh_connection_too_fails_without_a_reconnect_loop() {
    let mut sim = ready_sim();
    sim.server
        .behaviour
        .token_refused_channels
        .insert("user.orders".into());
    sim.subscribe(&["user.orders", "ticker.A"]);
    // Refused after the refresh: one reconnect; refused again on the fresh
    // connection with a fresh token: the refusal is the channel's.
    assert!(sim.run_until(
        |s| {
            s.events
                .iter()
                .any(|e| matches!(e, Event::SubscriptionFailed { .. }))
        },
        LIMIT
    ));
    assert!(sim.run_until(|s| s.is_ready_and_consistent(), LIMIT));
    sim.run_for(Duration::from_secs(30));
    assert_eq!(sim.dials.len(), 2, "one reconnect, not a loop");
    let events = sim.take_events();
    let failed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::SubscriptionFailed { channels, .. } => Some(channels.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(failed, [vec!["user.orders".to_string()]]);
    assert!(sim.client.confirmed_subscriptions().eq(["ticker.A"]));
}

#[test]
fn an_unsubscribe_that_is_never_answered_is_asked_again() {
    let mut sim = ready_sim();
    sim.subscribe(&["ticker.A"]);
    sim.drive();
    assert!(
        sim.client
            .confirmed_subscriptions()
            .any(|c| c == "ticker.A")
    );
    sim.server.behaviour.swallow_unsubscribes = 1;
    sim.client.unsubscribe(sim.now, &["ticker.A"]).unwrap();
    // The first answer never comes; after the request timeout it asks again.
    assert!(sim.run_until(
        |s| {
            s.events
                .iter()
                .any(|e| matches!(e, Event::Unsubscribed { .. }))
        },
        LIMIT
    ));
    assert_eq!(sim.server.count("public/unsubscribe"), 2);
    assert!(sim.is_ready_and_consistent());
    assert_eq!(sim.client.confirmed_subscriptions().count(), 0);
}

#[test]
fn a_rate_limit_refusal_waits_then_retries_instead_of_failing() {
    let mut sim = ready_sim();
    sim.server.behaviour.too_many_requests = 2;
    let first = sim.request("echo", r#"{"n":1}"#);
    let second = sim.request("echo", r#"{"n":2}"#);
    let asked = sim.now;
    assert!(sim.run_until(|s| outcomes(&s.events).len() == 2, LIMIT));
    let events = sim.take_events();
    let ids: Vec<_> = outcomes(&events)
        .iter()
        .map(|e| match e {
            Event::Response { id, .. } => *id,
            other => panic!("expected responses, got {other:?}"),
        })
        .collect();
    assert_eq!(ids, [first, second], "both answered, in order");
    assert!(
        sim.now - asked >= Duration::from_millis(500),
        "after the retry delay"
    );
    assert_eq!(sim.server.count("echo"), 4);
}

#[test]
fn a_book_gap_resubscribes_and_holds_updates_until_the_new_snapshot() {
    let mut sim = ready_sim();
    sim.subscribe(&["book.A"]);
    sim.drive();
    let snapshot_id = sim.server.book_seq;
    let update = |change: u64, prev: u64| json!({"type": "change", "change_id": change, "prev_change_id": prev});
    sim.server
        .notify("book.A", update(snapshot_id + 1, snapshot_id));
    sim.drive();
    // The server skips one change: prev_change_id does not follow.
    sim.server
        .notify("book.A", update(snapshot_id + 3, snapshot_id + 2));
    sim.server
        .notify("book.A", update(snapshot_id + 4, snapshot_id + 3));
    sim.drive();
    let events = sim.take_events();
    let books: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Notification { channel, data } if channel == "book.A" => {
                Some(data.as_str().to_owned())
            }
            _ => None,
        })
        .collect();
    assert!(events.contains(&Event::Gap {
        channel: "book.A".into(),
        expected: snapshot_id + 1,
        got: snapshot_id + 2
    }));
    assert_eq!(
        books.len(),
        3,
        "snapshot, one good change, the new snapshot: {books:?}"
    );
    assert!(books[0].contains("snapshot") && books[2].contains("snapshot"));
    assert!(books[2].contains(&sim.server.book_seq.to_string()));
    assert!(sim.is_ready_and_consistent());
    assert_eq!(sim.server.count("public/unsubscribe"), 1);
    assert_eq!(sim.server.count("public/subscribe"), 2);
}

#[test]
fn a_resync_whose_unsubscribe_is_never_answered_asks_again_and_recovers() {
    let mut sim = ready_sim();
    sim.subscribe(&["book.A"]);
    sim.drive();
    let snapshot_id = sim.server.book_seq;
    sim.server.behaviour.swallow_unsubscribes = 1;
    let change = |c: u64, p: u64| json!({"type": "change", "change_id": c, "prev_change_id": p});
    sim.server
        .notify("book.A", change(snapshot_id + 3, snapshot_id + 2)); // a gap at once
    sim.drive();
    assert!(sim.events.iter().any(|e| matches!(e, Event::Gap { .. })));
    assert_eq!(
        sim.server.count("public/unsubscribe"),
        1,
        "asked, never answered"
    );
    let snapshots_before = sim.server.count("public/subscribe");
    // After the request timeout the resync starts over, and this time it works.
    let recovered = |s: &Sim<TestRpc>| {
        let gap = s.events.iter().position(|e| matches!(e, Event::Gap { .. }));
        gap.is_some_and(|g| {
            s.events[g..].iter().any(|e| {
                matches!(e, Event::Notification { channel, data }
                    if channel == "book.A" && data.as_str().contains("snapshot"))
            })
        })
    };
    assert!(sim.run_until(recovered, LIMIT), "{:?}", sim.events);
    assert!(sim.server.count("public/unsubscribe") >= 2);
    assert!(sim.server.count("public/subscribe") > snapshots_before);
    assert!(sim.is_ready_and_consistent());
}

#[test]
fn once_ready_again_a_token_refusal_may_replace_the_connection_once_more() {
    let mut sim = ready_sim();
    let refused = |sim: &mut Sim<TestRpc>, channel: &str| {
        sim.server.behaviour.token_refused_channels = [channel.to_owned()].into();
        sim.subscribe(&[channel]);
        assert!(sim.run_until(
            |s| s.events.iter().any(
                |e| matches!(e, Event::SubscriptionFailed { channels, .. } if channels == &[channel])
            ),
            LIMIT
        ));
        assert!(sim.run_until(|s| s.is_ready_and_consistent(), LIMIT));
    };
    // Each channel: refused after a refresh, one new connection, refused
    // there too, a failure. The second gets its own new connection: the
    // session was ready in between.
    refused(&mut sim, "user.orders");
    assert_eq!(sim.dials.len(), 2);
    refused(&mut sim, "user.trades");
    assert_eq!(sim.dials.len(), 3);
}

#[test]
fn requests_that_expire_while_waiting_to_be_retried_are_never_sent_again() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        c.request_timeout = Duration::from_millis(200);
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    sim.take_events();
    // Both refused for the rate limit, 50 ms apart: each is held for the
    // retry delay (500 ms), past its own deadline.
    sim.server.behaviour.too_many_requests = 2;
    let first = sim.request("echo", "{}");
    sim.run_for(Duration::from_millis(50));
    let second = sim.request("echo", "{}");
    sim.run_for(Duration::from_secs(5));
    let events = sim.take_events();
    let outcomes = outcomes(&events);
    assert!(
        matches!(
            outcomes[..],
            [
                Event::RequestFailed { id: a, error: RequestError::Timeout },
                Event::RequestFailed { id: b, error: RequestError::Timeout },
            ] if (*a, *b) == (first, second)
        ),
        "{events:?}"
    );
    assert_eq!(sim.server.count("echo"), 2, "never sent again");
}

#[test]
fn a_request_expiring_while_others_wait_for_a_new_token_takes_only_itself_away() {
    let mut sim = ready_sim();
    // Private calls are refused for the expired token and wait for the
    // refresh, whose answer stays unread until the first call has expired
    // (10 s) but not the second, asked 5 s later.
    sim.server.expire_tokens();
    let first = sim.request("private/get_position", "{}");
    assert!(sim.run_until(|s| s.server.count("public/auth") == 2, LIMIT));
    sim.pause_reading(true);
    sim.run_for(Duration::from_secs(5));
    let second = sim.request("private/get_position", "{}");
    sim.run_for(Duration::from_secs(6));
    sim.pause_reading(false);
    sim.run_for(Duration::from_secs(3));
    // Each sent once: the expired one is not sent again with the new token.
    assert_eq!(sim.server.count("private/get_position"), 2);
    let events = sim.take_events();
    let outcome = |id| {
        outcomes(&events)
            .into_iter()
            .filter(|e| {
                matches!(e, Event::Response { id: i, .. } | Event::RequestFailed { id: i, .. } if *i == id)
            })
            .collect::<Vec<_>>()
    };
    assert!(
        matches!(
            outcome(first)[..],
            [Event::RequestFailed {
                error: RequestError::Timeout,
                ..
            }]
        ),
        "{events:?}"
    );
    assert!(
        matches!(outcome(second)[..], [Event::Response { .. }]),
        "{events:?}"
    );
}

#[test]
fn a_request_expiring_while_held_for_a_retry_leaves_the_others_held() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        c.request_timeout = Duration::from_millis(200);
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    // A subscribe and a request, both refused for the rate limit and held
    // for the retry delay (500 ms). The request expires at 200 ms; the
    // subscribe, the core's own, cannot expire while reading is paused.
    sim.server.behaviour.too_many_requests = 2;
    sim.subscribe(&["ticker.A"]);
    let request = sim.request("echo", "{}");
    let asked = sim.now;
    sim.run_for(Duration::from_millis(100));
    sim.pause_reading(true);
    sim.run_for(asked + Duration::from_millis(600) - sim.now);
    assert!(sim.events.iter().any(|e| matches!(
        e,
        Event::RequestFailed { id, error: RequestError::Timeout } if *id == request
    )));
    assert_eq!(sim.server.count("echo"), 1);
    assert_eq!(sim.server.count("public/subscribe"), 2, "retried at 500 ms");
    sim.pause_reading(false);
    assert!(sim.run_until(|s| s.is_ready_and_consistent(), LIMIT));
}

#[test]
fn a_request_held_for_the_next_connection_that_expires_first_is_never_sent_again() {
    let adapter = TestRpc {
        session_ending_codes: vec![10028],
        ..TestRpc::default()
    };
    let mut sim = Sim::new(adapter, |c| {
        c.request_timeout = Duration::from_millis(200);
        // Exponential without jitter: the first reconnect waits a second.
        c.backoff = BackoffConfig {
            strategy: BackoffStrategy::Exponential,
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            max_attempts: None,
        };
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    // The refusal ends the session: the request waits for the next
    // connection, and expires before it.
    sim.server.behaviour.too_many_requests = 1;
    let id = sim.request("echo", "{}");
    assert!(sim.run_until(|s| s.dials.len() == 2 && s.is_ready_and_consistent(), LIMIT));
    sim.run_for(Duration::from_secs(2));
    let events = sim.take_events();
    let outcomes = outcomes(&events);
    assert!(
        matches!(outcomes[..], [Event::RequestFailed { id: i, error: RequestError::Timeout }] if *i == id),
        "{events:?}"
    );
    assert_eq!(sim.server.count("echo"), 1, "never sent again");
}

#[test]
fn a_resync_under_way_when_the_connection_is_lost_is_not_repeated_on_the_next() {
    let mut sim = ready_sim();
    sim.subscribe(&["book.A"]);
    sim.drive();
    let snapshot_id = sim.server.book_seq;
    // A gap starts a resync whose unsubscribe is never answered; the
    // connection drops before the resync's timeout.
    sim.server.behaviour.swallow_unsubscribes = 1;
    let change =
        json!({"type": "change", "change_id": snapshot_id + 3, "prev_change_id": snapshot_id + 2});
    sim.server.notify("book.A", change);
    sim.drive();
    assert!(sim.events.iter().any(|e| matches!(e, Event::Gap { .. })));
    let first = sim.client.generation();
    sim.drop_connection();
    assert!(sim.run_until(
        |s| s.client.generation() > first && s.is_ready_and_consistent(),
        LIMIT
    ));
    // The new connection subscribed afresh, with a new snapshot: nothing
    // of the old resync is left to run.
    let second = sim.client.generation();
    sim.run_for(Duration::from_secs(30));
    let on_second: Vec<&str> = sim
        .server
        .received
        .iter()
        .filter(|r| r.generation == second && r.method.ends_with("subscribe"))
        .map(|r| r.method.as_str())
        .collect();
    assert_eq!(on_second, ["public/subscribe"]);
}

#[test]
fn a_new_connection_starts_every_sequence_afresh() {
    let mut sim = ready_sim();
    sim.subscribe(&["book.A"]);
    sim.drive();
    let snapshot_id = sim.server.book_seq;
    let change = |id: u64| json!({"type": "change", "change_id": id, "prev_change_id": id - 1});
    sim.server.notify("book.A", change(snapshot_id + 1));
    sim.drive();
    let first = sim.client.generation();
    sim.drop_connection();
    // While the next connection authenticates, before its subscribe (and
    // so its snapshot), an update arrives whose previous id has nothing to
    // do with the last connection's: a new sequence starts from it.
    assert!(sim.run_until(
        |s| s.client.generation() > first && s.client.state() == SessionState::Authenticating,
        LIMIT
    ));
    sim.take_events();
    let text = json!({"jsonrpc": "2.0", "method": "subscription",
                      "params": {"channel": "book.A", "data": change(5_001)}});
    sim.server
        .send_text(sim.client.generation(), &text.to_string());
    assert!(sim.run_until(|s| s.is_ready_and_consistent(), LIMIT));
    let events = sim.take_events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Gap { .. })),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Notification { channel, data }
                if channel == "book.A" && data.as_str().contains("5001"))),
        "{events:?}"
    );
}
