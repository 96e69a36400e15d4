//! The messages an adapter builds and reads: the requests the core sends
//! ([`OutgoingRequest`]) and what an inbound message is ([`Inbound`],
//! with a server's error as [`RawRpcError`]), borrowed from its text.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::RequestId;

/// A request the core should send: a method and its JSON params.
///
/// `Debug` shows the method and the size of the params, never the params:
/// auth requests carry secrets.
///
/// ```
/// use wsnova_core::session::OutgoingRequest;
/// let auth = OutgoingRequest::new("public/auth", r#"{"client_secret":"s3cret"}"#);
/// assert!(!format!("{auth:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    /// The method name.
    pub method: String,
    /// The params as JSON text (e.g. `{"channels":["a"]}`).
    pub params: String,
}

impl std::fmt::Debug for OutgoingRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingRequest")
            .field("method", &self.method)
            .field("params", &format_args!("<{} bytes>", self.params.len()))
            .finish()
    }
}

impl OutgoingRequest {
    /// A request from a method and already-serialized params.
    pub fn new(method: impl Into<String>, params: impl Into<String>) -> Self {
        OutgoingRequest {
            method: method.into(),
            params: params.into(),
        }
    }
}

/// What an inbound message is, as far as the session cares.
///
/// Borrowed from the message's JSON text: classifying copies nothing.
#[derive(Debug)]
pub enum Inbound<'a> {
    /// The answer to a request the core sent.
    Response {
        /// The request's id.
        id: RequestId,
        /// The result, or the server's error.
        outcome: Result<&'a RawValue, RawRpcError<'a>>,
    },
    /// Data for a subscription channel.
    Notification {
        /// The channel.
        channel: &'a str,
        /// The data.
        data: &'a RawValue,
    },
    /// A platform heartbeat that must be answered at once (e.g. Deribit's `test_request`).
    HeartbeatRequest {
        /// The answer to send (bypasses queues and rate limits).
        reply: OutgoingRequest,
    },
    /// A platform keep-alive that needs no answer (e.g. Deribit's
    /// `heartbeat` of type `heartbeat`): its bytes proved the connection
    /// alive; the application does not see it.
    KeepAlive,
    /// Anything else: delivered to the application as `Event::Message`.
    Other,
}

/// A JSON-RPC error object as received, borrowed from the message.
#[derive(Debug, Deserialize)]
pub struct RawRpcError<'a> {
    /// The error code.
    pub code: i64,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// Extra data.
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_method_and_only_the_size_of_the_params() {
        // Params may carry a signature or a token.
        let request = OutgoingRequest::new("public/auth", r#"{"client_secret":"s3cret"}"#);
        assert_eq!(
            format!("{request:?}"),
            r#"OutgoingRequest { method: "public/auth", params: <26 bytes> }"#
        );
    }
}
