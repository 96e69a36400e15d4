//! Rate-limit scenarios: a session with a token bucket (a burst of 5, then
//! one request per second) against the fake exchange in virtual time —
//! pacing, ordering, surviving reconnects, overflow, the bucket's level and
//! the refill deadline in `poll_timeout`.

use std::time::{Duration, Instant};
use wsnova_core::session::{RateClass, RateLimits};

use serde_json::{Value, json};
use wsnova_core::session::{
    Event, RateLimitConfig, RequestError, RequestId, SessionConfig, SessionState,
};
use wsnova_tests::sim::{Sim, TestRpc};

const SECOND: Duration = Duration::from_secs(1);
const CAPACITY: u64 = 5;

fn limit(queue_capacity: usize) -> RateLimitConfig {
    RateLimitConfig {
        capacity: CAPACITY,
        refill_amount: 1,
        refill_interval: SECOND,
        queue_capacity,
    }
}

/// A ready session (no credentials, no subscriptions) limited to a burst of 5
/// then 1/s, with a request timeout long enough for the queue to drain.
fn ready_sim(configure: impl FnOnce(&mut SessionConfig)) -> Sim<TestRpc> {
    let mut sim = Sim::new(TestRpc::default(), |config| {
        config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, limit(100));
        config.request_timeout = Duration::from_secs(120);
        configure(config);
    });
    sim.connect();
    assert!(
        sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND),
        "not ready: {:?}",
        sim.events
    );
    // Settle, so the burst below does not coincide with the connect.
    sim.run_for(Duration::from_millis(100));
    sim
}

/// `count` echo requests at once, with params `{"n": first + i}`.
fn burst(sim: &mut Sim<TestRpc>, first: usize, count: usize) -> Vec<RequestId> {
    (first..first + count)
        .map(|n| sim.request("echo", &json!({ "n": n }).to_string()))
        .collect()
}

/// Steps until every echo has arrived at the server; returns, for each new
/// arrival batch, (time since `t0`, echoes received so far).
fn arrivals(sim: &mut Sim<TestRpc>, t0: Instant, total: usize) -> Vec<(Duration, usize)> {
    let mut seen = Vec::new();
    while sim.server.count("echo") < total {
        let before = sim.server.count("echo");
        assert!(
            sim.run_until(|s| s.server.count("echo") > before, 2 * SECOND),
            "stuck at {before}: {:?}",
            sim.events
        );
        seen.push((sim.now - t0, sim.server.count("echo")));
    }
    seen
}

fn response_ids(events: &[Event]) -> Vec<RequestId> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Response { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

/// Every `RequestFailed`, as (id, error), in order.
fn failures(events: &[Event]) -> Vec<(RequestId, RequestError)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RequestFailed { id, error } => Some((*id, error.clone())),
            _ => None,
        })
        .collect()
}

fn result_of(events: &[Event], id: RequestId) -> Value {
    let results: Vec<Value> = events
        .iter()
        .filter_map(|e| match e {
            Event::Response { id: i, result } if *i == id => Some(result.parse().expect("json")),
            _ => None,
        })
        .collect();
    match &results[..] {
        [one] => one.clone(),
        other => panic!("{id:?}: {other:?}"),
    }
}

#[test]
fn burst_of_five_then_one_request_per_second() {
    let mut sim = ready_sim(|_| {});
    let t0 = sim.now;
    let ids = burst(&mut sim, 0, 20);
    let latency = sim.latency;

    let mut expected = vec![(latency, 5)];
    expected.extend((6..=20).map(|n| ((n as u32 - 5) * SECOND + latency, n)));
    assert_eq!(arrivals(&mut sim, t0, 20), expected);

    assert!(sim.run_until(|s| response_ids(&s.events).len() == 20, SECOND));
    assert_eq!(response_ids(&sim.events), ids, "all answered, in order");
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(result_of(&sim.events, *id), json!({ "n": n }));
    }
    let sent: Vec<Value> = sim
        .server
        .received
        .iter()
        .map(|r| r.params["n"].clone())
        .collect();
    assert_eq!(sent, (0..20).map(|n| json!(n)).collect::<Vec<_>>());
}

