#![allow(dead_code)] // Shared by several test files, each using part of it.
//! A trader on the mock Deribit through the real client: the tokio driver
//! with the Deribit adapter, authenticated with the mock's default account.
//! Requests go as plain JSON params, so order parameters the typed calls do
//! not carry yet (`trigger_offset`, …) can be sent too.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::time::timeout;
use wsnova_adapters::deribit::Deribit;
use wsnova_core::session::{Credentials, Event, RequestError, RpcError, SessionConfig};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockDeribit};
use wsnova_tokio::Connect as _;
use wsnova_tokio::{Builder, Client, Events};

/// Bound of every single wait (a connect, a request, an event).
pub const STEP: Duration = Duration::from_secs(10);

pub const BTC: &str = "BTC-PERPETUAL";

/// A connected, authenticated client and its events.
pub struct Trader {
    pub client: Client,
    pub events: Events,
    /// Notifications read while looking for another channel's: `(channel,
    /// data)`, oldest first.
    backlog: Vec<(String, Value)>,
}

impl Trader {
    /// Connects to `mock` and waits until the session is ready.
    pub async fn connect(mock: &MockDeribit) -> Trader {
        Trader::connect_as(mock, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET).await
    }

    /// [`connect`](Self::connect) with another of the mock's accounts.
    pub async fn connect_as(mock: &MockDeribit, client_id: &str, secret: &str) -> Trader {
        let mut config = SessionConfig::new(&mock.url()).expect("a valid url");
        config.credentials = Some(Credentials::new(client_id, secret));
        config.request_timeout = Duration::from_secs(5);
        config.connect_timeout = Duration::from_secs(2);
        let connect = Builder::from_config(config).connect(Deribit::new());
        let (client, events) = timeout(STEP, connect)
            .await
            .expect("connect in time")
            .expect("connect");
        Trader {
            client,
            events,
            backlog: Vec::new(),
        }
    }

    /// A request's result, or the server's error.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let outcome = timeout(STEP, self.client.request(method, &params))
            .await
            .expect("an answer in time");
        match outcome {
            Ok(result) => Ok(result.parse().expect("JSON")),
            Err(RequestError::Rejected(e)) => Err(e),
            Err(other) => panic!("{method}: {other}"),
        }
    }

    /// A request that must succeed.
    pub async fn ok(&self, method: &str, params: Value) -> Value {
        let outcome = self.call(method, params).await;
        outcome.unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// The code of a request that must fail.
    pub async fn refused(&self, method: &str, params: Value) -> i64 {
        match self.call(method, params).await {
            Ok(result) => panic!("{method} succeeded: {result}"),
            Err(e) => e.code,
        }
    }

    /// Subscribes and waits for the confirmation.
    pub async fn subscribe(&self, channels: &[&str]) {
        let confirmed = timeout(STEP, self.client.subscribe(channels)).await;
        confirmed.expect("confirmed in time").expect("subscribed");
    }

    /// The data of the next notification on `channel`.
    pub async fn next(&mut self, channel: &str) -> Value {
        self.next_where(channel, |_| true).await
    }

    /// The data of the next notification on `channel` that `pred` accepts
    /// (other channels' notifications are kept for later; this channel's
    /// that `pred` refuses are dropped).
    pub async fn next_where(&mut self, channel: &str, pred: impl Fn(&Value) -> bool) -> Value {
        while let Some(i) = self.backlog.iter().position(|(c, _)| c == channel) {
            let (_, data) = self.backlog.remove(i);
            if pred(&data) {
                return data;
            }
        }
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.next()).await;
            match event {
                Ok(Some(Event::Notification { channel: c, data })) => {
                    let data: Value = data.parse().expect("JSON");
                    if c != channel {
                        self.backlog.push((c, data));
                    } else if pred(&data) {
                        return data;
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => panic!("the events ended before a {channel} notification"),
                Err(_) => panic!("no {channel} notification within {STEP:?}"),
            }
        }
    }
}

/// The fields the `order` schema of Deribit's API description requires.
pub const ORDER_FIELDS: [&str; 12] = [
    "order_id",
    "order_state",
    "order_type",
    "time_in_force",
    "instrument_name",
    "creation_timestamp",
    "last_update_timestamp",
    "direction",
    "price",
    "label",
    "post_only",
    "api",
];

/// The fields the `user_trade` schema requires.
pub const TRADE_FIELDS: [&str; 15] = [
    "trade_id",
    "trade_seq",
    "instrument_name",
    "timestamp",
    "order_id",
    "matching_id",
    "direction",
    "tick_direction",
    "index_price",
    "price",
    "amount",
    "fee",
    "fee_currency",
    "state",
    "mark_price",
];

/// Panics unless `object` has every field of `fields`.
pub fn assert_fields(what: &str, object: &Value, fields: &[&str]) {
    for field in fields {
        assert!(
            object.get(*field).is_some(),
            "{what} lacks {field}: {object}"
        );
    }
}

/// A frozen market with a known BTC-PERPETUAL book: bids 59,990 (100) and
/// 59,980 (200); asks 60,010 (50), 60,020 (70), 60,030 (500). The BTC index
/// is pinned at 60,000.
pub fn known_market(mock: &MockDeribit) {
    mock.freeze_market(true);
    let bids = [(59_990.0, 100.0), (59_980.0, 200.0)];
    let asks = [(60_010.0, 50.0), (60_020.0, 70.0), (60_030.0, 500.0)];
    assert!(mock.set_book(BTC, &bids, &asks));
    assert!(mock.set_index_price("btc_usd", 60_000.0));
}
