//! `public/auth`: the three grants, HMAC-SHA256 signatures, access and
//! (one-shot) refresh tokens.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use ring::hmac;
use serde_json::{Value, json};

use super::config::MockConfig;
use super::rpc::{RpcError, now_ms};

/// `hex(HMAC_SHA256(secret, timestamp + "\n" + nonce + "\n" + data))`.
pub(crate) fn sign(secret: &str, timestamp: u64, nonce: &str, data: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("{timestamp}\n{nonce}\n{data}").as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `signature` (hex, either case) is the signature of the fields.
pub(crate) fn verify(
    secret: &str,
    timestamp: u64,
    nonce: &str,
    data: &str,
    signature: &str,
) -> bool {
    sign(secret, timestamp, nonce, data).eq_ignore_ascii_case(signature)
}

/// What a token check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenStatus {
    /// Valid, for this account.
    Valid(String),
    /// Known but expired.
    Expired,
    /// Never issued, or revoked.
    Unknown,
}

struct Access {
    account: String,
    expires_at: Instant,
}

#[derive(Clone)]
struct Grant {
    account: String,
    words: Vec<String>,
}

/// Issued tokens.
pub(crate) struct AuthStore {
    access: HashMap<String, Access>,
    refresh: HashMap<String, Grant>,
    rng: StdRng,
}

impl AuthStore {
    pub(crate) fn new(seed: u64) -> Self {
        AuthStore {
            access: HashMap::new(),
            refresh: HashMap::new(),
            rng: StdRng::seed_from_u64(seed ^ 0xa07b),
        }
    }

    /// The status of access token `token` at `now`.
    pub(crate) fn status(&self, token: &str, now: Instant) -> TokenStatus {
        match self.access.get(token) {
            Some(a) if a.expires_at > now => TokenStatus::Valid(a.account.clone()),
            Some(_) => TokenStatus::Expired,
            None => TokenStatus::Unknown,
        }
    }

    /// Expires `token` now; whether it was valid.
    pub(crate) fn expire(&mut self, token: &str, now: Instant) -> bool {
        match self.access.get_mut(token) {
            Some(a) if a.expires_at > now => {
                a.expires_at = now;
                true
            }
            _ => false,
        }
    }

    /// Expires every valid access token now; how many there were.
    pub(crate) fn expire_all(&mut self, now: Instant) -> usize {
        let live = self.access.values_mut().filter(|a| a.expires_at > now);
        live.map(|a| a.expires_at = now).count()
    }

    /// Forgets `token` (`private/logout`).
    pub(crate) fn revoke(&mut self, token: &str) {
        self.access.remove(token);
    }

    fn token(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let rng = &mut self.rng;
        let mut part = |n: usize| -> String {
            let pick = |_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char;
            (0..n).map(pick).collect()
        };
        let (a, b) = (part(8), part(64));
        format!("{}.{a}.{b}", now_ms())
    }

    fn issue(&mut self, grant: Grant, config: &MockConfig, now: Instant) -> (Value, String) {
        let lifetime = grant
            .words
            .iter()
            .find_map(|w| w.strip_prefix("expires:")?.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(config.token_lifetime);
        let access_token = self.token();
        let refresh_token = self.token();
        let access = Access {
            account: grant.account.clone(),
            expires_at: now + lifetime,
        };
        self.access.insert(access_token.clone(), access);
        let session = grant.words.iter().find(|w| w.starts_with("session:"));
        let mut result = json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": lifetime.as_secs(),
            "refresh_token": refresh_token,
            "scope": grant.words.join(" "),
            "enabled_features": [],
        });
        if session.is_some() {
            result["sid"] = json!(format!(
                "mock.{}",
                self.rng.random_range(1_000_000..9_999_999u32)
            ));
        }
        self.refresh.insert(refresh_token, grant);
        (result, access_token)
    }
}