#[test]
fn queued_requests_survive_a_reconnect_and_keep_their_ids() {
    let mut sim = ready_sim(|_| {});
    let ids = burst(&mut sim, 0, 20);
    assert!(sim.run_until(|s| s.server.count("echo") == 7, 3 * SECOND));
    assert!(sim.run_until(|s| response_ids(&s.events).len() == 7, SECOND));

    sim.drop_connection();
    assert!(sim.run_until(|s| s.client.state() == SessionState::BackingOff, SECOND));
    assert_eq!(
        sim.client.pending_requests(),
        13,
        "unsent requests stay queued"
    );
    assert!(
        !sim.events
            .iter()
            .any(|e| matches!(e, Event::RequestFailed { .. })),
        "{:?}",
        sim.events
    );

    assert!(sim.run_until(|s| response_ids(&s.events).len() == 20, 30 * SECOND));
    assert_eq!(sim.client.generation(), 2);
    assert_eq!(
        response_ids(&sim.events),
        ids,
        "each answered once, in order"
    );
    for (n, id) in ids.iter().enumerate() {
        // The server echoes the id it received: the original one.
        assert_eq!(result_of(&sim.events, *id), json!({ "n": n }));
    }
    let on = |generation: u64| -> Vec<Value> {
        sim.server
            .received
            .iter()
            .filter(|r| r.generation == generation)
            .map(|r| r.params["n"].clone())
            .collect()
    };
    assert_eq!(on(1), (0..7).map(|n| json!(n)).collect::<Vec<_>>());
    assert_eq!(on(2), (7..20).map(|n| json!(n)).collect::<Vec<_>>());
    assert_eq!(sim.client.pending_requests(), 0);
}

#[test]
fn overflow_beyond_the_limiters_queue_fails_with_rate_limited() {
    let mut sim = ready_sim(|config| {
        config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, limit(3))
    });
    // 5 leave with the burst, 3 wait, the last 2 do not fit.
    let ids = burst(&mut sim, 0, 10);
    assert!(sim.run_until(
        |s| {
            s.events
                .iter()
                .filter(|e| matches!(e, Event::RequestFailed { .. }))
                .count()
                == 2
        },
        Duration::ZERO
    ));
    let failed = failures(&sim.events);
    assert_eq!(
        failed,
        [
            (ids[8], RequestError::RateLimited),
            (ids[9], RequestError::RateLimited)
        ]
    );

    assert!(sim.run_until(|s| response_ids(&s.events).len() == 8, 10 * SECOND));
    sim.run_for(5 * SECOND);
    assert_eq!(response_ids(&sim.events), ids[..8]);
    assert_eq!(sim.server.count("echo"), 8);
    assert_eq!(sim.client.pending_requests(), 0);
}

#[test]
fn tokens_never_exceed_capacity() {
    let mut sim = Sim::new(TestRpc::default(), |config| {
        config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, limit(100));
        config.request_timeout = Duration::from_secs(120);
    });
    assert_eq!(sim.client.rate_limit_tokens(sim.now), Some(CAPACITY));
    sim.run_for(60 * SECOND);
    assert_eq!(sim.client.rate_limit_tokens(sim.now), Some(CAPACITY));
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));

    burst(&mut sim, 0, 12);
    assert_eq!(sim.client.rate_limit_tokens(sim.now), Some(0));
    let mut highest = 0;
    for _ in 0..40 {
        sim.run_for(Duration::from_millis(250));
        let tokens = sim.client.rate_limit_tokens(sim.now).expect("limited");
        assert!(tokens <= CAPACITY, "{tokens} tokens");
        highest = highest.max(tokens);
    }
    // The queue drained at 7 s; since then the bucket refills up to capacity.
    assert_eq!(sim.server.count("echo"), 12);
    assert!(highest >= 2, "the bucket refills: {highest}");
    sim.run_for(3600 * SECOND);
    assert_eq!(sim.client.rate_limit_tokens(sim.now), Some(CAPACITY));

    // A burst after a long idle still gets exactly `capacity` at once.
    let before = sim.server.count("echo");
    burst(&mut sim, 100, 8);
    sim.run_for(Duration::from_millis(500));
    assert_eq!(sim.server.count("echo") - before, CAPACITY as usize);
}

