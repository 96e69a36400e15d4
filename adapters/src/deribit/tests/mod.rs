//! Unit tests of the Deribit adapter.

mod auth;
mod calls;
mod classify;
mod setup;
mod surface;

use serde_json::Value;
use wsnova_core::session::{JsonText, OutgoingRequest, RpcError};

/// The params of a request as a JSON value.
fn params(request: &OutgoingRequest) -> Value {
    serde_json::from_str(&request.params).expect("params are JSON")
}

/// An error object as the session hands it to the adapter.
fn rpc_error(code: i64, message: &str, data: Option<&str>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
        data: data.map(JsonText::from_string),
    }
}
