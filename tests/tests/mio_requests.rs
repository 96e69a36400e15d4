//! Requests, subscriptions and auth through the mio driver's blocking
//! handle. The echo server sends every request back; a test adapter reads an
//! echoed request as the response to itself (its result is its params), so
//! correlation, timeouts and confirmations run over a real socket.

use std::time::Duration;
use wsnova_mio::ConnectOn as _;

use serde::Deserialize;
use serde_json::value::RawValue;
use wsnova_core::session::{
    Adapter, AuthContext, Credentials, Event, Inbound, OutgoingRequest, RequestError,
};
use wsnova_mio::{Builder, EventLoop, Events, Handle};
use wsnova_tests::EchoServer;

const STEP: Duration = Duration::from_secs(10);

/// Answers every request with its own params, except method `silent`.
struct RpcEcho;

#[derive(Deserialize)]
struct Echoed<'a> {
    id: u64,
    method: &'a str,
    #[serde(borrow)]
    params: &'a RawValue,
}

impl Adapter for RpcEcho {
    fn classify<'a>(&self, text: &'a str) -> Inbound<'a> {
        match serde_json::from_str::<Echoed<'a>>(text) {
            Ok(echoed) if echoed.method != "silent" => Inbound::Response {
                id: wsnova_core::session::RequestId(echoed.id),
                outcome: Ok(echoed.params),
            },
            _ => Inbound::Other,
        }
    }

    fn subscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        let params = serde_json::json!({ "channels": channels }).to_string();
        Some(OutgoingRequest::new("subscribe", params))
    }

    fn unsubscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        let params = serde_json::json!({ "channels": channels }).to_string();
        Some(OutgoingRequest::new("unsubscribe", params))
    }

    fn auth_request(&self, _: &Credentials, _: &AuthContext) -> Option<OutgoingRequest> {
        Some(OutgoingRequest::new("auth", "{}"))
    }
}

fn connect(event_loop: &EventLoop, server: &EchoServer, timeout: Duration) -> (Handle, Events) {
    Builder::new(&server.url())
        .unwrap()
        .request_timeout(timeout)
        .connect(event_loop, RpcEcho)
        .expect("connect")
}

/// The next event matching `want`, skipping others.
fn wait_for(events: &Events, want: impl Fn(&Event) -> bool) -> Event {
    loop {
        let event = events.recv_timeout(STEP).expect("an event in time");
        if want(&event) {
            return event;
        }
    }
}

#[test]
fn a_request_gets_its_own_response() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect(&event_loop, &server, STEP);
    let result = handle
        .request("echo", &serde_json::json!({ "x": 1 }))
        .unwrap();
    assert_eq!(result.as_str(), r#"{"x":1}"#);
    handle.close().unwrap();
}

#[test]
fn concurrent_requests_from_many_threads_are_correlated() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect(&event_loop, &server, STEP);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let result = handle.request("echo", &[t, i]).unwrap();
                    assert_eq!(result.as_str(), format!("[{t},{i}]"));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    handle.close().unwrap();
}

#[test]
fn an_unanswered_request_times_out_on_the_loops_timer() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect(&event_loop, &server, Duration::from_millis(200));
    let started = std::time::Instant::now();
    assert_eq!(handle.request("silent", &()), Err(RequestError::Timeout));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < STEP,
        "{waited:?}"
    );
    // The connection is still fine.
    assert_eq!(handle.request("echo", &[1]).unwrap().as_str(), "[1]");
    handle.close().unwrap();
}

#[test]
fn the_callers_own_timeout_bounds_the_wait() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect(&event_loop, &server, STEP);
    let started = std::time::Instant::now();
    let result = handle.request_timeout("silent", &(), Duration::from_millis(50));
    let waited = started.elapsed();
    assert_eq!(result, Err(RequestError::Timeout));
    // The caller's 50 ms, not the connection's 10 s default.
    assert!(
        waited >= Duration::from_millis(50) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    handle.close().unwrap();
}

#[test]
fn requests_after_close_fail_with_closed() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect(&event_loop, &server, STEP);
    handle.close().unwrap();
    assert_eq!(handle.request("echo", &[1]), Err(RequestError::Closed));
}

#[test]
fn subscribe_unsubscribe_and_authenticate_are_confirmed() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server, STEP);
    handle.subscribe(&["trades", "book"]).unwrap();
    match wait_for(&events, |e| matches!(e, Event::Subscribed { .. })) {
        Event::Subscribed { mut channels } => {
            channels.sort();
            assert_eq!(channels, ["book", "trades"]);
        }
        _ => unreachable!(),
    }
    let mut status = handle.status();
    status.subscriptions.sort();
    assert_eq!(status.subscriptions, ["book", "trades"]);

    handle.unsubscribe(&["book"]).unwrap();
    let unsubscribed = wait_for(&events, |e| matches!(e, Event::Unsubscribed { .. }));
    assert_eq!(
        unsubscribed,
        Event::Unsubscribed {
            channels: vec!["book".into()]
        }
    );
    assert_eq!(handle.status().subscriptions, ["trades"]);
    assert_eq!(handle.status().desired_subscriptions, ["trades"]);

    assert!(!handle.status().authenticated);
    handle
        .authenticate(Credentials::new("id", "secret"))
        .unwrap();
    wait_for(&events, |e| matches!(e, Event::Authenticated { .. }));
    assert!(handle.status().authenticated);
    handle.close().unwrap();
}

#[test]
fn send_json_sends_text() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, events) = connect(&event_loop, &server, STEP);
    handle
        .send_json(&serde_json::json!({ "hello": [1, 2] }))
        .unwrap();
    match wait_for(&events, |e| matches!(e, Event::Message(_))) {
        Event::Message(m) => assert_eq!(m, wsnova_core::wire::Message::text(r#"{"hello":[1,2]}"#)),
        _ => unreachable!(),
    }
    handle.close().unwrap();
}

#[test]
fn each_callers_timeout_is_its_own_while_others_are_answered() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect(&event_loop, &server, STEP);
    let waits: Vec<_> = [50u64, 150, 300]
        .into_iter()
        .map(|ms| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let bound = Duration::from_millis(ms);
                let result = handle.request_timeout("silent", &[ms], bound);
                (bound, result, started.elapsed())
            })
        })
        .collect();
    // Meanwhile the connection answers others at once.
    for i in 0..20 {
        assert_eq!(
            handle.request("echo", &[i]).unwrap().as_str(),
            format!("[{i}]")
        );
    }
    for wait in waits {
        let (bound, result, waited) = wait.join().unwrap();
        assert_eq!(result, Err(RequestError::Timeout));
        // Each caller's own bound, not the connection's 10 s nor another's.
        assert!(
            waited >= bound && waited < bound + Duration::from_millis(1500),
            "bound {bound:?}, waited {waited:?}"
        );
    }
    handle.close().unwrap();
}
