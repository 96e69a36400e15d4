//! Endpoint failover in the sans-IO session, in virtual time: a failed
//! attempt moves the next dial (after the usual backoff) to the next
//! endpoint, wrapping around; `Session::endpoint` names the one in use; a
//! proxy changes what is dialed, not the endpoint.

use std::time::{Duration, Instant};

use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, Credentials, Event, Input, Output, Plain, Session,
    SessionConfig, SessionState,
};
use wsnova_core::wire::Proxy;
use wsnova_tests::sim::{Sim, TestRpc};

fn config() -> SessionConfig {
    let mut config = SessionConfig::new("wss://primary.example/ws").unwrap();
    config.failover = vec![
        config.wire.with_url("wss://backup-1.example/ws").unwrap(),
        config.wire.with_url("wss://backup-2.example/ws").unwrap(),
    ];
    config.backoff = BackoffConfig {
        strategy: BackoffStrategy::Linear,
        base: Duration::from_millis(100),
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    };
    config.seed = 1;
    config
}

/// Runs until the next `Dial` and returns its generation, host and port.
fn next_dial(session: &mut Session<Plain>, now: &mut Instant) -> (u64, String, u16) {
    for _ in 0..100 {
        while let Some(output) = session.poll_output() {
            if let Output::Dial {
                generation,
                host,
                port,
            } = output
            {
                return (generation, host, port);
            }
        }
        *now = session.poll_timeout().expect("a backoff is pending");
        session.handle_timeout(*now);
    }
    panic!("no dial");
}

#[test]
fn failed_attempts_move_to_the_next_endpoint_and_wrap_around() {
    let mut now = Instant::now();
    let mut session = Session::new(config(), Plain, now);
    session.connect(now).unwrap();
    let mut hosts = Vec::new();
    for _ in 0..4 {
        let (generation, host, _) = next_dial(&mut session, &mut now);
        assert_eq!(session.endpoint().host(), host);
        hosts.push(host);
        let error = "refused";
        session.handle_input(now, Input::ConnectFailed { generation, error });
    }
    assert_eq!(
        hosts,
        [
            "primary.example",
            "backup-1.example",
            "backup-2.example",
            "primary.example"
        ]
    );
}

#[test]
fn a_proxy_is_dialed_while_the_endpoint_stays_the_server() {
    let mut config = config();
    let proxy = Proxy::parse("socks5h://127.0.0.1:1080").unwrap();
    config.wire = config.wire.proxy(proxy.clone());
    config.failover[0] = config.failover[0].clone().proxy(proxy);
    let mut now = Instant::now();
    let mut session = Session::new(config, Plain, now);
    session.connect(now).unwrap();
    let (generation, host, port) = next_dial(&mut session, &mut now);
    assert_eq!((host.as_str(), port), ("127.0.0.1", 1080));
    assert_eq!(session.endpoint().host(), "primary.example");
    session.handle_input(
        now,
        Input::ConnectFailed {
            generation,
            error: "refused",
        },
    );
    let (_, host, port) = next_dial(&mut session, &mut now);
    assert_eq!((host.as_str(), port), ("127.0.0.1", 1080));
    assert_eq!(session.endpoint().host(), "backup-1.example");
}

#[test]
fn failing_fast_before_ready_waits_until_every_endpoint_was_tried_once() {
    let mut now = Instant::now();
    let mut config = config();
    config.fail_before_first_ready = true;
    let mut session = Session::new(config, Plain, now);
    session.connect(now).unwrap();
    let mut hosts = Vec::new();
    for _ in 0..3 {
        let (generation, host, _) = next_dial(&mut session, &mut now);
        hosts.push(host);
        let error = "refused";
        session.handle_input(now, Input::ConnectFailed { generation, error });
    }
    assert_eq!(
        hosts,
        ["primary.example", "backup-1.example", "backup-2.example"]
    );
    // The third failure tried the last endpoint: the session gives up.
    let closed = std::iter::from_fn(|| session.poll_output())
        .any(|o| matches!(o, Output::Event(Event::Closed { .. })));
    assert!(closed);
    assert_eq!(session.state(), SessionState::Closed);
}

#[test]
fn a_connection_lost_after_its_upgrade_before_ready_fails_fast_at_once() {
    // Past the upgrade the endpoint answered: the failover is not for this.
    let mut sim = Sim::new(TestRpc::default(), |c| {
        c.failover = vec![c.wire.with_url("ws://backup.test/ws").unwrap()];
        c.credentials = Some(Credentials::new("client", "s3cret"));
        c.fail_before_first_ready = true;
    });
    sim.connect();
    assert!(sim.run_until(
        |s| s.client.state() == SessionState::Authenticating,
        Duration::from_secs(5)
    ));
    sim.drop_connection();
    assert!(sim.run_until(
        |s| s.client.state() == SessionState::Closed,
        Duration::from_secs(5)
    ));
    assert_eq!(sim.dials.len(), 1, "no second dial");
}