#[test]
fn refill_deadline_is_the_poll_timeout_while_requests_wait() {
    let mut sim = ready_sim(|config| {
        config.heartbeat.ping_interval = None;
        config.stable_after = Duration::ZERO;
    });
    // Nothing waits: no timer at all.
    assert_eq!(sim.client.poll_timeout(), None);

    let t0 = sim.now;
    let ids = burst(&mut sim, 0, 8);
    // Without stepping or polling: the next token is due in one second.
    assert_eq!(sim.client.poll_timeout(), Some(t0 + SECOND));

    for sent in 6..=8u32 {
        assert!(sim.run_until(|s| s.server.count("echo") == sent as usize, 2 * SECOND));
        assert_eq!(sim.now, t0 + (sent - 5) * SECOND + sim.latency);
        if sent < 8 {
            assert_eq!(
                sim.client.poll_timeout(),
                Some(t0 + (sent - 4) * SECOND),
                "after {sent} sent"
            );
        }
    }
    // Queue drained and everything answered: no Refill, no deadline, nothing armed.
    assert!(sim.run_until(|s| response_ids(&s.events).len() == 8, SECOND));
    assert_eq!(response_ids(&sim.events), ids);
    assert_eq!(sim.client.poll_timeout(), None);
}

#[test]
fn costly_requests_wait_for_enough_tokens_and_impossible_ones_are_refused() {
    let adapter = TestRpc {
        costs: vec![("heavy".into(), 3), ("huge".into(), CAPACITY + 1)],
        ..TestRpc::default()
    };
    let mut sim = Sim::new(adapter, |config| {
        config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, limit(100));
        config.request_timeout = Duration::from_secs(120);
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));
    sim.run_for(Duration::from_millis(100));

    let t0 = sim.now;
    let first = sim.request("heavy", r#"{"n":0}"#);
    let second = sim.request("heavy", r#"{"n":1}"#);
    let cheap = sim.request("echo", r#"{"n":2}"#);
    let huge = sim.request("huge", "{}");
    // More than the bucket can ever hold: refused at once, never sent.
    assert!(sim.run_until(
        |s| {
            s.events
                .iter()
                .any(|e| matches!(e, Event::RequestFailed { .. }))
        },
        Duration::ZERO
    ));
    assert_eq!(
        sim.events.last(),
        Some(&Event::RequestFailed {
            id: huge,
            error: RequestError::RateLimited,
        })
    );

    // 5 tokens: the first heavy (3) leaves, the second waits for 3 again
    // (1 s), and the cheap one queued behind it for one more (2 s).
    let arrival = |sim: &mut Sim<TestRpc>, method: &str, n: usize| {
        assert!(sim.run_until(|s| s.server.count(method) == n, 3 * SECOND));
        sim.now - t0
    };
    assert_eq!(arrival(&mut sim, "heavy", 1), sim.latency);
    assert_eq!(arrival(&mut sim, "heavy", 2), SECOND + sim.latency);
    assert_eq!(arrival(&mut sim, "echo", 1), 2 * SECOND + sim.latency);
    // Every request has its one outcome ("heavy" is unknown to the exchange,
    // so it is answered with an error), in the order they left.
    let answered = |events: &[Event]| -> Vec<RequestId> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::RequestFailed { id, .. } if *id == huge => None,
                Event::Response { id, .. } | Event::RequestFailed { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    };
    assert!(sim.run_until(|s| answered(&s.events).len() == 3, SECOND));
    let answered = answered(&sim.events);
    assert_eq!(answered, [first, second, cheap]);
    assert_eq!(sim.server.count("huge"), 0);
}

#[test]

fn zero_limiter_queue_still_sends_what_the_tokens_allow() {
    let mut sim = ready_sim(|config| {
        config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, limit(0))
    });
    // Nothing may wait: the burst goes out, the rest is refused at once.
    let ids = burst(&mut sim, 0, 7);
    sim.run_for(Duration::from_millis(100));
    assert_eq!(response_ids(&sim.events), ids[..5]);
    let refused: Vec<RequestId> = sim
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RequestFailed {
                id,
                error: RequestError::RateLimited,
            } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(refused, ids[5..]);
}

#[test]

fn a_queued_request_that_expires_does_not_hold_up_the_cheaper_one_behind_it() {
    let adapter = TestRpc {
        costs: vec![("heavy".into(), 3)],
        ..TestRpc::default()
    };
    let mut sim = Sim::new(adapter, |config| {
        config.rate_limits = RateLimits::default().with(
            RateClass::DEFAULT,
            RateLimitConfig {
                capacity: 3,
                ..limit(100)
            },
        );
        config.request_timeout = 2 * SECOND;
        config.heartbeat.ping_interval = None;
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, SECOND));

    let t0 = sim.now;
    sim.request("heavy", "{}"); // takes all 3 tokens
    let waiting = sim.request("heavy", "{}"); // needs 3 again: t0 + 3 s
    sim.run_for(SECOND / 2);
    let cheap = sim.request("echo", r#"{"n":0}"#); // needs 1

    // The waiting heavy request times out at t0 + 2 s; by then 2 tokens have
    // accrued, enough for the echo behind it.
    assert!(sim.run_until(|s| s.server.count("echo") == 1, 2 * SECOND));
    assert_eq!(sim.now, t0 + 2 * SECOND + sim.latency);
    assert!(sim.events.contains(&Event::RequestFailed {
        id: waiting,
        error: RequestError::Timeout,
    }));
    assert!(sim.run_until(|s| response_ids(&s.events) == [cheap], SECOND));
    assert_eq!(sim.server.count("heavy"), 1);
}

#[test]
fn before_ready_the_sessions_queue_capacity_applies_not_the_limiters() {
    // The limiter queues 3 once ready; before that the session's queue
    // (10 here) holds what waits for the connection.
    let mut sim = Sim::new(TestRpc::default(), |config| {
        config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, limit(3));
        config.queue_capacity = 10;
        config.request_timeout = Duration::from_secs(120);
    });
    sim.connect();
    let ids = burst(&mut sim, 0, 11);
    sim.step();
    let failed = failures(&sim.events);
    assert_eq!(failed, [(ids[10], RequestError::QueueFull)]);
    assert!(sim.run_until(|s| response_ids(&s.events).len() == 10, 20 * SECOND));
}

#[test]
fn the_same_limits_set_again_keep_the_part_of_a_token_already_refilled() {
    let one_a_second = RateLimitConfig {
        capacity: 1,
        refill_amount: 1,
        refill_interval: SECOND,
        queue_capacity: 10,
    };
    let limits = RateLimits::default().with(RateClass::DEFAULT, one_a_second);
    let mut sim = ready_sim(|config| config.rate_limits = limits.clone());
    sim.run_for(2 * SECOND); // the bucket is full: one token
    let t0 = sim.now;
    burst(&mut sim, 0, 2); // the first takes the token, the second waits
    sim.run_for(SECOND / 2);
    sim.client.set_rate_limits(sim.now, limits).unwrap();
    assert!(sim.run_until(|s| s.server.count("echo") == 2, 2 * SECOND));
    // Sent when the token is whole, a second after the first; 1 ms on the way.
    assert_eq!(sim.now - t0, SECOND + Duration::from_millis(1));
}

#[test]
fn a_refusal_for_going_too_fast_spends_every_token() {
    let mut sim = ready_sim(|_| {});
    sim.run_for(10 * SECOND); // a full bucket: 5 tokens
    sim.server.behaviour.too_many_requests = 1;
    burst(&mut sim, 0, 1);
    sim.run_for(Duration::from_millis(10)); // refused with 10028 2 ms later
    assert_eq!(sim.server.count("echo"), 1);
    // Four tokens were left; the refusal spent them: the next one waits.
    burst(&mut sim, 1, 1);
    sim.run_for(Duration::from_millis(100));
    assert_eq!(
        sim.server.count("echo"),
        1,
        "nothing leaves with the tokens spent"
    );
}
