//! The tokio driver end to end against tokio-tungstenite's echo server.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{Event, Plain, SessionConfig};
use wsnova_core::wire::Message;
use wsnova_tests::EchoServer;

const STEP: Duration = Duration::from_secs(10);

async fn next_message(events: &mut wsnova_tokio::Events) -> Message {
    loop {
        match timeout(STEP, events.next())
            .await
            .expect("an event in time")
        {
            Some(Event::Message(m)) => return m,
            Some(_) => continue,
            None => panic!("events ended"),
        }
    }
}

#[tokio::test]
async fn echo_text_binary_ping_and_close() {
    let server = EchoServer::start();
    let config = SessionConfig::new(&server.url()).unwrap();
    let (client, mut events) = timeout(STEP, wsnova_tokio::connect(config, Plain))
        .await
        .expect("connect in time")
        .expect("connect");
    client.send_text("hello").await.unwrap();
    client.send_binary([1u8, 2, 3]).await.unwrap();
    assert_eq!(next_message(&mut events).await, Message::text("hello"));
    assert_eq!(
        next_message(&mut events).await,
        Message::binary(vec![1u8, 2, 3])
    );
    let rtt = timeout(STEP, client.ping()).await.unwrap().unwrap();
    assert!(rtt < STEP);
    timeout(STEP, client.close()).await.unwrap().unwrap();
    let rest: Vec<Event> = timeout(STEP, events.collect()).await.unwrap();
    assert!(
        matches!(rest.last(), Some(Event::Closed { .. })),
        "{rest:?}"
    );
}
