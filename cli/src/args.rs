//! The command line, as clap derives it. Every flag is documented here and
//! in `wsnova --help`; exit codes are in [`crate::exit`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use wsnova_tokio::core::session::parse_duration;

/// A WebSocket client that knows exchange auth, subscriptions and request
/// correlation. Sends each line of stdin as a text message and prints each
/// message it receives on stdout; stdin's end closes the connection.
///
/// Credentials come from the environment (WSNOVA_CLIENT_ID,
/// WSNOVA_CLIENT_SECRET) or from --credentials-file, never from a flag's value.
///
/// Exit codes: 0 normal close (stdin's end, --count reached, a server's
/// 1000 close); 1 internal or I/O error; 2 usage error (bad flag, bad URL,
/// bad file); 3 the first connection failed; 4 the connection was lost for
/// good (retries exhausted, a server's abnormal close); 5 a --request or
/// --subscribe failed; 6 authentication failed; 130 interrupted (Ctrl-C).
#[derive(Debug, Parser)]
#[command(name = "wsnova", version, about, long_about)]
pub struct Args {
    /// The server: ws://HOST[:PORT]/PATH or wss://…
    pub url: String,

    /// Adds a header to the upgrade request: "Name: value" (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Offers a subprotocol (repeatable, in order of preference).
    #[arg(long, value_name = "PROTOCOL")]
    pub subprotocol: Vec<String>,

    /// Connects through this proxy: http://HOST:PORT (HTTP CONNECT) or
    /// socks5h://HOST:PORT. Credentials never come from a flag: put a
    /// proxy with a password in HTTPS_PROXY / HTTP_PROXY / ALL_PROXY,
    /// which are read when no --proxy is given.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,

    /// Connects directly, whatever the proxy environment variables say.
    #[arg(long)]
    pub no_proxy: bool,

    /// Does not offer permessage-deflate (offered by default).
    #[arg(long)]
    pub no_compress: bool,

    /// The protocol on top of WebSocket: plain (none), jsonrpc, deribit or binance.
    #[arg(long, value_enum, default_value_t = AdapterKind::Plain)]
    pub adapter: AdapterKind,

    /// Subscribes to a channel once connected (repeatable; jsonrpc, deribit, binance).
    #[arg(long = "subscribe", value_name = "CHANNEL")]
    pub subscribe: Vec<String>,

    /// Sends a request once connected and prints its result (repeatable;
    /// jsonrpc, deribit, binance): METHOD and its params as JSON ("{}" or "[]").
    #[arg(long = "request", num_args = 2, value_names = ["METHOD", "JSON"])]
    pub request: Vec<String>,

    /// Reads credentials from FILE: the client id on the first line, the
    /// secret on the second. Without it, WSNOVA_CLIENT_ID and
    /// WSNOVA_CLIENT_SECRET are used when both are set.
    #[arg(long, value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,

    /// Prints one JSON object per event on stdout (for scripts), lifecycle
    /// events included.
    #[arg(long)]
    pub json: bool,

    /// How binary messages are printed.
    #[arg(long, value_enum, default_value_t = BinaryFormat::Hex)]
    pub binary: BinaryFormat,

    /// Exits (normally) after this many messages and notifications.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Does not read stdin: runs until the server ends it, --count or Ctrl-C.
    #[arg(short = 'n', long)]
    pub no_stdin: bool,

    /// Pings every DURATION ("15s"; "off" turns pings off).
    #[arg(long, value_name = "DURATION", value_parser = duration_or_off)]
    pub ping_interval: Option<OrOff>,

    /// How long a ping may go unanswered before the connection counts as dead.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub ping_timeout: Option<Duration>,

    /// Prints every ping's round-trip time (stderr; stdout with --json).
    #[arg(long)]
    pub print_ping_rtts: bool,

    /// Trusts the certificates in this PEM file for wss:// instead of the
    /// built-in webpki roots (a self-signed or private CA).
    #[arg(long, value_name = "FILE")]
    pub root_cert: Option<PathBuf>,

    /// Accepts any server certificate (self-signed, expired, another
    /// name): anyone on the path can impersonate the server. For test
    /// servers only; a warning is printed every time.
    #[arg(long, conflicts_with = "root_cert")]
    pub insecure: bool,

    /// Reconnect attempts in a row before giving up (0: never reconnect;
    /// default: forever).
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,

    /// Keeps retrying when the first connection fails, instead of exit 3.
    #[arg(long)]
    pub retry_initial: bool,

    /// The first reconnect delay (grows exponentially, with full jitter).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub backoff_base: Option<Duration>,

    /// The longest reconnect delay.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub backoff_max: Option<Duration>,

    /// Dial, TLS and upgrade must finish within this.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// How long each --request and --subscribe may take.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub request_timeout: Duration,

    /// Seeds the session's randomness (WebSocket key, masks, jitter) to
    /// reproduce a run; default: a fresh seed per run.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Serves Prometheus metrics on http://ADDR/metrics (e.g. 127.0.0.1:9898),
    /// with /healthz (always 200) and /readyz (200 only while Ready).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,

    /// Records the session to FILE as JSON Lines (every input, command and
    /// output; secrets redacted) for `wsnova replay` or a test
    /// (`wsnova_core::record::replay`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// No status line on stderr, even on a terminal.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The `--adapter` choices (and a config file's `adapter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdapterKind {
    /// Plain WebSocket, no protocol on top.
    Plain,
    /// Generic JSON-RPC 2.0.
    Jsonrpc,
    /// Deribit's API v2.
    Deribit,
    /// Binance's market streams and WebSocket API (spot or USD-M: the URL decides).
    Binance,
}

/// The `--binary` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BinaryFormat {
    /// Lowercase hex.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// A duration, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrOff(pub Option<Duration>);

fn duration_or_off(text: &str) -> Result<OrOff, String> {
    if text == "off" {
        return Ok(OrOff(None));
    }
    parse_duration(text).map(|d| OrOff(Some(d)))
}

impl Args {
    /// The `--request` pairs, in order.
    pub fn requests(&self) -> impl Iterator<Item = (&str, &str)> {
        self.request
            .chunks_exact(2)
            .map(|pair| (pair[0].as_str(), pair[1].as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_pair_up_and_durations_parse() {
        let args = Args::try_parse_from([
            "wsnova",
            "ws://h/",
            "--request",
            "a",
            "{}",
            "--request",
            "b",
            "[1]",
            "--ping-interval",
            "off",
            "--ping-timeout",
            "1m30s",
        ])
        .unwrap();
        assert_eq!(
            args.requests().collect::<Vec<_>>(),
            [("a", "{}"), ("b", "[1]")]
        );
        assert_eq!(args.ping_interval, Some(OrOff(None)));
        assert_eq!(args.ping_timeout, Some(Duration::from_secs(90)));
    }

    #[test]
    fn a_bad_duration_is_a_usage_error() {
        let err = Args::try_parse_from(["wsnova", "ws://h/", "--ping-timeout", "10"]).unwrap_err();
        assert!(err.to_string().contains("invalid duration"), "{err}");
    }
}
