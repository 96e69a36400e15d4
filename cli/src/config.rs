//! The TOML file of `wsnova run FILE`: named connections, each with an
//! adapter, credentials (from environment variables or a file, never in
//! the file itself), subscriptions and a `[connection.session]` table that
//! is a `SessionConfig` (url, timeouts, heartbeat, backoff, rate limit, …).
//!
//! ```toml
//! [[connection]]
//! name = "deribit"
//! adapter = "deribit"                    # plain | jsonrpc | deribit | binance
//! subscribe = ["ticker.BTC-PERPETUAL.100ms"]
//! credentials = { client_id_env = "DERIBIT_ID", client_secret_env = "DERIBIT_SECRET" }
//! # or: credentials = { file = "/run/secrets/deribit" }  (id, then secret, one per line)
//!
//! [connection.session]
//! url = "wss://test.deribit.com/ws/api/v2"
//! request_timeout = "5s"
//! [connection.session.heartbeat]
//! ping_interval = "15s"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use wsnova_tokio::{Credentials, SessionConfig};

use crate::args::AdapterKind;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The connections, by name.
    #[serde(default)]
    pub connection: Vec<ConnectionSpec>,
}

/// One named connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// Unique in the file; the metrics' `connection` label unless the
    /// session table names another.
    pub name: String,
    /// The protocol on top.
    #[serde(default = "plain")]
    pub adapter: AdapterKind,
    /// Channels to keep subscribed.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Where the credentials come from.
    #[serde(default)]
    pub credentials: Option<CredentialSource>,
    /// A `SessionConfig` (kept as TOML to tell what changed on reload).
    pub session: toml::Value,
}

fn plain() -> AdapterKind {
    AdapterKind::Plain
}

/// Credentials from two environment variables or from a file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSource {
    /// The variable holding the client id.
    pub client_id_env: Option<String>,
    /// The variable holding the secret.
    pub client_secret_env: Option<String>,
    /// A file: the client id on the first line, the secret on the second.
    pub file: Option<PathBuf>,
}

impl ConfigFile {
    /// Reads and checks `path`: every session valid, names unique.
    pub fn load(path: &Path) -> Result<ConfigFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: ConfigFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut names = std::collections::BTreeSet::new();
        for spec in &file.connection {
            if !names.insert(spec.name.as_str()) {
                return Err(format!(
                    "{}: two connections named {:?}",
                    path.display(),
                    spec.name
                ));
            }
            spec.session_config()?;
            spec.credentials()?;
        }
        Ok(file)
    }
}

impl ConnectionSpec {
    /// The session configuration, named after the connection by default.
    pub fn session_config(&self) -> Result<SessionConfig, String> {
        let mut config: SessionConfig = self
            .session
            .clone()
            .try_into()
            .map_err(|e| format!("connection {:?}: {e}", self.name))?;
        config.name.get_or_insert_with(|| self.name.clone());
        Ok(config)
    }

    /// The credentials, read now from their source.
    pub fn credentials(&self) -> Result<Option<Credentials>, String> {
        let Some(source) = &self.credentials else {
            return Ok(None);
        };
        let who = &self.name;
        if let Some(path) = &source.file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("connection {who:?}: credentials {}: {e}", path.display()))?;
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            return match (lines.next(), lines.next()) {
                (Some(id), Some(secret)) => Ok(Some(Credentials::new(id, secret))),
                _ => Err(format!(
                    "connection {who:?}: credentials {}: expected two lines",
                    path.display()
                )),
            };
        }
        let var = |name: &Option<String>| -> Result<String, String> {
            let name = name.as_deref().ok_or_else(|| {
                format!("connection {who:?}: credentials need `file` or both `*_env` keys")
            })?;
            std::env::var(name).map_err(|_| format!("connection {who:?}: ${name} is not set"))
        };
        Ok(Some(Credentials::new(
            var(&source.client_id_env)?,
            var(&source.client_secret_env)?,
        )))
    }
}
