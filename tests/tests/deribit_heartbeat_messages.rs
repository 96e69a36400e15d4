//! Deribit's plain heartbeats (`{"method":"heartbeat","params":{"type":"heartbeat"}}`)
//! need no answer (`public/set_heartbeat`): they never reach the
//! application as messages, while other unknown messages still do. A
//! scripted WebSocket server sends a plain heartbeat, then a marker; the
//! client (tokio, Deribit adapter) must see the marker as its first message.
#![cfg(feature = "net")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use wsnova_adapters::deribit::Deribit;
use wsnova_core::session::Event;
use wsnova_core::wire::Message;
use wsnova_tokio::{Builder, Connect as _};

const STEP: Duration = Duration::from_secs(10);
const HEARTBEAT: &str = r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}"#;
const MARKER: &str = r#"{"jsonrpc":"2.0","method":"marker","params":{"n":1}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_heartbeats_are_not_delivered_as_messages() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("a client");
        let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
        for text in [HEARTBEAT, HEARTBEAT, MARKER] {
            ws.send(WsMessage::text(text)).await.expect("sent");
        }
        // Until the client closes.
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
        }
    });

    let url = format!("ws://{addr}/ws/api/v2");
    let builder = Builder::new(&url).expect("a url");
    let connect = tokio::time::timeout(STEP, builder.connect(Deribit::new()));
    let (client, mut events) = connect.await.expect("in time").expect("connected");
    let first = loop {
        let event = tokio::time::timeout(STEP, events.next()).await;
        match event.expect("a message in time").expect("events go on") {
            Event::Message(Message::Text(text)) => break text,
            Event::Message(other) => panic!("unexpected {other:?}"),
            _ => {}
        }
    };
    assert_eq!(
        first.as_str(),
        MARKER,
        "the heartbeats before it were not delivered"
    );
    client.close().await.expect("closed");
    tokio::time::timeout(STEP, server)
        .await
        .expect("server done")
        .expect("no panic");
}
