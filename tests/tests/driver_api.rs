//! One API across both drivers, proven on real sockets: the front-door
//! examples run against the Deribit mock, `subscribe` waits for the
//! server's answer, `connect`'s events start after what it reported,
//! request params follow JSON-RPC 2.0 §4.2, and mistakes fail fast.

use std::time::Duration;

use wsnova_tests::deribit::{MockConfig, MockDeribit};
use wsnova_tests::echo_server::EchoServer;
use wsnova_tokio::{
    Builder, ConnectError, Event, Message, Plain, RequestError, SubscribeError, adapters::Deribit,
};

#[allow(dead_code)]
#[path = "../../io-tokio/examples/tokio_quickstart.rs"]
mod tokio_quickstart;

#[allow(dead_code)]
#[path = "../../io-mio/examples/mio_quickstart.rs"]
mod mio_quickstart;

const STEP: Duration = Duration::from_secs(10);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_tokio_quickstart_runs_against_the_mock() {
    let mock = MockDeribit::start(MockConfig::default());
    let update = runtime()
        .block_on(async { tokio::time::timeout(STEP, tokio_quickstart::run(&mock.url())).await })
        .expect("within the step")
        .expect("the example succeeds");
    assert!(
        update.starts_with("ticker.BTC-PERPETUAL.100ms: {"),
        "{update}"
    );
}

#[test]
fn the_mio_quickstart_runs_against_the_mock() {
    let mock = MockDeribit::start(MockConfig::default());
    let update = mio_quickstart::run(&mock.url()).expect("the example succeeds");
    assert!(
        update.starts_with("ticker.BTC-PERPETUAL.100ms: {"),
        "{update}"
    );
}

const UNKNOWN: &str = "no.such.channel";

