//! Deribit's error codes and a typed view of a refused request.

use std::fmt;

use serde::Deserialize;
use wsnova_core::session::{JsonText, RequestError, RpcError};

/// Named Deribit error codes (the `code` of a JSON-RPC error object).
///
/// ```
/// use wsnova_adapters::deribit::codes;
/// assert_eq!(codes::TOO_MANY_REQUESTS, 10028);
/// assert_eq!(codes::INVALID_CREDENTIALS, 13004);
/// ```
pub mod codes {
    /// `order_not_found`.
    pub const ORDER_NOT_FOUND: i64 = 10004;
    /// `too_many_requests`: out of rate-limit credits. Deribit terminates
    /// the session: reconnect after credits refill.
    pub const TOO_MANY_REQUESTS: i64 = 10028;
    /// `retry`: send the request again.
    pub const RETRY: i64 = 10040;
    /// `matching_engine_queue_full`: retry later.
    pub const MATCHING_ENGINE_QUEUE_FULL: i64 = 10047;
    /// `too_many_concurrent_requests`: back off.
    pub const TOO_MANY_CONCURRENT_REQUESTS: i64 = 10066;
    /// `not_open_order`.
    pub const NOT_OPEN_ORDER: i64 = 11044;
    /// `bad_request`: the request cannot succeed as sent.
    pub const BAD_REQUEST: i64 = 11050;
    /// `system_maintenance`: reconnect later.
    pub const SYSTEM_MAINTENANCE: i64 = 11051;
    /// `internal_server_error`.
    pub const INTERNAL_SERVER_ERROR: i64 = 11094;
    /// `invalid_credentials`: authentication cannot succeed with these credentials.
    pub const INVALID_CREDENTIALS: i64 = 13004;
    /// `unauthorized`: "wrong or expired authorization token or bad
    /// signature" (older servers: `invalid_token`). Refresh or authenticate
    /// again, then retry.
    pub const UNAUTHORIZED: i64 = 13009;
    /// `temporarily_unavailable`: retry later.
    pub const TEMPORARILY_UNAVAILABLE: i64 = 13028;
    /// `raw_subscriptions_not_available_for_unauthorized`: authenticate first.
    pub const RAW_SUBSCRIPTIONS_NOT_AVAILABLE: i64 = 13778;
    /// JSON-RPC parse error.
    pub const PARSE_ERROR: i64 = -32700;
    /// JSON-RPC invalid request (also: a frame larger than 32 kB).
    pub const INVALID_REQUEST: i64 = -32600;
    /// JSON-RPC method not found.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// JSON-RPC invalid params.
    pub const INVALID_PARAMS: i64 = -32602;
}

/// The Deribit error code of a refused request; `None` for failures without
/// a server error (timeout, connection lost, ...).
///
/// ```
/// use wsnova_adapters::deribit::{code, codes};
/// use wsnova_core::session::{RequestError, RpcError};
///
/// let refused = RequestError::Rejected(RpcError { code: 10028, message: "too_many_requests".into(), data: None });
/// assert_eq!(code(&refused), Some(codes::TOO_MANY_REQUESTS));
/// assert_eq!(code(&RequestError::Timeout), None);
/// ```
pub fn code(error: &RequestError) -> Option<i64> {
    match error {
        RequestError::Rejected(e) => Some(e.code),
        _ => None,
    }
}

/// What a Deribit error code means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 10028: out of rate-limit credits; the server ended the session.
    TooManyRequests,
    /// 10040: retry.
    Retry,
    /// 10047: the matching engine's queue is full.
    MatchingEngineQueueFull,
    /// 10066: too many concurrent requests.
    TooManyConcurrentRequests,
    /// 11050: bad request.
    BadRequest,
    /// 11051: system maintenance.
    SystemMaintenance,
    /// 13004: invalid credentials.
    InvalidCredentials,
    /// 13009: not authenticated, or the token is invalid or expired.
    Unauthorized,
    /// 13028: temporarily unavailable.
    TemporarilyUnavailable,
    /// 13778: raw channels need authentication.
    RawSubscriptionsNotAvailable,
    /// -32700, -32600, -32601, -32602: the request itself is wrong.
    InvalidRequest,
    /// Any other code.
    Other(i64),
}

