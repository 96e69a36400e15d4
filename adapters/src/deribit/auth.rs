//! `public/auth`: the grants, the token it returns, and which errors mean
//! "refresh and retry" or "give up".

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wsnova_core::session::{
    AuthContext, AuthToken, Credentials, OutgoingRequest, RpcError, Secret,
};

use super::error::codes;
use super::signature::signature;

/// The auth method.
pub(super) const AUTH: &str = "public/auth";

/// How the adapter authenticates with the session's [`Credentials`].
///
/// ```
/// use wsnova_adapters::deribit::{AuthMethod, Deribit};
/// let adapter = Deribit::new().with_auth_method(AuthMethod::Signature);
/// # let _ = adapter;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// `client_credentials`: the client id and secret go to the server (over TLS).
    #[default]
    ClientCredentials,
    /// `client_signature`: an HMAC-SHA256 of the time, a fresh nonce and
    /// optional data; the secret never leaves the process. Needs the wall
    /// clock: call `Session::set_unix_time` (drivers do), else the adapter
    /// falls back to `client_credentials`. The timestamp is valid for 60 s,
    /// so the clock must be roughly right.
    Signature,
}

/// `public/auth` params; absent fields are left out.
#[derive(Serialize)]
struct AuthParams<'a> {
    grant_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

impl AuthParams<'_> {
    fn grant(grant_type: &'static str) -> Self {
        AuthParams {
            grant_type,
            client_id: None,
            client_secret: None,
            timestamp: None,
            signature: None,
            nonce: None,
            data: None,
            refresh_token: None,
            scope: None,
        }
    }

    fn into_request(self) -> OutgoingRequest {
        // Strings and integers only: serializing cannot fail.
        OutgoingRequest::new(AUTH, serde_json::to_string(&self).unwrap_or_default())
    }
}

/// The auth request for `method`; signed when asked and the time is known.
pub(super) fn request(
    method: AuthMethod,
    scope: Option<&str>,
    signature_data: &str,
    credentials: &Credentials,
    context: &AuthContext,
) -> OutgoingRequest {
    let params = match (method, context.unix_time_ms) {
        (AuthMethod::Signature, Some(timestamp)) => AuthParams {
            client_id: Some(&credentials.client_id),
            timestamp: Some(timestamp),
            signature: Some(signature(
                credentials.secret.expose(),
                timestamp,
                &context.nonce,
                signature_data,
            )),
            nonce: Some(&context.nonce),
            data: Some(signature_data),
            scope,
            ..AuthParams::grant("client_signature")
        },
        _ => AuthParams {
            client_id: Some(&credentials.client_id),
            client_secret: Some(credentials.secret.expose()),
            scope,
            ..AuthParams::grant("client_credentials")
        },
    };
    params.into_request()
}

/// The `refresh_token` grant, when the token came with a refresh token.
pub(super) fn refresh(token: &AuthToken) -> Option<OutgoingRequest> {
    let refresh = token.refresh_token.as_ref()?;
    let params = AuthParams {
        refresh_token: Some(refresh.expose()),
        ..AuthParams::grant("refresh_token")
    };
    Some(params.into_request())
}

/// The fields of an auth result the session needs.
#[derive(Deserialize)]
struct AuthResult {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    /// Seconds.
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Reads `{access_token, refresh_token, expires_in, …}`.
pub(super) fn read(result: &str) -> Result<AuthToken, String> {
    let r: AuthResult =
        serde_json::from_str(result).map_err(|e| format!("unreadable auth result: {e}"))?;
    Ok(AuthToken {
        access_token: Some(Secret::new(r.access_token)),
        refresh_token: r.refresh_token.map(Secret::new),
        expires_in: r.expires_in.map(Duration::from_secs),
    })
}

/// Retrying the same auth cannot help: wrong credentials (13004) or params
/// the server cannot read (-32602). Anything else (rate limits, maintenance,
/// unavailability) is retried on a new connection.
pub(super) fn is_fatal(error: &RpcError) -> bool {
    matches!(
        error.code,
        codes::INVALID_CREDENTIALS | codes::INVALID_PARAMS
    )
}

/// 13009: Deribit's error list documents it as `unauthorized`, "wrong or
/// expired authorization token or bad signature" (e.g. a `connection`-scoped
/// token used on another connection); older servers said `invalid_token`
/// with `data.reason` "token has expired". Either way the session refreshes
/// (or re-authenticates) and sends the request once more; a session without
/// credentials has nothing to renew, so the refusal stands.
pub(super) fn is_token_expired(error: &RpcError) -> bool {
    error.code == codes::UNAUTHORIZED
}
