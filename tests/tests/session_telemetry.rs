//! The session's metrics (docs/metrics.md), read from an in-memory recorder
//! while the session runs in virtual time: each series holds exactly what
//! the scenario did.

use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::json;
use wsnova_core::session::{
    Credentials, Event, HeartbeatConfig, RateClass, RateLimitConfig, RateLimits, RequestError,
    SessionState,
};
use wsnova_core::wire::CloseCode;
use wsnova_tests::sim::{Sim, TestRpc};

const LIMIT: Duration = Duration::from_secs(30);

/// A series' labels as (key, value), sorted.
type Labels = Vec<(String, String)>;

/// Every series of a snapshot as (name, sorted labels, value).
struct Series(Vec<(String, Labels, DebugValue)>);

impl Series {
    fn take(snapshotter: &Snapshotter) -> Series {
        let series = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let mut labels: Labels = key
                    .key()
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                labels.sort();
                (key.key().name().to_owned(), labels, value)
            })
            .collect();
        Series(series)
    }

    /// The value of the one series `name` whose labels include `labels`.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        let mut found = self.0.iter().filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        });
        let first = found.next();
        assert!(
            found.next().is_none(),
            "{name} {labels:?}: more than one series"
        );
        first.map(|(_, _, v)| v)
    }

    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(name, labels) {
            Some(DebugValue::Counter(n)) => *n,
            other => panic!("{name} {labels:?}: {other:?}"),
        }
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.find(name, labels) {
            Some(DebugValue::Gauge(v)) => v.into_inner(),
            other => panic!("{name} {labels:?}: {other:?}"),
        }
    }

    fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        match self.find(name, labels) {
            Some(DebugValue::Histogram(v)) => v.iter().map(|x| x.into_inner()).collect(),
            other => panic!("{name} {labels:?}: {other:?}"),
        }
    }

    /// The outcomes counted for `method`, as (outcome, count), sorted.
    fn outcomes(&self, method: &str) -> Vec<(String, u64)> {
        let mut outcomes: Vec<(String, u64)> = self
            .0
            .iter()
            .filter(|(n, l, _)| {
                n == "wsnova_requests_total" && l.iter().any(|(k, v)| k == "method" && v == method)
            })
            .map(|(_, l, v)| {
                let outcome = l.iter().find(|(k, _)| k == "outcome").unwrap().1.clone();
                let DebugValue::Counter(n) = v else {
                    panic!("{v:?}")
                };
                (outcome, *n)
            })
            .collect();
        outcomes.sort();
        outcomes
    }
}

/// Runs `scenario` with a recorder installed for this thread only (each
/// test has its own), then hands back what it recorded.
fn recorded(scenario: impl FnOnce()) -> Series {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, scenario);
    Series::take(&snapshotter)
}

fn sim(name: &str) -> Sim<TestRpc> {
    Sim::new(TestRpc::default(), |c| {
        c.name = Some(name.into());
        c.credentials = Some(Credentials::new("client", "s3cret"));
        c.request_timeout = Duration::from_secs(5);
        c.heartbeat = HeartbeatConfig {
            ping_interval: None,
            ..HeartbeatConfig::default()
        };
    })
}

fn ok(s: &str) -> (String, u64) {
    (s.to_owned(), 1)
}

