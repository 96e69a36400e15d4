//! The MessagePack codec on the mio driver: the same server as
//! `tokio_msgpack.rs`, through an `EventLoop` and a blocking `Handle`.

use std::time::Duration;

use serde_json::{Value, json};
use wsnova_mio::Codec;
use wsnova_mio::adapters::{JsonRpc, SubscriptionStyle};
use wsnova_mio::{Builder, Event, EventLoop, RequestError};
use wsnova_tests::msgpack_server::MsgPackServer;

const STEP: Duration = Duration::from_secs(10);

#[test]
fn requests_notifications_and_errors_travel_as_messagepack() {
    let server = MsgPackServer::start();
    let event_loop = EventLoop::new().unwrap();
    let adapter = JsonRpc::new()
        .with_codec(Codec::MessagePack)
        .with_subscriptions(SubscriptionStyle::channel_list("subscribe", "unsubscribe"))
        .with_subscription_method("subscription");
    let (handle, events) = event_loop
        .connect(Builder::new(&server.url()).unwrap(), adapter)
        .unwrap();

    let sum = handle.request_timeout("add", &[2, 40], STEP).unwrap();
    assert_eq!(sum.parse::<Value>().unwrap(), json!(42));
    match handle.request_timeout("no/such", &json!({}), STEP) {
        Err(RequestError::Rejected(e)) => assert_eq!(e.code, -32601),
        other => panic!("{other:?}"),
    }
    handle.subscribe_timeout(&["ticker.BTC"], STEP).unwrap();
    let (channel, data) = loop {
        match events.recv_timeout(STEP).unwrap() {
            Event::Notification { channel, data } => break (channel, data),
            Event::Disconnected { reason, .. } => panic!("lost: {reason:?}"),
            _ => {}
        }
    };
    assert_eq!(channel, "ticker.BTC");
    assert_eq!(
        data.parse::<Value>().unwrap(),
        json!({"channel": "ticker.BTC", "seq": 1, "price": 101.5})
    );
    assert_eq!((server.requests(), server.text_messages()), (3, 0));
    handle.close().unwrap();
}
