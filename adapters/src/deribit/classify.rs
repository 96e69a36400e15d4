//! Reading Deribit's messages in one borrowed pass: responses, subscription
//! notifications and heartbeats. Payloads stay unparsed slices of the message.

use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use wsnova_core::session::{Inbound, JsonText, OutgoingRequest, RawRpcError, RequestId};

use crate::json_rpc::envelope::present;

/// The method that answers a heartbeat `test_request`.
pub(super) const TEST: &str = "public/test";

/// A Deribit message. Unknown fields (`jsonrpc`, `usIn`, `usOut`, `usDiff`,
/// `testnet`, …) are skipped whatever their type, so timestamps may be
/// numbers or strings.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    id: Option<u64>,
    // `null` is a valid result: present-but-null must not read as absent.
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<RawRpcError<'a>>,
    #[serde(borrow, default)]
    method: Option<&'a str>,
    #[serde(borrow, default, deserialize_with = "object")]
    params: Option<Params<'a>>,
}

/// Notification params: `subscription` carries `channel` and `data`,
/// `heartbeat` carries `type`. Read in the same pass as the envelope.
#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow, default)]
    channel: Option<&'a str>,
    #[serde(borrow, default, deserialize_with = "present")]
    data: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<&'a str>,
}

/// Params read only from an object (serde would read a struct from an array too).
fn object<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Params<'de>>, D::Error> {
    struct Object;
    impl<'de> Visitor<'de> for Object {
        type Value = Params<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
            Params::deserialize(MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(Object).map(Some)
}

/// Responses by `id` (an `error` wins over a `result`); `subscription`
/// notifications by their channel; heartbeat `test_request`s as
/// [`Inbound::HeartbeatRequest`] answered by `public/test`; plain
/// heartbeats as [`Inbound::KeepAlive`] (not delivered). Everything else
/// (other methods, malformed text) is `Other`.
pub(super) fn classify(text: &str) -> Inbound<'_> {
    // serde would read a struct from an array too; only objects are envelopes.
    if !text.trim_start().starts_with('{') {
        return Inbound::Other;
    }
    let Ok(envelope) = serde_json::from_str::<Envelope<'_>>(text) else {
        return Inbound::Other;
    };
    match envelope {
        Envelope {
            id: Some(id),
            error: Some(error),
            ..
        } => Inbound::Response {
            id: RequestId(id),
            outcome: Err(error),
        },
        Envelope {
            id: Some(id),
            result: Some(result),
            ..
        } => Inbound::Response {
            id: RequestId(id),
            outcome: Ok(result),
        },
        Envelope {
            id: None,
            method: Some("subscription"),
            params:
                Some(Params {
                    channel: Some(channel),
                    data: Some(data),
                    ..
                }),
            ..
        } => Inbound::Notification { channel, data },
        Envelope {
            id: None,
            method: Some("heartbeat"),
            params:
                Some(Params {
                    kind: Some("test_request"),
                    ..
                }),
            ..
        } => Inbound::HeartbeatRequest {
            reply: OutgoingRequest::new(TEST, "{}"),
        },
        // The plain heartbeat needs no answer (`public/set_heartbeat`: "the
        // server sends `heartbeat` messages … of type `heartbeat`, and
        // `test_request`, which the client must answer").
        Envelope {
            id: None,
            method: Some("heartbeat"),
            params:
                Some(Params {
                    kind: Some("heartbeat"),
                    ..
                }),
            ..
        } => Inbound::KeepAlive,
        _ => Inbound::Other,
    }
}

/// The server's timestamps on a response, in microseconds. Deribit sends
/// them as numbers or as strings; both are read. A response's result
/// ([`JsonText`]) keeps the whole message it came in, so
/// [`of`](Self::of) reads them for any call's result; [`parse`](Self::parse)
/// reads a raw message.
///
/// ```
/// use wsnova_adapters::deribit::ServerTimes;
/// let t = ServerTimes::parse(r#"{"id":1,"result":1,"usIn":"100","usOut":160,"usDiff":"60","testnet":true}"#)
///     .unwrap();
/// assert_eq!((t.us_in, t.us_out, t.us_diff, t.testnet), (Some(100), Some(160), Some(60), Some(true)));
/// // With a driver: `let result = client.request(GetTime::METHOD, &GetTime {}).await?;`
/// // then `ServerTimes::of(&result)` beside `GetTime::parse(&result)`.
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct ServerTimes {
    /// When the request arrived.
    #[serde(rename = "usIn", default, deserialize_with = "micros")]
    pub us_in: Option<u64>,
    /// When the response left.
    #[serde(rename = "usOut", default, deserialize_with = "micros")]
    pub us_out: Option<u64>,
    /// The time spent on the server.
    #[serde(rename = "usDiff", default, deserialize_with = "micros")]
    pub us_diff: Option<u64>,
    /// Whether the server is the test network.
    #[serde(default)]
    pub testnet: Option<bool>,
}

impl ServerTimes {
    /// The timestamps of the message `result` came in (e.g. what
    /// `Client::request` returned); `None` for a hand-made value that is not an object.
    pub fn of(result: &JsonText) -> Option<Self> {
        Self::parse(result.message())
    }

    /// Reads the timestamps of a message; `None` if it is not a JSON object.
    pub fn parse(message: &str) -> Option<Self> {
        if !message.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_str(message).ok()
    }
}

/// An unsigned integer given as a number or as a decimal string.
fn micros<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Micros;
    impl Visitor<'_> for Micros {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("microseconds as a number or a string")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v).map(Some).map_err(E::custom)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok((v.is_finite() && v >= 0.0).then_some(v as u64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim().parse().map(Some).map_err(E::custom)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Micros)
}