/// The scope words granted for a requested `scope`.
fn granted_scope(requested: Option<&str>) -> Vec<String> {
    let mut words: Vec<String> = requested
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !words
        .iter()
        .any(|w| w == "connection" || w.starts_with("session:"))
    {
        words.insert(0, "connection".to_owned());
    }
    for default in [
        "account:read_write",
        "trade:read_write",
        "wallet:read_write",
    ] {
        let prefix = &default[..default.find(':').unwrap_or(0) + 1];
        if !words.iter().any(|w| w.starts_with(prefix)) {
            words.push(default.to_owned());
        }
    }
    words.push("mainaccount".to_owned());
    words
}

fn string_param<'a>(params: &'a Value, name: &str) -> Result<&'a str, RpcError> {
    params
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params(name, "required string"))
}

/// A successful `public/auth`.
pub(crate) struct Authenticated {
    pub result: Value,
    pub account: String,
    pub access_token: String,
}

/// Handles `public/auth`.
pub(crate) fn authenticate(
    store: &mut AuthStore,
    config: &MockConfig,
    params: &Value,
    now: Instant,
) -> Result<Authenticated, RpcError> {
    let grant_type = string_param(params, "grant_type")?;
    let requested = params.get("scope").and_then(Value::as_str);
    let bad = || RpcError::new(13004);
    let grant = match grant_type {
        "client_credentials" => {
            let id = string_param(params, "client_id")?;
            let secret = string_param(params, "client_secret")?;
            if config.accounts.get(id).map(String::as_str) != Some(secret) {
                return Err(bad());
            }
            Grant {
                account: id.to_owned(),
                words: granted_scope(requested),
            }
        }
        "client_signature" => {
            let id = string_param(params, "client_id")?;
            let signature = string_param(params, "signature")?;
            let timestamp = params
                .get("timestamp")
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcError::invalid_params("timestamp", "required integer"))?;
            let nonce = params.get("nonce").and_then(Value::as_str).unwrap_or("");
            let data = params.get("data").and_then(Value::as_str).unwrap_or("");
            if let Some(window) = config.signature_window {
                if now_ms().abs_diff(timestamp) > window.as_millis() as u64 {
                    return Err(bad().with_data(json!({"reason": "timestamp out of window"})));
                }
            }
            let secret = config.accounts.get(id).ok_or_else(bad)?;
            if !verify(secret, timestamp, nonce, data, signature) {
                return Err(bad());
            }
            Grant {
                account: id.to_owned(),
                words: granted_scope(requested),
            }
        }
        "refresh_token" => {
            let token = string_param(params, "refresh_token")?;
            // One-shot: a refresh token is consumed by its first use.
            store.refresh.remove(token).ok_or_else(bad)?
        }
        _ => return Err(RpcError::invalid_params("grant_type", "unknown grant type")),
    };
    let account = grant.account.clone();
    let (mut result, access_token) = store.issue(grant, config, now);
    if let Some(state) = params.get("state") {
        result["state"] = state.clone();
    }
    Ok(Authenticated {
        result,
        account,
        access_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deribit_test_vector_verifies() {
        let expected = "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1";
        assert_eq!(
            sign("AMANDASECRECT", 1576074319000, "1iqt2wls", ""),
            expected
        );
        assert!(verify(
            "AMANDASECRECT",
            1576074319000,
            "1iqt2wls",
            "",
            expected
        ));
        assert!(!verify(
            "AMANDASECRECT",
            1576074319001,
            "1iqt2wls",
            "",
            expected
        ));
    }

    #[test]
    fn scope_defaults_and_session() {
        assert_eq!(granted_scope(None)[0], "connection");
        let words = granted_scope(Some("session:abc trade:read"));
        assert!(words.contains(&"trade:read".to_owned()));
        assert!(!words.contains(&"connection".to_owned()));
        assert!(!words.contains(&"trade:read_write".to_owned()));
    }
}
