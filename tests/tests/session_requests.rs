//! Request scenarios: a session against the fake exchange in virtual time —
//! exactly one outcome per request, responses and server errors, timeouts,
//! connection loss, queueing while disconnected, queue overflow and platform
//! heartbeats that jump the queue.

use std::time::Duration;
use wsnova_core::session::{RateClass, RateLimits};

use serde_json::{Value, json};
use wsnova_core::session::{
    Credentials, Event, RateLimitConfig, RequestError, RequestId, RpcError, SessionConfig,
    SessionState,
};
use wsnova_tests::sim::{Received, Sim, TestRpc};

const SECOND: Duration = Duration::from_secs(1);

/// A ready session (no credentials, no subscriptions), configured by `configure`.
fn ready_sim(configure: impl FnOnce(&mut SessionConfig)) -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), configure);
    sim.connect();
    assert!(
        sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND),
        "not ready: {:?}",
        sim.events
    );
    sim
}

/// Drops the connection and runs until the client waits to reconnect.
fn drop_and_back_off(sim: &mut Sim<TestRpc>) {
    sim.drop_connection();
    assert!(sim.run_until(|s| s.client.state() == SessionState::BackingOff, SECOND));
}

/// Every outcome (`Response` or `RequestFailed`) the application saw for `id`.
fn outcomes(events: &[Event], id: RequestId) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| {
            matches!(e, Event::Response { id: i, .. } | Event::RequestFailed { id: i, .. } if *i == id)
        })
        .collect()
}

fn has_outcome(sim: &Sim<TestRpc>, id: RequestId) -> bool {
    !outcomes(&sim.events, id).is_empty()
}

/// The single outcome of `id`; panics unless there is exactly one.
fn outcome(sim: &Sim<TestRpc>, id: RequestId) -> &Event {
    match &outcomes(&sim.events, id)[..] {
        [one] => one,
        other => panic!("{id:?}: expected one outcome, got {other:?}"),
    }
}

fn result_json(event: &Event) -> Value {
    match event {
        Event::Response { result, .. } => result.parse().expect("result is JSON"),
        other => panic!("expected a response, got {other:?}"),
    }
}

fn echoes_on(sim: &Sim<TestRpc>, generation: u64) -> Vec<Received> {
    sim.server
        .received
        .iter()
        .filter(|r| r.generation == generation && r.method == "echo")
        .cloned()
        .collect()
}

