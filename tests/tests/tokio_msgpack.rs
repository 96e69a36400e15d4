//! The MessagePack codec end to end: the tokio driver and a JSON-RPC adapter
//! with `Codec::MessagePack` against a server that speaks only MessagePack in
//! binary messages. Requests leave as MessagePack, responses and
//! notifications come back decoded to the JSON the events carry.

use std::time::Duration;
use wsnova_tokio::Connect as _;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::time::timeout;
use wsnova_adapters::{JsonRpc, SubscriptionStyle};
use wsnova_core::session::{Codec, Event, RequestError};
use wsnova_core::wire::Message;
use wsnova_tests::msgpack_server::{MsgPackServer, RAW_PAYLOAD};
use wsnova_tokio::{Client, Events};

const STEP: Duration = Duration::from_secs(10);

fn adapter() -> JsonRpc {
    JsonRpc::new()
        .with_codec(Codec::MessagePack)
        .with_subscriptions(SubscriptionStyle::channel_list("subscribe", "unsubscribe"))
        .with_subscription_method("subscription")
}

async fn connect(server: &MsgPackServer) -> (Client, Events) {
    let builder = wsnova_tokio::Builder::new(&server.url()).unwrap();
    timeout(STEP, builder.connect(adapter()))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// The next event `pick` accepts; fails on a lost connection or the end of the stream.
async fn next_event<T>(events: &mut Events, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    loop {
        let event = timeout(STEP, events.next())
            .await
            .expect("an event in time")
            .expect("events go on");
        if let e @ (Event::Disconnected { .. } | Event::Closed { .. } | Event::Lagged { .. }) =
            event
        {
            panic!("unexpected {e:?}");
        }
        if let Some(found) = pick(event) {
            return found;
        }
    }
}

async fn request(client: &Client, method: &str, params: Value) -> Result<Value, RequestError> {
    let result = timeout(STEP, client.request(method, &params))
        .await
        .expect("an outcome in time")?;
    Ok(result.parse().expect("the result is JSON"))
}

#[tokio::test]
async fn requests_and_responses_travel_as_messagepack() {
    let server = MsgPackServer::start();
    let (client, _events) = connect(&server).await;

    assert_eq!(request(&client, "add", json!([2, 40])).await, Ok(json!(42)));
    let params = json!({"text": "héllo", "list": [1.5, null, true, -7], "nested": {}});
    assert_eq!(request(&client, "echo", params.clone()).await, Ok(params));
    match request(&client, "no/such", json!({})).await {
        Err(RequestError::Rejected(error)) => {
            assert_eq!(
                (error.code, error.message.as_str()),
                (-32601, "method not found")
            );
        }
        other => panic!("{other:?}"),
    }

    // Every request went as a binary message; none as text.
    assert_eq!((server.requests(), server.text_messages()), (3, 0));
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_subscribed_channel_delivers_decoded_notifications() {
    let server = MsgPackServer::start();
    let (client, mut events) = connect(&server).await;

    client.subscribe(&["ticker.BTC"]).await.unwrap();
    let confirmed = next_event(&mut events, |e| match e {
        Event::Subscribed { channels } => Some(channels),
        _ => None,
    })
    .await;
    assert_eq!(confirmed, ["ticker.BTC"]);
    let (channel, data) = next_event(&mut events, |e| match e {
        Event::Notification { channel, data } => Some((channel, data)),
        _ => None,
    })
    .await;
    assert_eq!(channel, "ticker.BTC");
    assert_eq!(
        data.parse::<Value>().unwrap(),
        json!({"channel": "ticker.BTC", "seq": 1, "price": 101.5})
    );
    timeout(STEP, client.close()).await.unwrap().unwrap();
}

#[tokio::test]
async fn other_messages_reach_the_application_as_json_or_unchanged() {
    let server = MsgPackServer::start();
    let (client, mut events) = connect(&server).await;

    assert_eq!(request(&client, "raw", json!(null)).await, Ok(json!(true)));
    let mut next_message = async || {
        next_event(&mut events, |e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .await
    };
    // MessagePack that is neither a response nor a notification: its JSON.
    assert_eq!(next_message().await, Message::text(r#"{"greeting":"hi"}"#));
    // Bytes without a JSON form: the binary message as it came.
    assert_eq!(next_message().await, Message::binary(RAW_PAYLOAD.to_vec()));
    timeout(STEP, client.close()).await.unwrap().unwrap();
}
