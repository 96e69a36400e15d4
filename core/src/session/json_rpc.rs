//! The JSON-RPC 2.0 envelope: encoding requests and classifying what
//! arrives, with everything inside left unparsed. The default of every
//! [`Adapter`](super::Adapter) method that reads or writes messages.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::RequestId;
use super::messages::{Inbound, RawRpcError};

/// Appends `{"jsonrpc":"2.0","id":…,"method":…,"params":…}` to `out`.
///
/// ```
/// use wsnova_core::session::{encode_json_rpc, RequestId};
/// let mut out = String::new();
/// encode_json_rpc(RequestId(7), "public/test", "{}", &mut out);
/// assert_eq!(out, r#"{"jsonrpc":"2.0","id":7,"method":"public/test","params":{}}"#);
/// ```
pub fn encode_json_rpc(id: RequestId, method: &str, params: &str, out: &mut String) {
    out.push_str(r#"{"jsonrpc":"2.0","id":"#);
    let _ = write!(out, "{}", id.0);
    out.push_str(r#","method":"#);
    // A method name is a plain string; serde_json escapes it correctly.
    out.push_str(&serde_json::to_string(method).unwrap_or_else(|_| "\"\"".into()));
    // JSON-RPC 2.0 §4: "params" MAY be omitted.
    if !params.is_empty() {
        out.push_str(r#","params":"#);
        out.push_str(params);
    }
    out.push('}');
}

/// The JSON-RPC 2.0 envelope, with everything inside left unparsed.
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
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

/// Deserializes a field that is present (even as `null`) into `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// Classifies a JSON-RPC 2.0 message: responses by `id`, notifications by `method`.
///
/// ```
/// use wsnova_core::session::{classify_json_rpc, Inbound, RequestId};
/// match classify_json_rpc(r#"{"jsonrpc":"2.0","id":3,"result":[1,2]}"#) {
///     Inbound::Response { id, outcome: Ok(result) } => {
///         assert_eq!(id, RequestId(3));
///         assert_eq!(result.get(), "[1,2]");
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn classify_json_rpc(text: &str) -> Inbound<'_> {
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
            method: Some(method),
            params: Some(params),
            ..
        } => Inbound::Notification {
            channel: method,
            data: params,
        },
        _ => Inbound::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_errors_notifications_and_garbage() {
        let err =
            r#"{"jsonrpc":"2.0","id":9,"error":{"code":10028,"message":"too_many_requests"}}"#;
        match classify_json_rpc(err) {
            Inbound::Response {
                id,
                outcome: Err(e),
            } => {
                assert_eq!(
                    (id, e.code, e.message.as_str()),
                    (RequestId(9), 10028, "too_many_requests")
                );
            }
            other => panic!("{other:?}"),
        }
        match classify_json_rpc(r#"{"method":"tick","params":{"p":1}}"#) {
            Inbound::Notification { channel, data } => {
                assert_eq!((channel, data.get()), ("tick", r#"{"p":1}"#));
            }
            other => panic!("{other:?}"),
        }
        for garbage in [
            "",
            "not json",
            "[1,2]",
            r#"{"id":"str","result":1}"#,
            "{\"id\":1",
        ] {
            assert!(
                matches!(classify_json_rpc(garbage), Inbound::Other),
                "{garbage}"
            );
        }
    }

    #[test]
    fn a_null_result_is_a_response() {
        match classify_json_rpc(r#"{"jsonrpc":"2.0","id":4,"result":null}"#) {
            Inbound::Response {
                id,
                outcome: Ok(result),
            } => assert_eq!((id, result.get()), (RequestId(4), "null")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn method_names_are_escaped() {
        let mut out = String::new();
        encode_json_rpc(RequestId(1), "a\"b", "[1]", &mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["method"], "a\"b");
        assert_eq!(v["params"], serde_json::json!([1]));
    }
}
