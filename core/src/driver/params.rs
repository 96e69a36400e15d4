//! A request's params as both drivers send them: serialized once, checked
//! against JSON-RPC 2.0 §4.2 (params are structured: an object or an
//! array, or left out).

use serde::Serialize;
use serde_json::value::RawValue;

use crate::session::{RequestError, RpcError};

/// Serializes `params` for `request`: `()` or `None` leave the `params`
/// member out; an object or an array is sent as is; anything else (a
/// string, a number, a bool) is refused, so that JSON text passed by
/// mistake is not sent as one JSON string — use `request_raw` for text.
///
/// ```
/// use wsnova_core::driver::encode_params;
/// assert_eq!(encode_params(&serde_json::json!({"a": 1})).unwrap(), r#"{"a":1}"#);
/// assert_eq!(encode_params(&["x", "y"]).unwrap(), r#"["x","y"]"#);
/// assert_eq!(encode_params(&()).unwrap(), "", "no params member");
/// assert!(encode_params(r#"{"a":1}"#).is_err(), "a string is not params");
/// ```
pub fn encode_params<P: Serialize + ?Sized>(params: &P) -> Result<String, RequestError> {
    let text = serde_json::to_string(params)
        .map_err(|e| invalid(format!("params could not be serialized: {e}")))?;
    structured(text)
}

/// Checks JSON text given as params (`request_raw`): valid JSON, and an
/// object or an array; empty or `null` leaves the member out.
///
/// ```
/// use wsnova_core::driver::check_raw_params;
/// assert!(check_raw_params(r#"{"a":1}"#).is_ok());
/// assert!(check_raw_params("{not json").is_err());
/// assert!(check_raw_params("42").is_err());
/// ```
pub fn check_raw_params(params: &str) -> Result<String, RequestError> {
    let trimmed = params.trim();
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    serde_json::from_str::<&RawValue>(trimmed)
        .map_err(|e| invalid(format!("params are not valid JSON: {e}")))?;
    structured(trimmed.to_owned())
}

fn structured(text: String) -> Result<String, RequestError> {
    match text.as_bytes().first() {
        Some(b'{' | b'[') => Ok(text),
        _ if text == "null" => Ok(String::new()),
        _ => Err(invalid(format!(
            "params must be a JSON object or array (JSON-RPC 2.0 §4.2), not {text:.40}; \
             to send JSON text as params, use request_raw"
        ))),
    }
}

/// JSON-RPC's "invalid params" (-32602), raised before anything is sent.
fn invalid(message: String) -> RequestError {
    RequestError::Rejected(RpcError {
        code: -32602,
        message,
        data: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<String, RequestError>) -> i64 {
        match result {
            Err(RequestError::Rejected(e)) => e.code,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn objects_and_arrays_are_sent_as_they_are() {
        let object = serde_json::json!({"a": 1});
        assert_eq!(encode_params(&object).unwrap(), r#"{"a":1}"#);
        assert_eq!(encode_params(&["x", "y"]).unwrap(), r#"["x","y"]"#);
        assert_eq!(check_raw_params(r#" {"a":1} "#).unwrap(), r#"{"a":1}"#);
        assert_eq!(check_raw_params("[1,2]").unwrap(), "[1,2]");
    }

    #[test]
    fn nothing_or_null_leaves_the_member_out() {
        assert_eq!(encode_params(&()).unwrap(), "");
        assert_eq!(encode_params(&None::<u8>).unwrap(), "");
        assert_eq!(check_raw_params("").unwrap(), "");
        assert_eq!(check_raw_params("  null ").unwrap(), "");
    }

    #[test]
    fn anything_else_is_invalid_params_before_it_is_sent() {
        // JSON-RPC 2.0 §4.2 and §5.1: -32602, "Invalid params".
        assert_eq!(code(encode_params(r#"{"a":1}"#)), -32602);
        assert_eq!(code(encode_params(&42)), -32602);
        assert_eq!(code(encode_params(&true)), -32602);
        assert_eq!(code(check_raw_params("42")), -32602);
        assert_eq!(code(check_raw_params("nul")), -32602);
        assert_eq!(code(check_raw_params("{not json")), -32602);
        assert_eq!(code(check_raw_params(r#""text""#)), -32602);
    }
}
