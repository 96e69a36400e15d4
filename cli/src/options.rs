//! From the command line to a [`Builder`]: every mistake found here is a
//! usage error (exit 2) with a message that names it, before anything is
//! dialled.

use std::fs;
use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use wsnova_tokio::core::session::{BackoffConfig, HeartbeatConfig, SessionConfig};
use wsnova_tokio::{Builder, Credentials, RootCertStore};

use crate::args::{AdapterKind, Args};

/// The environment variables credentials are read from.
pub const ENV_CLIENT_ID: &str = "WSNOVA_CLIENT_ID";
/// See [`ENV_CLIENT_ID`].
pub const ENV_CLIENT_SECRET: &str = "WSNOVA_CLIENT_SECRET";

/// The builder for `args`, or a usage error's message.
pub fn builder(args: &Args) -> Result<Builder, String> {
    check_adapter_flags(args)?;
    let mut config =
        SessionConfig::new(&args.url).map_err(|e| format!("bad URL {:?}: {e}", args.url))?;
    if args.insecure {
        if !config.wire.endpoint().is_secure() {
            return Err("--insecure is for wss:// URLs".into());
        }
        config.wire = config.wire.tls_config(crate::insecure::client_config());
    }
    let mut builder = Builder::from_config(config);
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("bad header {header:?}: expected \"Name: value\""))?;
        builder = builder
            .header(name.trim(), value.trim())
            .map_err(|e| format!("bad header {header:?}: {e}"))?;
    }
    for protocol in &args.subprotocol {
        builder = builder.subprotocol(protocol);
    }
    if let Some(path) = &args.root_cert {
        builder = builder.root_certificates(roots(path)?);
    }
    if let Some(proxy) = &args.proxy {
        if proxy
            .split_once("://")
            .map_or(proxy.as_str(), |(_, rest)| rest)
            .contains('@')
        {
            return Err(
                "--proxy takes no credentials: put them in HTTPS_PROXY, HTTP_PROXY or \
                        ALL_PROXY instead (a flag's value shows in the process list)"
                    .into(),
            );
        }
        builder = builder
            .proxy(proxy)
            .map_err(|e| format!("bad --proxy: {e}"))?;
    }
    if args.no_proxy {
        builder = builder.no_proxy();
    }
    if args.no_compress {
        builder = builder
            .deflate(wsnova_tokio::DeflateConfig::disabled())
            .map_err(|e| e.to_string())?;
    }
    let mut heartbeat = HeartbeatConfig::default();
    if let Some(interval) = args.ping_interval {
        heartbeat.ping_interval = interval.0;
    }
    if let Some(timeout) = args.ping_timeout {
        heartbeat.pong_timeout = timeout;
    }
    builder = builder.heartbeat(heartbeat);
    let mut backoff = BackoffConfig::default();
    if let Some(base) = args.backoff_base {
        backoff.base = base;
    }
    if let Some(max) = args.backoff_max {
        backoff.max_delay = max;
    }
    backoff.max_attempts = args.max_retries;
    builder = builder
        .backoff(backoff)
        .retry_initial_connect(args.retry_initial)
        .request_timeout(args.request_timeout);
    if let Some(timeout) = args.connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    if let Some(credentials) = credentials(args)? {
        builder = builder.credentials(credentials);
    }
    builder.validate().map_err(|e| e.to_string())?;
    Ok(builder)
}

/// `--subscribe` and `--request` need an adapter that correlates answers.
fn check_adapter_flags(args: &Args) -> Result<(), String> {
    if args.adapter == AdapterKind::Plain
        && (!args.subscribe.is_empty() || !args.request.is_empty())
    {
        return Err(
            "--subscribe and --request need a protocol: add --adapter jsonrpc or --adapter deribit"
                .into(),
        );
    }
    for (method, params) in args.requests() {
        serde_json::from_str::<serde_json::Value>(params)
            .map_err(|e| format!("--request {method}: params are not JSON ({e}): {params:?}"))?;
    }
    Ok(())
}

/// The PEM certificates in `path` as a root store.
fn roots(path: &Path) -> Result<RootCertStore, String> {
    let pem = fs::read(path).map_err(|e| format!("--root-cert {}: {e}", path.display()))?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("--root-cert {}: {e}", path.display()))?;
        store
            .add(cert)
            .map_err(|e| format!("--root-cert {}: {e}", path.display()))?;
    }
    if store.is_empty() {
        return Err(format!(
            "--root-cert {}: no certificate in the file",
            path.display()
        ));
    }
    Ok(store)
}

/// Credentials from `--credentials-file`, else from the environment; none
/// for the plain adapter, which has no authentication.
fn credentials(args: &Args) -> Result<Option<Credentials>, String> {
    if let Some(path) = &args.credentials_file {
        let text = fs::read_to_string(path)
            .map_err(|e| format!("--credentials-file {}: {e}", path.display()))?;
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        return match (lines.next(), lines.next()) {
            (Some(id), Some(secret)) => Ok(Some(Credentials::new(id, secret))),
            _ => Err(format!(
                "--credentials-file {}: expected the client id on the first line and the secret on the second",
                path.display()
            )),
        };
    }
    if args.adapter == AdapterKind::Plain {
        return Ok(None);
    }
    match (
        std::env::var(ENV_CLIENT_ID),
        std::env::var(ENV_CLIENT_SECRET),
    ) {
        (Ok(id), Ok(secret)) => Ok(Some(Credentials::new(id, secret))),
        (Ok(_), Err(_)) | (Err(_), Ok(_)) => Err(format!(
            "set both {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}, or neither"
        )),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(argv: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("wsnova").chain(argv.iter().copied())).unwrap()
    }

    #[test]
    fn mistakes_are_named() {
        let bad_url = builder(&parse(&["http://h/"])).unwrap_err();
        assert!(bad_url.contains("bad URL"), "{bad_url}");
        let bad_header = builder(&parse(&["ws://h/", "-H", "nocolon"])).unwrap_err();
        assert!(bad_header.contains("Name: value"), "{bad_header}");
        let plain = builder(&parse(&["ws://h/", "--subscribe", "x"])).unwrap_err();
        assert!(plain.contains("--adapter"), "{plain}");
        let params = builder(&parse(&[
            "ws://h/",
            "--adapter",
            "jsonrpc",
            "--request",
            "m",
            "{",
        ]));
        assert!(params.unwrap_err().contains("not JSON"));
    }

    #[test]
    fn flags_reach_the_configuration() {
        let args = parse(&[
            "ws://h/",
            "-H",
            "X-A: b",
            "--ping-interval",
            "2s",
            "--max-retries",
            "0",
        ]);
        let config = builder(&args).unwrap().config().clone();
        assert_eq!(
            config.heartbeat.ping_interval,
            Some(std::time::Duration::from_secs(2))
        );
        assert_eq!(config.backoff.max_attempts, Some(0));
    }
}
