//! Secrets: credentials and tokens that never show in `Debug` output.

use std::fmt;
use std::time::Duration;

/// A secret string. `Debug` prints `<redacted>` and there is no `Display`;
/// read it with [`expose`](Self::expose) only where it goes on the wire.
///
/// ```
/// use wsnova_core::session::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "<redacted>");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a session authenticates with. The adapter decides how they are used
/// (e.g. Deribit's `client_credentials` or `client_signature` grants).
///
/// ```
/// use wsnova_core::session::Credentials;
/// let c = Credentials::new("my-client-id", "my-secret");
/// let shown = format!("{c:?}");
/// assert!(shown.contains("my-client-id") && !shown.contains("my-secret"));
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Credentials {
    /// The public part (client id, API key).
    pub client_id: String,
    /// The private part.
    pub secret: Secret,
}

impl Credentials {
    /// Credentials from an id and a secret.
    pub fn new(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            client_id: client_id.into(),
            secret: Secret::new(secret),
        }
    }
}

/// The result of a successful authentication, as the adapter read it.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct AuthToken {
    /// The access token, if the service uses one.
    pub access_token: Option<Secret>,
    /// The token to refresh with, if the service issues one.
    pub refresh_token: Option<Secret>,
    /// How long the access token lives; `None` for no expiry.
    pub expires_in: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_says_redacted_and_never_the_secret() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "<redacted>");
        let shown = format!("{:?}", Credentials::new("id-1", "hunter2"));
        assert!(
            shown.contains("id-1") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
