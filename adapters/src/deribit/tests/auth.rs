//! Auth: signature, grants, tokens, which errors refresh and which are fatal.

use std::time::Duration;

use serde_json::json;
use wsnova_core::session::{Adapter, AuthContext, AuthToken, Credentials, Secret};

use super::{params, rpc_error};
use crate::deribit::{AuthMethod, Deribit, signature};

const VECTOR: &str = "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1";

#[test]
fn signature_matches_the_documented_test_vector() {
    assert_eq!(
        Deribit::signature("AMANDASECRECT", 1576074319000, "1iqt2wls", ""),
        VECTOR
    );
    assert_eq!(
        signature("AMANDASECRECT", 1576074319000, "1iqt2wls", ""),
        VECTOR
    );
    assert_ne!(
        signature("AMANDASECRECT", 1576074319000, "1iqt2wls", "x"),
        VECTOR
    );
}

fn context(unix_time_ms: Option<u64>) -> AuthContext {
    AuthContext {
        unix_time_ms,
        nonce: "1iqt2wls".into(),
    }
}

#[test]
fn client_credentials_grant() {
    let credentials = Credentials::new("my-id", "my-secret");
    let request = Deribit::new()
        .auth_request(&credentials, &context(Some(1)))
        .unwrap();
    assert_eq!(request.method, "public/auth");
    assert_eq!(
        params(&request),
        json!({"grant_type":"client_credentials","client_id":"my-id","client_secret":"my-secret"})
    );
    let scoped = Deribit::new()
        .with_scope("session:bot")
        .auth_request(&credentials, &context(None))
        .unwrap();
    assert_eq!(params(&scoped)["scope"], "session:bot");
}

#[test]
fn signature_grant_uses_the_context_time_and_nonce() {
    let credentials = Credentials::new("my-id", "AMANDASECRECT");
    let adapter = Deribit::new().with_auth_method(AuthMethod::Signature);
    let request = adapter
        .auth_request(&credentials, &context(Some(1576074319000)))
        .unwrap();
    assert_eq!(request.method, "public/auth");
    assert_eq!(
        params(&request),
        json!({
            "grant_type": "client_signature",
            "client_id": "my-id",
            "timestamp": 1576074319000u64,
            "signature": VECTOR,
            "nonce": "1iqt2wls",
            "data": "",
        })
    );
    assert!(!request.params.contains("AMANDASECRECT"));
    // Without the wall clock it cannot sign: client credentials instead.
    let fallback = adapter.auth_request(&credentials, &context(None)).unwrap();
    assert_eq!(params(&fallback)["grant_type"], "client_credentials");
}

#[test]
fn refresh_uses_the_refresh_token_grant() {
    let adapter = Deribit::new();
    let token = AuthToken {
        access_token: Some(Secret::new("acc")),
        refresh_token: Some(Secret::new("ref")),
        expires_in: Some(Duration::from_secs(900)),
    };
    let request = adapter.refresh_request(&token).unwrap();
    assert_eq!(request.method, "public/auth");
    assert_eq!(
        params(&request),
        json!({"grant_type":"refresh_token","refresh_token":"ref"})
    );
    let without = AuthToken {
        refresh_token: None,
        ..token
    };
    assert!(adapter.refresh_request(&without).is_none());
}

#[test]
fn read_auth_tracks_expiry() {
    let result = r#"{"access_token":"acc","expires_in":900,"refresh_token":"ref","scope":"connection mainaccount","token_type":"bearer","enabled_features":[]}"#;
    let token = Deribit::new().read_auth(result).unwrap();
    assert_eq!(token.access_token, Some(Secret::new("acc")));
    assert_eq!(token.refresh_token, Some(Secret::new("ref")));
    assert_eq!(token.expires_in, Some(Duration::from_secs(900)));
    assert!(
        Deribit::new()
            .read_auth(r#"{"token_type":"bearer"}"#)
            .is_err()
    );
    assert!(Deribit::new().read_auth("\"ok\"").is_err());
}

#[test]
fn invalid_credentials_are_fatal_others_are_not() {
    let adapter = Deribit::new();
    assert!(adapter.auth_error_is_fatal(&rpc_error(13004, "invalid_credentials", None)));
    assert!(!adapter.auth_error_is_fatal(&rpc_error(10028, "too_many_requests", None)));
    assert!(!adapter.auth_error_is_fatal(&rpc_error(11051, "system_maintenance", None)));
    assert!(!adapter.auth_error_is_fatal(&rpc_error(13028, "temporarily_unavailable", None)));
}

#[test]
fn every_13009_refreshes_as_documented_other_codes_do_not() {
    let adapter = Deribit::new();
    let expired = rpc_error(
        13009,
        "invalid_token",
        Some(r#"{"reason":"token has expired","param":"access_token"}"#),
    );
    assert!(adapter.is_token_expired(&expired));
    assert!(adapter.is_token_expired(&rpc_error(13009, "invalid_token", None)));
    let reason_only = rpc_error(
        13009,
        "unauthorized",
        Some(r#"{"reason":"token has expired"}"#),
    );
    assert!(adapter.is_token_expired(&reason_only));
    // Deribit documents 13009 as `unauthorized`: "wrong or expired
    // authorization token". (A session without credentials keeps the
    // refusal: the core has nothing to re-authenticate with.)
    assert!(adapter.is_token_expired(&rpc_error(13009, "unauthorized", None)));
    assert!(!adapter.is_token_expired(&rpc_error(13004, "invalid_credentials", None)));
    assert!(!adapter.is_token_expired(&rpc_error(10028, "invalid_token", None)));
}

#[test]
fn debug_shows_no_secrets() {
    let adapter = Deribit::new()
        .with_auth_method(AuthMethod::Signature)
        .with_scope("session:bot");
    let credentials = Credentials::new("my-id", "my-secret");
    let _ = adapter.auth_request(&credentials, &context(Some(1)));
    let shown = format!("{adapter:?} {credentials:?}");
    assert!(!shown.contains("my-secret"), "{shown}");
}