#[test]
fn each_application_request_counts_its_one_outcome_under_its_method() {
    let series = recorded(|| {
        let mut sim = sim("outcomes");
        sim.connect_until_ready();
        sim.request("echo", "{}");
        sim.request("echo", "{}");
        sim.request("no/such_method", "{}");
        sim.request("silent", "{}");
        sim.drive();
        sim.run_for(Duration::from_secs(6)); // the silent one times out
        // In flight when the connection drops; queued when the session closes.
        sim.request("public/test", "{}");
        sim.drop_connection();
        sim.drive();
        let events = sim.take_events();
        assert!(events.iter().any(|e| matches!(
            e,
            Event::RequestFailed {
                error: RequestError::ConnectionLost,
                ..
            }
        )));
        sim.request("private/get_positions", "{}");
        sim.client
            .close(sim.now, CloseCode::NORMAL, "bye")
            .expect("close");
        sim.drive();
        let events = sim.take_events();
        assert!(events.iter().any(|e| matches!(
            e,
            Event::RequestFailed {
                error: RequestError::Closed,
                ..
            }
        )));
    });
    let two = |s: &str| vec![(s.to_owned(), 2)];
    assert_eq!(series.outcomes("echo"), two("ok"));
    assert_eq!(series.outcomes("no/such_method"), [ok("rejected")]);
    assert_eq!(series.outcomes("silent"), [ok("timeout")]);
    assert_eq!(series.outcomes("public/test"), [ok("connection_lost")]);
    assert_eq!(series.outcomes("private/get_positions"), [ok("closed")]);
    // The core's own requests have no outcome series, only durations.
    assert_eq!(series.outcomes("public/auth"), []);
    let auth = series.histogram(
        "wsnova_request_duration_seconds",
        &[("connection", "outcomes"), ("method", "public/auth")],
    );
    assert_eq!(auth.len(), 1, "one login answered");
    // Two echoes answered, each after the link's 1 ms each way.
    let echo = series.histogram(
        "wsnova_request_duration_seconds",
        &[("connection", "outcomes"), ("method", "echo")],
    );
    assert_eq!(echo, [0.002, 0.002]);
}

#[test]
fn dials_losses_state_and_subscriptions_are_counted() {
    let mut received = 0;
    let mut stats = None;
    let series = recorded(|| {
        let mut sim = sim("lifecycle");
        sim.connect_until_ready();
        sim.subscribe(&["book.A", "trades.B"]);
        sim.drive();
        // A gap in the book's sequence.
        let snapshot_id = sim.server.book_seq;
        sim.server.notify(
            "book.A",
            json!({"type": "change", "change_id": snapshot_id + 3, "prev_change_id": snapshot_id + 2}),
        );
        sim.drive();
        let first = sim.client.generation();
        sim.drop_connection();
        assert!(sim.run_until(
            |s| s.client.generation() > first && s.is_ready_and_consistent(),
            LIMIT
        ));
        sim.drive();
        received = sim.server.received.len() as u64;
        stats = Some(sim.client.stats());
    });
    let stats = stats.expect("ran");
    // Every message sent here is a request the fake exchange received.
    assert_eq!(stats.messages_out, received);
    assert_eq!(
        series.counter("wsnova_messages_out_total", &[("connection", "lifecycle")]),
        received
    );
    let label = [("connection", "lifecycle")];
    // Every request was answered, and notifications came besides.
    assert!(
        stats.messages_in > received,
        "{} in, {received} requests",
        stats.messages_in
    );
    assert_eq!(
        series.counter("wsnova_messages_in_total", &label),
        stats.messages_in
    );
    // The socket bytes both ways, as the session's own stats count them.
    assert!(stats.bytes_in > 0 && stats.bytes_out > 0);
    assert_eq!(
        series.counter("wsnova_bytes_in_total", &label),
        stats.bytes_in
    );
    assert_eq!(
        series.counter("wsnova_bytes_out_total", &label),
        stats.bytes_out
    );
    assert_eq!(series.counter("wsnova_connections_total", &label), 2);
    // The socket closed without a close frame: a wire error (RFC 6455
    // §7.1.5, the connection closed abnormally).
    assert_eq!(
        series.counter(
            "wsnova_reconnects_total",
            &[("connection", "lifecycle"), ("reason", "wire")]
        ),
        1
    );
    assert_eq!(series.counter("wsnova_sequence_gaps_total", &label), 1);
    for (state, value) in [
        ("ready", 1.0),
        ("idle", 0.0),
        ("connecting", 0.0),
        ("backing_off", 0.0),
    ] {
        assert_eq!(
            series.gauge(
                "wsnova_state",
                &[("connection", "lifecycle"), ("state", state)]
            ),
            value,
            "{state}"
        );
    }
    for state in ["desired", "confirmed"] {
        assert_eq!(
            series.gauge(
                "wsnova_subscriptions",
                &[("connection", "lifecycle"), ("state", state)]
            ),
            2.0,
            "{state}"
        );
    }
}