#[test]
fn every_request_gets_exactly_one_outcome() {
    let mut sim = ready_sim(|_| {});
    let answered = sim.request("echo", r#"{"n":1}"#);
    let rejected = sim.request("no/such/method", "{}");
    let unauthorized = sim.request("private/get_position", "{}");
    let silent = sim.request("silent", "{}");
    assert!(sim.run_until(|s| s.server.count("silent") == 1, SECOND));
    let in_flight = sim.request("silent", "{}");
    assert!(sim.run_until(|s| s.server.count("silent") == 2, SECOND));
    drop_and_back_off(&mut sim);
    let queued = sim.request("echo", r#"{"n":2}"#);
    assert!(sim.run_until(
        |s| s.client.generation() == 2 && s.client.state() == SessionState::Ready,
        5 * SECOND
    ));
    let late = sim.request("silent", "{}");
    sim.run_for(60 * SECOND);

    let ids = [
        answered,
        rejected,
        unauthorized,
        silent,
        in_flight,
        queued,
        late,
    ];
    for id in ids {
        outcome(&sim, id);
    }
    let all = sim
        .events
        .iter()
        .filter(|e| matches!(e, Event::Response { .. } | Event::RequestFailed { .. }))
        .count();
    assert_eq!(all, ids.len(), "no outcome for unknown ids");
    assert_eq!(sim.client.pending_requests(), 0);
    assert!(matches!(outcome(&sim, answered), Event::Response { .. }));
    assert!(matches!(
        outcome(&sim, silent),
        Event::RequestFailed {
            error: RequestError::ConnectionLost,
            ..
        }
    ));
    assert!(matches!(outcome(&sim, queued), Event::Response { .. }));
    assert!(matches!(
        outcome(&sim, late),
        Event::RequestFailed {
            error: RequestError::Timeout,
            ..
        }
    ));
}

#[test]
fn response_carries_the_result_json() {
    let mut sim = ready_sim(|_| {});
    let params =
        json!({"instrument": "BTC-PERPETUAL", "amount": 10.5, "tags": ["a", "é"], "x": null});
    let id = sim
        .client
        .request_json(sim.now, "echo", &params)
        .expect("request");
    assert!(sim.run_until(|s| has_outcome(s, id), SECOND));
    match outcome(&sim, id) {
        Event::Response { id: got, result } => {
            assert_eq!(*got, id);
            assert_eq!(result.as_str(), params.to_string());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(result_json(outcome(&sim, id)), params);
    assert_eq!(sim.server.received.last().map(|r| &r.params), Some(&params));
}

#[test]
fn unknown_method_is_rejected_with_the_servers_error() {
    let mut sim = ready_sim(|_| {});
    let id = sim.request("public/no_such_method", "{}");
    assert!(sim.run_until(|s| has_outcome(s, id), SECOND));
    assert_eq!(
        outcome(&sim, id),
        &Event::RequestFailed {
            id,
            error: RequestError::Rejected(RpcError {
                code: -32601,
                message: "Method not found".into(),
                data: None,
            }),
        }
    );
    assert_eq!(sim.client.state(), SessionState::Ready);
}

#[test]
fn unanswered_request_times_out_after_request_timeout_and_a_late_answer_is_ignored() {
    let mut sim = ready_sim(|config| config.request_timeout = Duration::from_secs(3));
    let asked_at = sim.now;
    let id = sim.request("silent", r#"{"q":1}"#);
    assert!(sim.run_until(|s| has_outcome(s, id), 10 * SECOND));
    assert_eq!(sim.now - asked_at, Duration::from_secs(3));
    assert_eq!(
        outcome(&sim, id),
        &Event::RequestFailed {
            id,
            error: RequestError::Timeout,
        }
    );
    assert_eq!(sim.server.count("silent"), 1);

    // The exchange answers after all: the application hears nothing more.
    let generation = sim.client.generation();
    let late = json!({"jsonrpc": "2.0", "id": id.0, "result": "late"}).to_string();
    sim.server.send_text(generation, &late);
    sim.run_for(SECOND);
    outcome(&sim, id);
    assert!(
        !sim.events.iter().any(|e| matches!(e, Event::Message(_))),
        "{:?}",
        sim.events
    );
    assert_eq!(sim.client.pending_requests(), 0);
    assert_eq!(sim.client.state(), SessionState::Ready);
}

#[test]
fn requests_in_flight_when_the_connection_drops_fail_with_connection_lost_and_are_not_resent() {
    let mut sim = ready_sim(|_| {});
    let id = sim.request("silent", r#"{"order":"buy"}"#);
    assert!(sim.run_until(|s| s.server.count("silent") == 1, SECOND));
    sim.drop_connection();
    assert!(sim.run_until(|s| has_outcome(s, id), SECOND));
    assert_eq!(
        outcome(&sim, id),
        &Event::RequestFailed {
            id,
            error: RequestError::ConnectionLost,
        }
    );
    let lost_at = sim
        .events
        .iter()
        .position(|e| matches!(e, Event::RequestFailed { .. }))
        .expect("outcome");
    let disconnected_at = sim
        .events
        .iter()
        .position(|e| matches!(e, Event::Disconnected { .. }))
        .expect("disconnected");
    assert!(disconnected_at.abs_diff(lost_at) <= 1, "{:?}", sim.events);

    assert!(sim.run_until(
        |s| s.client.generation() == 2 && s.client.state() == SessionState::Ready,
        5 * SECOND
    ));
    sim.run_for(30 * SECOND);
    assert_eq!(sim.server.count("silent"), 1, "never re-sent");
    outcome(&sim, id);
    assert_eq!(sim.client.pending_requests(), 0);
}

#[test]
fn requests_made_before_connect_are_sent_in_order_once_ready() {
    let mut sim = Sim::new(TestRpc::default(), |config| {
        config.credentials = Some(Credentials::new("client", "s3cret"));
    });
    let ids: Vec<RequestId> = (0..3)
        .map(|n| sim.request("echo", &json!({ "n": n }).to_string()))
        .collect();
    sim.run_for(SECOND);
    assert!(
        sim.server.received.is_empty(),
        "nothing sent before connect"
    );
    assert_eq!(sim.client.pending_requests(), 3);

    sim.connect();
    assert!(sim.run_until(|s| ids.iter().all(|id| has_outcome(s, *id)), SECOND));
    let methods: Vec<&str> = sim
        .server
        .received
        .iter()
        .map(|r| r.method.as_str())
        .collect();
    assert_eq!(methods, ["public/auth", "echo", "echo", "echo"]);
    assert!(echoes_on(&sim, 1).iter().all(|r| r.authed));
    let sent: Vec<Value> = echoes_on(&sim, 1).into_iter().map(|r| r.params).collect();
    assert_eq!(sent, [json!({"n": 0}), json!({"n": 1}), json!({"n": 2})]);
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(result_json(outcome(&sim, *id)), json!({ "n": n }));
    }
}

#[test]
fn requests_made_while_backing_off_are_sent_in_order_on_the_new_connection() {
    let mut sim = ready_sim(|_| {});
    drop_and_back_off(&mut sim);
    sim.take_events();
    let ids: Vec<RequestId> = (0..4)
        .map(|n| sim.request("echo", &json!({ "n": n }).to_string()))
        .collect();
    assert_eq!(sim.client.pending_requests(), 4);
    assert!(sim.run_until(|s| ids.iter().all(|id| has_outcome(s, *id)), 5 * SECOND));

    assert!(echoes_on(&sim, 1).is_empty());
    let sent: Vec<Value> = echoes_on(&sim, 2).into_iter().map(|r| r.params).collect();
    assert_eq!(sent, (0..4).map(|n| json!({ "n": n })).collect::<Vec<_>>());
    let responses: Vec<RequestId> = sim
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Response { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(responses, ids, "answered once each, in order");
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(result_json(outcome(&sim, *id)), json!({ "n": n }));
    }
    let ready = sim
        .events
        .iter()
        .position(|e| matches!(e, Event::Ready))
        .expect("ready");
    let first = sim
        .events
        .iter()
        .position(|e| matches!(e, Event::Response { .. }))
        .expect("response");
    assert!(ready < first);
}

#[test]
fn queue_overflow_while_disconnected_fails_the_extra_request_with_queue_full() {
    let mut sim = ready_sim(|config| config.queue_capacity = 2);
    drop_and_back_off(&mut sim);
    sim.take_events();
    let first = sim.request("echo", r#"{"n":0}"#);
    let second = sim.request("echo", r#"{"n":1}"#);
    let third = sim.request("echo", r#"{"n":2}"#);
    // The refusal is immediate, before anything reconnects.
    assert!(sim.run_until(|s| has_outcome(s, third), Duration::ZERO));
    assert_eq!(
        outcome(&sim, third),
        &Event::RequestFailed {
            id: third,
            error: RequestError::QueueFull,
        }
    );
    assert_eq!(sim.client.state(), SessionState::BackingOff);
    assert_eq!(sim.client.pending_requests(), 2);

    assert!(sim.run_until(
        |s| has_outcome(s, first) && has_outcome(s, second),
        5 * SECOND
    ));
    assert_eq!(result_json(outcome(&sim, first)), json!({"n": 0}));
    assert_eq!(result_json(outcome(&sim, second)), json!({"n": 1}));
    sim.run_for(SECOND);
    outcome(&sim, third);
    assert_eq!(sim.server.count("echo"), 2, "the refused one is never sent");
}

#[test]
fn platform_heartbeat_is_answered_at_once_even_behind_rate_limited_requests() {
    let mut sim = ready_sim(|config| {
        config.rate_limits = RateLimits::default().with(
            RateClass::DEFAULT,
            RateLimitConfig {
                capacity: 1,
                refill_amount: 1,
                refill_interval: Duration::from_secs(10),
                queue_capacity: 100,
            },
        );
        config.request_timeout = Duration::from_secs(120);
    });
    let ids: Vec<RequestId> = (0..4)
        .map(|n| sim.request("echo", &json!({ "n": n }).to_string()))
        .collect();
    assert!(sim.run_until(|s| s.server.count("echo") == 1, SECOND));
    sim.run_for(Duration::from_millis(100));
    assert_eq!(sim.server.count("echo"), 1, "the rest wait for tokens");

    let asked_at = sim.now;
    sim.server.test_request(sim.client.generation());
    assert!(sim.run_until(|s| s.server.count("public/test") == 1, SECOND));
    // One latency to the client, one back: no waiting for tokens.
    assert_eq!(sim.now - asked_at, 2 * sim.latency);
    assert_eq!(sim.server.count("echo"), 1, "user requests still queued");
    assert_eq!(sim.client.rate_limit_tokens(sim.now), Some(0));
    assert!(
        !sim.events
            .iter()
            .any(|e| matches!(e, Event::Message(_) | Event::Disconnected { .. })),
        "{:?}",
        sim.events
    );

    // The heartbeat's own answer is swallowed; the queued requests follow later.
    assert!(sim.run_until(|s| ids.iter().all(|id| has_outcome(s, *id)), 60 * SECOND));
    assert_eq!(sim.server.count("echo"), 4);
    assert_eq!(sim.server.count("public/test"), 1);
    assert!(!sim.events.iter().any(|e| matches!(e, Event::Message(_))));
}

#[test]

fn zero_queue_capacity_only_refuses_requests_that_would_wait() {
    let mut sim = ready_sim(|config| config.queue_capacity = 0);
    // Ready: nothing has to wait, so nothing is refused.
    let id = sim.request("echo", r#"{"n":0}"#);
    assert!(sim.run_until(|s| has_outcome(s, id), SECOND));
    assert_eq!(result_json(outcome(&sim, id)), json!({"n": 0}));

    // Disconnected: the request would have to wait, and may not.
    drop_and_back_off(&mut sim);
    let refused = sim.request("echo", r#"{"n":1}"#);
    assert!(sim.run_until(|s| has_outcome(s, refused), Duration::ZERO));
    assert_eq!(
        outcome(&sim, refused),
        &Event::RequestFailed {
            id: refused,
            error: RequestError::QueueFull,
        }
    );
}
