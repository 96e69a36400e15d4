//! `try_send_text_direct`: a message is framed at once only when the session
//! is ready and nothing waits ahead of it; otherwise it is refused (and
//! `send_text` queues it), so nothing overtakes the login or what the rate
//! limiter holds.

use std::time::Duration;

use serde_json::json;
use wsnova_core::session::{Credentials, RateClass, RateLimitConfig, RateLimits, SessionState};
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(30);

/// A message the fake exchange records but never answers.
fn message(n: u64) -> String {
    json!({"jsonrpc": "2.0", "method": "silent", "params": {"n": n}}).to_string()
}

fn methods(sim: &Sim<TestRpc>) -> Vec<&str> {
    sim.server
        .received
        .iter()
        .map(|r| r.method.as_str())
        .collect()
}

#[test]
fn nothing_goes_out_directly_before_the_login_is_answered() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        c.credentials = Some(Credentials::new("client", "s3cret"));
    });
    sim.connect();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Authenticating, LIMIT));
    assert!(!sim.client.try_send_text_direct(&message(1)));
    sim.client.send_text(sim.now, &message(1)).unwrap();
    assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    sim.drive();
    assert_eq!(methods(&sim), ["public/auth", "silent"]);
    // Ready with nothing queued: straight out, and counted.
    let before = sim.client.stats().messages_out;
    assert!(sim.client.try_send_text_direct(&message(2)));
    assert_eq!(sim.client.stats().messages_out, before + 1);
    sim.drive();
    assert_eq!(methods(&sim), ["public/auth", "silent", "silent"]);
}

#[test]
fn a_direct_send_never_overtakes_what_the_limiter_holds() {
    let mut sim = Sim::new(TestRpc::default(), |c| {
        let one_a_second = RateLimitConfig {
            capacity: 1,
            refill_amount: 1,
            refill_interval: Duration::from_secs(1),
            queue_capacity: 10,
        };
        c.rate_limits = RateLimits::default().with(RateClass::DEFAULT, one_a_second);
    });
    sim.connect_until_ready();
    sim.run_for(Duration::from_millis(1_500)); // a full bucket
    sim.request("echo", "{}");
    sim.request("echo", "{}"); // waits a second for its token
    assert!(!sim.client.try_send_text_direct(&message(1)));
    sim.client.send_text(sim.now, &message(1)).unwrap();
    sim.run_for(Duration::from_secs(3));
    assert_eq!(methods(&sim), ["echo", "echo", "silent"]);
}
