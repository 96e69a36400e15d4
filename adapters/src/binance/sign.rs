//! Signing WebSocket API requests (Binance "SIGNED request security").
//!
//! The payload is every request parameter except `signature`, sorted by
//! name, formatted `name=value` and joined with `&`, values as UTF-8
//! without percent-encoding. HMAC keys sign it with HMAC-SHA-256 of the
//! secret key (hex output); Ed25519 keys sign its bytes (base64 output).
//! Binance's Ed25519 keys are PKCS#8 PEM files (`openssl genpkey -algorithm
//! ed25519`), read here without an extra crate: ring (already in the tree
//! through rustls) does HMAC and Ed25519, data-encoding the base64.

use std::fmt;

use data_encoding::{BASE64, HEXLOWER};
use ring::{hmac, signature::Ed25519KeyPair};
use serde_json::{Map, Value};

/// An API key: sent with every signed request, but as sensitive as the
/// secret in Binance's words. `Debug` hides it.
///
/// ```
/// use wsnova_adapters::binance::ApiKey;
/// let key = ApiKey::new("vmPUZE6mv9SD5VNH");
/// assert!(!format!("{key:?}").contains("vmPUZE"));
/// assert_eq!(key.expose(), "vmPUZE6mv9SD5VNH");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the request that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// Not a `-----BEGIN PRIVATE KEY-----` PEM block with base64 inside.
    Pem,
    /// Not an unencrypted PKCS#8 Ed25519 private key.
    Key,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignError::Pem => "not a PEM private key",
            SignError::Key => "not an unencrypted PKCS#8 Ed25519 key",
        })
    }
}

impl std::error::Error for SignError {}

enum Kind {
    Hmac(hmac::Key),
    Ed25519(Ed25519KeyPair),
}

/// An API key with the means to sign: an HMAC secret or an Ed25519 private
/// key. `Debug` shows only the kind.
///
/// ```
/// use wsnova_adapters::binance::Signer;
/// // Binance's HMAC example (WebSocket API, "SIGNED request example (HMAC)").
/// let signer = Signer::hmac(
///     "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
///     "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
/// );
/// let payload = "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT";
/// assert_eq!(signer.sign(payload), "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24");
/// assert!(!format!("{signer:?}").contains("NhqPt"));
/// ```
pub struct Signer {
    api_key: ApiKey,
    kind: Kind,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Hmac(_) => "HMAC-SHA256",
            Kind::Ed25519(_) => "Ed25519",
        };
        f.debug_struct("Signer")
            .field("api_key", &self.api_key)
            .field("kind", &kind)
            .finish()
    }
}

impl Signer {
    /// An HMAC-SHA256 key: the secret is used as ASCII bytes.
    pub fn hmac(api_key: impl Into<String>, secret: &str) -> Signer {
        Signer {
            api_key: ApiKey::new(api_key),
            kind: Kind::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())),
        }
    }

    /// An Ed25519 key from its PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`).
    pub fn ed25519_pem(api_key: impl Into<String>, pem: &str) -> Result<Signer, SignError> {
        Self::ed25519_pkcs8(api_key, &pem_der(pem)?)
    }

    /// An Ed25519 key from its PKCS#8 DER bytes (v1, as OpenSSL writes it, or v2).
    pub fn ed25519_pkcs8(api_key: impl Into<String>, der: &[u8]) -> Result<Signer, SignError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| SignError::Key)?;
        Ok(Signer {
            api_key: ApiKey::new(api_key),
            kind: Kind::Ed25519(pair),
        })
    }

    /// The API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The Ed25519 public key (32 bytes), to register with Binance or to verify.
    pub fn public_key(&self) -> Option<Vec<u8>> {
        use ring::signature::KeyPair as _;
        match &self.kind {
            Kind::Ed25519(pair) => Some(pair.public_key().as_ref().to_vec()),
            Kind::Hmac(_) => None,
        }
    }

    /// The signature of `payload`: lowercase hex (HMAC) or base64 (Ed25519).
    pub fn sign(&self, payload: &str) -> String {
        match &self.kind {
            Kind::Hmac(key) => HEXLOWER.encode(hmac::sign(key, payload.as_bytes()).as_ref()),
            Kind::Ed25519(pair) => BASE64.encode(pair.sign(payload.as_bytes()).as_ref()),
        }
    }

    /// Adds `apiKey` and `timestamp` to `params`, then `signature` over
    /// them all ([`payload`]).
    pub fn sign_params(&self, params: &mut Map<String, Value>, timestamp_ms: u64) {
        params.insert("apiKey".into(), Value::String(self.api_key.0.clone()));
        params.insert("timestamp".into(), Value::from(timestamp_ms));
        params.remove("signature");
        let signature = self.sign(&payload(params));
        params.insert("signature".into(), Value::String(signature));
    }
}

/// The signature payload of `params`: every parameter but `signature`,
/// sorted by name, `name=value` joined by `&`; strings without quotes,
/// numbers and booleans as JSON writes them.
///
/// ```
/// use serde_json::json;
/// use wsnova_adapters::binance::api::payload;
/// let params = json!({"symbol": "BTCUSDT", "recvWindow": 100, "apiKey": "k", "signature": "x"});
/// assert_eq!(payload(params.as_object().unwrap()), "apiKey=k&recvWindow=100&symbol=BTCUSDT");
/// ```
pub fn payload(params: &Map<String, Value>) -> String {
    let mut names: Vec<&String> = params.keys().filter(|k| *k != "signature").collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        match &params[name] {
            Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
    }
    out
}

/// The DER inside a `PRIVATE KEY` PEM block.
fn pem_der(pem: &str) -> Result<Vec<u8>, SignError> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let start = pem.find(BEGIN).ok_or(SignError::Pem)? + BEGIN.len();
    let end = pem[start..].find(END).ok_or(SignError::Pem)? + start;
    let body: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    BASE64.decode(body.as_bytes()).map_err(|_| SignError::Pem)
}

#[cfg(test)]
mod tests;
