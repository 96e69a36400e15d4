//! The tokio driver against an independent implementation: an echo server on
//! Python's `websockets` (tests/fixtures/python_echo_server.py), run as a
//! child process. The Python comes from `$WSNOVA_PYTHON` or
//! `target/pyenv` (made on first use; see `wsnova_tests::python`).

use std::time::Duration;
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, DisconnectReason, Event, Initiator, Plain,
};
use wsnova_core::wire::Message;
use wsnova_tests::python::PythonServer;
use wsnova_tokio::{Builder, Client, Events};

const STEP: Duration = Duration::from_secs(10);
const SCRIPT: &str = "python_echo_server.py";

/// Starts the Python server off the runtime's thread (it may have to make
/// the venv first, which blocks).
async fn start_server() -> PythonServer {
    tokio::task::spawn_blocking(|| PythonServer::start(SCRIPT))
        .await
        .expect("the Python server starts")
}

async fn connect(server: &PythonServer) -> (Client, Events) {
    let backoff = BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_attempts: None,
    };
    let builder = Builder::new(&server.url()).unwrap().backoff(backoff);
    timeout(STEP, builder.connect(Plain))
        .await
        .expect("connect in time")
        .expect("connect to the Python server")
}

async fn next_event(events: &mut Events) -> Event {
    timeout(STEP, events.next())
        .await
        .expect("an event in time")
        .expect("events ended")
}

async fn next_message(events: &mut Events) -> Message {
    loop {
        match next_event(events).await {
            Event::Message(m) => return m,
            Event::Connected | Event::Ready | Event::Pong { .. } => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_binary_echo_through_python_websockets() {
    let server = start_server().await;
    let (client, mut events) = connect(&server).await;
    client
        .send_text("hello from wsnova \u{1f980}")
        .await
        .unwrap();
    client
        .send_binary([0u8, 1, 2, 253, 254, 255])
        .await
        .unwrap();
    client.send_text("").await.unwrap();
    assert_eq!(
        next_message(&mut events).await,
        Message::text("hello from wsnova \u{1f980}")
    );
    assert_eq!(
        next_message(&mut events).await,
        Message::binary(vec![0u8, 1, 2, 253, 254, 255])
    );
    assert_eq!(next_message(&mut events).await, Message::text(""));
    for i in 0..100 {
        client.send_text(format!("m{i}")).await.unwrap();
    }
    for i in 0..100 {
        assert_eq!(
            next_message(&mut events).await,
            Message::text(format!("m{i}"))
        );
    }
    timeout(STEP, client.close()).await.unwrap().unwrap();
    let rest: Vec<Event> = timeout(STEP, events.collect()).await.unwrap();
    assert!(
        matches!(rest.last(), Some(Event::Closed { .. })),
        "{rest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_256_kib_message_round_trips() {
    let server = start_server().await;
    let (client, mut events) = connect(&server).await;
    let binary: Vec<u8> = (0..256 * 1024).map(|i| (i % 241) as u8).collect();
    let text = "\u{e9}t\u{e9} ".repeat(256 * 1024 / 6); // 2-byte characters too
    client.send_binary(&binary).await.unwrap();
    client.send_text(&text).await.unwrap();
    match next_message(&mut events).await {
        Message::Binary(got) => assert!(got[..] == binary[..], "256 KiB binary differs"),
        other => panic!("expected binary, got {} text bytes", other.len()),
    }
    match next_message(&mut events).await {
        Message::Text(got) => assert!(got.as_str() == text, "text differs"),
        other => panic!("expected text, got {} binary bytes", other.len()),
    }
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_gets_a_pong_from_python() {
    let server = start_server().await;
    let (client, _events) = connect(&server).await;
    for _ in 0..3 {
        let rtt = timeout(STEP, client.ping())
            .await
            .expect("pong in time")
            .expect("ping on a ready connection");
        assert!(rtt > Duration::ZERO && rtt < STEP, "{rtt:?}");
    }
    assert!(client.status().stats.last_rtt.is_some());
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_close_4000_is_reported_as_server_closed_then_reconnects() {
    let server = start_server().await;
    let (client, mut events) = connect(&server).await;
    assert_eq!(next_event(&mut events).await, Event::Connected);
    assert_eq!(next_event(&mut events).await, Event::Ready);
    client.send_text("close-me").await.unwrap();
    match next_event(&mut events).await {
        Event::Disconnected {
            reason: DisconnectReason::ServerClosed(frame),
            initiator,
            reconnect_in,
        } => {
            assert_eq!(u16::from(frame.code), 4000);
            assert_eq!(frame.reason.as_str(), "bye");
            assert_eq!(initiator, Initiator::Remote);
            assert!(reconnect_in.is_some());
        }
        other => panic!("expected Disconnected(ServerClosed(4000)), got {other:?}"),
    }
    assert_eq!(
        next_event(&mut events).await,
        Event::Reconnecting { attempt: 1 }
    );
    assert_eq!(next_event(&mut events).await, Event::Connected);
    assert_eq!(next_event(&mut events).await, Event::Ready);
    client.send_text("again").await.unwrap();
    assert_eq!(next_message(&mut events).await, Message::text("again"));
    timeout(STEP, client.close()).await.unwrap().unwrap();
}