#[test]
fn subscribe_reports_a_refusal_on_both_drivers() {
    let mock = MockDeribit::start(MockConfig::default());
    let refused = |outcome| match outcome {
        Err(SubscribeError::Refused { channels, .. }) => channels,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let tokio_outcome = runtime().block_on(async {
        let builder = Builder::new(&mock.url()).unwrap();
        let (client, _events) = wsnova_tokio::connect(builder, Deribit::new())
            .await
            .unwrap();
        let outcome = client
            .subscribe_timeout(&["ticker.BTC-PERPETUAL.100ms", UNKNOWN], STEP)
            .await;
        assert_eq!(
            client.status().subscriptions,
            ["ticker.BTC-PERPETUAL.100ms"],
            "the other channel of the call is confirmed"
        );
        outcome
    });
    assert_eq!(refused(tokio_outcome), [UNKNOWN]);

    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let builder = Builder::new(&mock.url()).unwrap();
    let (handle, _events) = event_loop.connect(builder, Deribit::new()).unwrap();
    assert_eq!(
        refused(handle.subscribe_timeout(&[UNKNOWN], STEP)),
        [UNKNOWN]
    );
    assert_eq!(
        handle.subscribe_timeout(&["book.BTC-PERPETUAL.100ms"], STEP),
        Ok(())
    );
    assert_eq!(
        handle.subscribe_timeout(&["book.BTC-PERPETUAL.100ms"], Duration::from_millis(1)),
        Ok(()),
        "confirmed already: no wait"
    );
}

/// The events `connect` returns tell the whole story: `Connected`,
/// `Ready`, then what follows; a consumer added later starts where it was added.
#[test]
fn events_from_connect_tell_the_whole_story_on_both_drivers() {
    let server = EchoServer::start();
    let first = runtime().block_on(async {
        let (client, mut events) =
            wsnova_tokio::connect(Builder::new(&server.url()).unwrap(), Plain)
                .await
                .unwrap();
        client.send_text("first").await.unwrap();
        let mut first = Vec::new();
        for _ in 0..3 {
            first.push(tokio::time::timeout(STEP, events.recv()).await.unwrap());
        }
        let mut more = client.events();
        client.close().await.unwrap();
        let next = tokio::time::timeout(STEP, more.recv()).await.unwrap();
        assert!(
            matches!(
                next,
                Some(Event::Disconnected {
                    initiator: wsnova_tokio::Initiator::User,
                    ..
                })
            ),
            "a later consumer sees what comes after it: {next:?}"
        );
        first
    });
    assert_eq!(
        first,
        [
            Some(Event::Connected),
            Some(Event::Ready),
            Some(Event::Message(Message::text("first")))
        ]
    );

    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let (handle, events) = event_loop
        .connect(Builder::new(&server.url()).unwrap(), Plain)
        .unwrap();
    handle.send_text("first").unwrap();
    let first: Vec<Event> = (0..3).map(|_| events.recv_timeout(STEP).unwrap()).collect();
    assert_eq!(
        first,
        [
            Event::Connected,
            Event::Ready,
            Event::Message(Message::text("first"))
        ]
    );
    let more = handle.events();
    handle.close().unwrap();
    assert!(
        matches!(
            more.recv_timeout(STEP).unwrap(),
            Event::Disconnected {
                initiator: wsnova_tokio::Initiator::User,
                ..
            }
        ),
        "a later consumer sees what comes after it"
    );
}

/// `&()` sends no `params` member (the echo server shows the request);
/// JSON text given to `request` is refused before anything is sent.
#[test]
fn request_params_follow_json_rpc_on_both_drivers() {
    let server = EchoServer::start();
    let short = Duration::from_millis(200);
    let not_params = |outcome: Result<_, RequestError>| match outcome {
        Err(RequestError::Rejected(e)) => assert_eq!(e.code, -32602, "{}", e.message),
        other => panic!("expected invalid params, got {other:?}"),
    };
    let echoed = runtime().block_on(async {
        let (client, mut events) =
            wsnova_tokio::connect(Builder::new(&server.url()).unwrap(), Plain)
                .await
                .unwrap();
        not_params(client.request("m", r#"{"a":1}"#).await);
        not_params(client.request_raw("m", "{not json").await);
        // Plain matches no answer: the request times out, its echo is an event.
        let outcome = client.request_timeout("m", &(), short).await;
        assert_eq!(outcome, Err(RequestError::Timeout));
        loop {
            match tokio::time::timeout(STEP, events.recv()).await.unwrap() {
                Some(Event::Connected | Event::Ready) => continue,
                other => break other,
            }
        }
    });
    let Some(Event::Message(text)) = echoed else {
        panic!("{echoed:?}")
    };
    let text = std::str::from_utf8(text.as_bytes()).unwrap();
    assert!(
        text.contains(r#""method":"m""#) && !text.contains("params"),
        "{text}"
    );

    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let (handle, mut events) = event_loop
        .connect(Builder::new(&server.url()).unwrap(), Plain)
        .unwrap();
    not_params(handle.request("m", &42));
    let outcome = handle.request_timeout("m", &serde_json::json!({"a": 1}), short);
    assert_eq!(outcome, Err(RequestError::Timeout));
    let echoed = events.find(|e| !matches!(e, Event::Connected | Event::Ready));
    let Some(Event::Message(text)) = echoed else {
        panic!("{echoed:?}")
    };
    assert!(
        std::str::from_utf8(text.as_bytes())
            .unwrap()
            .contains(r#""params":{"a":1}"#)
    );
}

#[test]
fn a_zero_event_capacity_fails_fast_on_both_drivers() {
    let builder = || Builder::new("ws://127.0.0.1:9/").unwrap().event_capacity(0);
    let expect_invalid = |e: ConnectError| {
        assert!(
            matches!(&e, ConnectError::InvalidOption(m) if m.contains("event_capacity")),
            "{e}"
        )
    };
    let tokio_outcome = runtime().block_on(async {
        tokio::time::timeout(STEP, wsnova_tokio::connect(builder(), Plain)).await
    });
    expect_invalid(tokio_outcome.expect("at once").unwrap_err());
    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    expect_invalid(event_loop.connect(builder(), Plain).unwrap_err());
}

/// An embedded `Connection` without a resolver cannot resolve a host name:
/// `connect` says so at once instead of retrying forever.
#[test]
fn an_unresolvable_host_without_a_resolver_fails_fast() {
    let poll = wsnova_mio::mio::Poll::new().unwrap();
    let registry = std::sync::Arc::new(poll.registry().try_clone().unwrap());
    let builder = Builder::new("ws://example.invalid/").unwrap();
    let mut conn =
        wsnova_mio::Connection::new(builder, Plain, registry.clone(), wsnova_mio::mio::Token(1));
    let err = conn.connect().unwrap_err();
    assert!(
        matches!(&err, ConnectError::InvalidOption(m) if m.contains("example.invalid") && m.contains("Resolver")),
        "{err}"
    );
    assert_eq!(
        conn.state(),
        wsnova_tokio::SessionState::Idle,
        "nothing dialled"
    );
    // An IP address needs no resolver.
    let builder = Builder::new("ws://127.0.0.1:9/").unwrap();
    let mut conn = wsnova_mio::Connection::new(builder, Plain, registry, wsnova_mio::mio::Token(2));
    assert!(conn.connect().is_ok());
}

/// Subprotocols are offered from the builder of both drivers, and the one
/// an independent server (Python `websockets`) selected is reported.
#[test]
fn the_selected_subprotocol_is_reported_on_both_drivers() {
    let server = wsnova_tests::python::PythonServer::start("python_echo_server.py");
    let builder = || {
        Builder::new(&server.url())
            .unwrap()
            .subprotocol("wsnova.v1")
            .subprotocol("wsnova.v2")
    };
    let (selected, answer) = runtime().block_on(async {
        let (client, mut events) = wsnova_tokio::connect(builder(), Plain).await.unwrap();
        client.send_text("which-subprotocol?").await.unwrap();
        let answer = loop {
            match tokio::time::timeout(STEP, events.recv()).await.unwrap() {
                Some(Event::Message(m)) => break m,
                Some(_) => continue,
                None => panic!("closed"),
            }
        };
        (client.status().subprotocol, answer)
    });
    assert_eq!(selected.as_deref(), Some("wsnova.v2"));
    assert_eq!(answer.as_text(), Some("wsnova.v2"), "the server agrees");

    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let (handle, _events) = event_loop.connect(builder(), Plain).unwrap();
    assert_eq!(handle.status().subprotocol.as_deref(), Some("wsnova.v2"));
}