impl ErrorKind {
    /// The kind of `code`.
    ///
    /// ```
    /// use wsnova_adapters::deribit::ErrorKind;
    /// assert_eq!(ErrorKind::from_code(13009), ErrorKind::Unauthorized);
    /// assert_eq!(ErrorKind::from_code(42), ErrorKind::Other(42));
    /// ```
    pub fn from_code(code: i64) -> Self {
        use codes::*;
        match code {
            TOO_MANY_REQUESTS => ErrorKind::TooManyRequests,
            RETRY => ErrorKind::Retry,
            MATCHING_ENGINE_QUEUE_FULL => ErrorKind::MatchingEngineQueueFull,
            TOO_MANY_CONCURRENT_REQUESTS => ErrorKind::TooManyConcurrentRequests,
            BAD_REQUEST => ErrorKind::BadRequest,
            SYSTEM_MAINTENANCE => ErrorKind::SystemMaintenance,
            INVALID_CREDENTIALS => ErrorKind::InvalidCredentials,
            UNAUTHORIZED => ErrorKind::Unauthorized,
            TEMPORARILY_UNAVAILABLE => ErrorKind::TemporarilyUnavailable,
            RAW_SUBSCRIPTIONS_NOT_AVAILABLE => ErrorKind::RawSubscriptionsNotAvailable,
            PARSE_ERROR | INVALID_REQUEST | METHOD_NOT_FOUND | INVALID_PARAMS => {
                ErrorKind::InvalidRequest
            }
            other => ErrorKind::Other(other),
        }
    }

    /// Whether the same request may succeed later unchanged (rate limits,
    /// transient unavailability, maintenance).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::TooManyRequests
                | ErrorKind::Retry
                | ErrorKind::MatchingEngineQueueFull
                | ErrorKind::TooManyConcurrentRequests
                | ErrorKind::SystemMaintenance
                | ErrorKind::TemporarilyUnavailable
        )
    }
}

/// A request Deribit refused: the error object `{code, message, data}`.
///
/// ```
/// use wsnova_adapters::deribit::{DeribitError, ErrorKind};
/// use wsnova_core::session::{JsonText, RequestError, RpcError};
///
/// let failed = RequestError::Rejected(RpcError {
///     code: 13009,
///     message: "invalid_token".into(),
///     data: Some(JsonText::from_string(r#"{"reason":"token has expired","param":"access_token"}"#)),
/// });
/// let error = DeribitError::from_request(&failed).unwrap();
/// assert_eq!(error.kind(), ErrorKind::Unauthorized);
/// assert_eq!(error.reason().as_deref(), Some("token has expired"));
/// assert_eq!(error.param().as_deref(), Some("access_token"));
/// assert_eq!(error.to_string(), "invalid_token (Deribit error 13009): token has expired");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DeribitError {
    /// The Deribit error code.
    pub code: i64,
    /// The message, e.g. `too_many_requests`.
    pub message: String,
    /// Extra data, unparsed (often `{"reason": …, "param": …}`).
    pub data: Option<JsonText>,
}

/// The common shape of `data`.
#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    param: Option<String>,
}

impl DeribitError {
    /// The server's error of a refused request; `None` for other failures.
    pub fn from_request(error: &RequestError) -> Option<Self> {
        match error {
            RequestError::Rejected(e) => Some(e.clone().into()),
            _ => None,
        }
    }

    /// What the code means.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::from_code(self.code)
    }

    /// `data.reason`, when `data` is an object with a string `reason`.
    pub fn reason(&self) -> Option<String> {
        self.data_fields().and_then(|d| d.reason)
    }

    /// `data.param`, when `data` is an object with a string `param`.
    pub fn param(&self) -> Option<String> {
        self.data_fields().and_then(|d| d.param)
    }

    fn data_fields(&self) -> Option<Data> {
        data_fields(self.data.as_ref())
    }
}

/// `data` read as `{reason?, param?}`, if it is an object.
fn data_fields(data: Option<&JsonText>) -> Option<Data> {
    serde_json::from_str(data?.as_str()).ok()
}

impl From<RpcError> for DeribitError {
    fn from(e: RpcError) -> Self {
        DeribitError {
            code: e.code,
            message: e.message,
            data: e.data,
        }
    }
}

impl fmt::Display for DeribitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (Deribit error {})", self.message, self.code)?;
        match self.reason() {
            Some(reason) => write!(f, ": {reason}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for DeribitError {}
