//! The Binance WebSocket API end to end: the tokio driver with the Binance
//! adapter against the mock's `/ws-api/v3`. Unsigned requests (`time`,
//! `exchangeInfo`, `depth`), and orders placed and cancelled with requests
//! signed by HMAC-SHA256 and by Ed25519 keys, verified by the mock; bad
//! signatures and stale timestamps refused with Binance's codes.
#![cfg(feature = "net")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use data_encoding::{BASE64, HEXLOWER};
use serde_json::Value;
use tokio::time::timeout;
use wsnova_adapters::binance::api::{self, OrderAck, OrderCancel, OrderPlace, ServerTime, Side};
use wsnova_adapters::binance::{Binance, Signer, Snapshot};
use wsnova_core::session::OutgoingRequest;
use wsnova_core::session::{RequestError, SessionConfig};
use wsnova_tests::binance::{DEFAULT_API_KEY, DEFAULT_SECRET, MockBinance, MockConfig};
use wsnova_tokio::{Builder, Client, Connect as _};

const STEP: Duration = Duration::from_secs(10);
const ED_KEY: &str = "ed25519-test-key";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// An Ed25519 key as Binance users hold it: PKCS#8 PEM (RFC 8032's test
/// key 1, wrapped as `openssl genpkey -algorithm ed25519` writes it).
fn ed25519_pem() -> String {
    let mut der = HEXLOWER
        .decode(b"302e020100300506032b657004220420")
        .unwrap();
    der.extend(
        HEXLOWER
            .decode(b"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap(),
    );
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        BASE64.encode(&der)
    )
}

fn mock() -> (MockBinance, Signer) {
    let ed = Signer::ed25519_pem(ED_KEY, &ed25519_pem()).expect("a PEM key");
    let config = MockConfig {
        ed25519_key: Some((ED_KEY.into(), ed.public_key().unwrap())),
        ..MockConfig::default()
    };
    (MockBinance::start(config), ed)
}

async fn connect(mock: &MockBinance) -> Client {
    let mut config = SessionConfig::new(&mock.api_url()).expect("a valid url");
    config.request_timeout = Duration::from_secs(5);
    let (client, _events) = timeout(STEP, Builder::from_config(config).connect(Binance::spot()))
        .await
        .expect("connect in time")
        .expect("connect");
    client
}

async fn call(client: &Client, request: &OutgoingRequest) -> Result<String, RequestError> {
    let answer = timeout(STEP, client.request_raw(&request.method, &request.params))
        .await
        .expect("an answer in time");
    answer.map(|r| r.as_str().to_owned())
}

fn rejected(outcome: Result<String, RequestError>) -> (i64, String) {
    match outcome {
        Err(RequestError::Rejected(e)) => (e.code, e.message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn time_exchange_info_and_depth() {
    let (mock, _) = mock();
    let client = connect(&mock).await;
    let time: ServerTime =
        serde_json::from_str(&call(&client, &api::time()).await.unwrap()).unwrap();
    assert!(time.server_time.abs_diff(now_ms()) < 60_000);
    assert_eq!(call(&client, &api::ping()).await.unwrap(), "{}");
    let info: Value = serde_json::from_str(
        &call(&client, &api::exchange_info(&["BTCUSDT"]))
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        info["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["symbol"] == "BTCUSDT")
    );
    let depth = Snapshot::from_json(
        &call(&client, &api::depth("BTCUSDT", Some(5)))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!((depth.bids.len(), depth.asks.len()), (5, 5));
    assert!(depth.bids[0].0 < depth.asks[0].0, "bids below asks");
    assert_eq!(
        rejected(call(&client, &api::depth("NOPE", None)).await),
        (-1121, "Invalid symbol.".into())
    );
    assert_eq!(mock.stats().api_requests["depth"], 2);
}

#[tokio::test]
async fn hmac_and_ed25519_signed_orders_are_placed_and_cancelled() {
    let (mock, ed) = mock();
    let client = connect(&mock).await;
    let hmac = Signer::hmac(DEFAULT_API_KEY, DEFAULT_SECRET);

    let place = OrderPlace::limit("BTCUSDT", Side::Buy, "0.01000000", "52000.00")
        .with("recvWindow", 5000)
        .signed(&hmac, now_ms());
    let ack: OrderAck =
        serde_json::from_str(&call(&client, &place).await.expect("placed")).unwrap();
    assert_eq!(
        (ack.symbol.as_str(), ack.status.as_deref()),
        ("BTCUSDT", Some("NEW"))
    );
    let cancel = OrderCancel::by_id("BTCUSDT", ack.order_id).signed(&hmac, now_ms());
    let cancelled: OrderAck =
        serde_json::from_str(&call(&client, &cancel).await.expect("cancelled")).unwrap();
    assert_eq!(
        (cancelled.order_id, cancelled.status.as_deref()),
        (ack.order_id, Some("CANCELED"))
    );
    let again = OrderCancel::by_id("BTCUSDT", ack.order_id).signed(&hmac, now_ms());
    assert_eq!(rejected(call(&client, &again).await).0, -2011);

    let place = OrderPlace::market("ETHUSDT", Side::Sell, "1.5")
        .with("newClientOrderId", "ed-1")
        .signed(&ed, now_ms());
    let ack: OrderAck =
        serde_json::from_str(&call(&client, &place).await.expect("placed with Ed25519")).unwrap();
    assert_eq!(ack.client_order_id, "ed-1");
    let cancel = OrderCancel::by_client_id("ETHUSDT", "ed-1").signed(&ed, now_ms());
    call(&client, &cancel)
        .await
        .expect("cancelled with Ed25519");

    let orders = mock.stats().orders;
    let seen: Vec<_> = orders
        .iter()
        .map(|o| (o.signed_with, o.status.as_str()))
        .collect();
    assert_eq!(seen, [("HMAC", "CANCELED"), ("Ed25519", "CANCELED")]);
    assert_eq!(mock.stats().bad_signatures, 0);
}

#[tokio::test]
async fn bad_signatures_keys_and_timestamps_are_refused() {
    let (mock, _) = mock();
    let client = connect(&mock).await;
    let wrong = Signer::hmac(DEFAULT_API_KEY, "not the secret");
    let place = OrderPlace::limit("BTCUSDT", Side::Buy, "1", "1").signed(&wrong, now_ms());
    assert_eq!(
        rejected(call(&client, &place).await),
        (-1022, "Signature for this request is not valid.".into())
    );
    let unknown = Signer::hmac("unknown-key", DEFAULT_SECRET);
    let place = OrderPlace::limit("BTCUSDT", Side::Buy, "1", "1").signed(&unknown, now_ms());
    assert_eq!(rejected(call(&client, &place).await).0, -2014);
    let right = Signer::hmac(DEFAULT_API_KEY, DEFAULT_SECRET);
    let stale = OrderPlace::limit("BTCUSDT", Side::Buy, "1", "1").signed(&right, now_ms() - 60_000);
    assert_eq!(rejected(call(&client, &stale).await).0, -1021);
    let stats = mock.stats();
    assert_eq!((stats.bad_signatures, stats.orders.len()), (1, 0));
}