#[test]
fn a_refused_login_is_counted_by_kind() {
    let series = recorded(|| {
        let mut sim = sim("logins");
        sim.server.behaviour.auth_failures.push_back(10_000);
        sim.connect();
        assert!(sim.run_until(|s| s.client.state() == SessionState::Ready, LIMIT));
    });
    assert_eq!(
        series.counter(
            "wsnova_auth_failures_total",
            &[("connection", "logins"), ("kind", "rejected")]
        ),
        1
    );
    assert_eq!(
        series.counter("wsnova_connections_total", &[("connection", "logins")]),
        2,
        "a rejected login is retried on a new connection"
    );
}

/// The queue-depth gauge after `scenario`, read once (a snapshot is read
/// once per test: the recorder may reset what it hands out).
fn queue_depth_after(scenario: impl FnOnce(&mut Sim<TestRpc>)) -> f64 {
    let series = recorded(|| {
        let mut sim = sim("queue");
        sim.connect();
        // Three requests wait for the connection.
        for _ in 0..3 {
            sim.request("echo", "{}");
        }
        scenario(&mut sim);
    });
    series.gauge("wsnova_ratelimit_queue_depth", &[("connection", "queue")])
}

#[test]
fn the_queue_depth_counts_what_waits_for_the_connection() {
    assert_eq!(queue_depth_after(|_| {}), 3.0);
}

#[test]
fn the_queue_depth_drops_to_zero_at_the_close() {
    let depth = queue_depth_after(|sim| {
        sim.client
            .close(sim.now, CloseCode::NORMAL, "bye")
            .expect("close");
        sim.drive();
    });
    assert_eq!(depth, 0.0);
}

#[test]
fn every_pong_records_its_round_trip() {
    let series = recorded(|| {
        let mut sim = Sim::new(TestRpc::default(), |c| {
            c.name = Some("pings".into());
            c.heartbeat.ping_interval = Some(Duration::from_secs(1));
        });
        sim.connect_until_ready();
        sim.run_for(Duration::from_millis(3_500));
    });
    let recorded = series.histogram("wsnova_ping_rtt_seconds", &[("connection", "pings")]);
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    // One latency each way, in virtual time.
    assert!(
        recorded.iter().all(|s| (*s - 0.002).abs() < 1e-9),
        "{recorded:?}"
    );
}

/// The gauges move with the command that changes them, not one input later.
#[test]
fn a_gauge_follows_the_change_at_once() {
    let series = recorded(|| {
        let mut sim = Sim::new(TestRpc::default(), |c| {
            c.name = Some("gauges".into());
            c.heartbeat.ping_interval = None;
            c.rate_limits = RateLimits::default().with(
                RateClass::DEFAULT,
                RateLimitConfig {
                    capacity: 10,
                    refill_amount: 1,
                    refill_interval: Duration::from_secs(3600),
                    queue_capacity: 10,
                },
            );
        });
        sim.connect_until_ready();
        sim.subscribe(&["ticker.A", "ticker.B"]);
        sim.drive();
        // The last commands, with no input after them.
        let now = sim.now;
        sim.client.request(now, "echo", "{}").expect("open");
        sim.client.unsubscribe(now, &["ticker.B"]).expect("open");
    });
    let label = |state| [("connection", "gauges"), ("state", state)];
    assert_eq!(series.gauge("wsnova_subscriptions", &label("desired")), 1.0);
    // One spent by the subscribe, one by the request, one by the unsubscribe.
    assert_eq!(
        series.gauge("wsnova_ratelimit_tokens", &[("connection", "gauges")]),
        7.0
    );
}

/// At most 128 methods get a series of their own (the login's included);
/// the rest share `other`, so a caller inventing methods cannot grow the
/// metrics without bound.
#[test]
fn methods_past_the_128th_share_one_series() {
    let series = recorded(|| {
        let mut sim = sim("methods");
        sim.connect_until_ready();
        for i in 0..200 {
            sim.request(&format!("private/m{i:03}"), "{}");
        }
        sim.drive();
    });
    let durations = |method| {
        series
            .histogram(
                "wsnova_request_duration_seconds",
                &[("connection", "methods"), ("method", method)],
            )
            .len()
    };
    assert_eq!(durations("public/auth"), 1);
    assert_eq!(durations("private/m126"), 1, "the 128th method");
    // 201 methods in all: 73 past the 128th.
    assert_eq!(durations("other"), 73);
}
