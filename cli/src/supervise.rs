//! `wsnova run FILE`: runs every connection of a config file and follows
//! the file. On a change, subscriptions are added and removed on the live
//! connections, and heartbeat settings are applied to them (no reconnect:
//! [`live_setter`] lists what is taken live); a connection whose adapter,
//! credentials or any other session setting changed is restarted; new
//! names start, removed names close. A file that fails to load is
//! reported and the running set stays as it is.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use wsnova_tokio::prelude::*;
use wsnova_tokio::{SessionConfig, SessionError};

use crate::args::{AdapterKind, BinaryFormat};
use crate::config::{ConfigFile, ConnectionSpec};
use crate::exit::Exit;
use crate::health::{self, Watched};
use crate::output::Printer;
use crate::status::StatusLine;

/// Runs the connections of a TOML file and reloads it when it changes.
/// Prints every connection's events, each line prefixed by its name (a
/// `connection` member with --json). Runs until Ctrl-C (exit 130).
#[derive(Debug, Parser)]
#[command(name = "wsnova run", version)]
struct RunArgs {
    /// The configuration file (TOML).
    file: PathBuf,
    /// One JSON object per event on stdout.
    #[arg(long)]
    json: bool,
    /// Serves /metrics, /healthz and /readyz (200 when every connection is Ready).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
    /// Prints each pong's round-trip time (pings: `ping_interval` in the file).
    #[arg(long)]
    print_ping_rtts: bool,
    /// How often the file is checked for changes.
    #[arg(long, value_name = "DURATION", default_value = "1s",
          value_parser = wsnova_tokio::core::session::parse_duration)]
    reload_every: Duration,
}

struct Running {
    spec: ConnectionSpec,
    client: Client,
}

/// `wsnova run …`: `argv` starts with `run`.
pub fn main(argv: Vec<OsString>) -> Exit {
    let args = match RunArgs::try_parse_from(argv) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                Exit::Usage
            } else {
                Exit::Normal
            };
        }
    };
    let file = match ConfigFile::load(&args.file) {
        Ok(file) => file,
        Err(message) => {
            eprintln!("wsnova run: {message}");
            return Exit::Usage;
        }
    };
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return Exit::Internal;
    };
    let exit = runtime.block_on(async move {
        let watched = match args.metrics {
            Some(addr) => match health::serve(addr).await {
                Ok(watched) => watched,
                Err(message) => {
                    eprintln!("wsnova run: {message}");
                    return Exit::Internal;
                }
            },
            None => Watched::default(),
        };
        let mut running = BTreeMap::new();
        apply(&args, &mut running, &file, &watched).await;
        let mut current = file;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(args.reload_every) => {}
                _ = tokio::signal::ctrl_c() => {
                    for (_, conn) in std::mem::take(&mut running) {
                        let _ = conn.client.close().await;
                    }
                    return Exit::Interrupted;
                }
            }
            match ConfigFile::load(&args.file) {
                Ok(next) if next != current => {
                    eprintln!("wsnova run: {} changed: reloading", args.file.display());
                    apply(&args, &mut running, &next, &watched).await;
                    current = next;
                }
                Ok(_) => {}
                Err(message) => eprintln!("wsnova run: not reloaded: {message}"),
            }
        }
    });
    runtime.shutdown_background();
    exit
}

/// Brings the running connections to what `file` says.
async fn apply(
    args: &RunArgs,
    running: &mut BTreeMap<String, Running>,
    file: &ConfigFile,
    watched: &Watched,
) {
    let wanted: BTreeMap<&str, &ConnectionSpec> = file
        .connection
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    let names: Vec<String> = running.keys().cloned().collect();
    for name in names {
        let restart = match wanted.get(name.as_str()) {
            None => true,
            Some(spec) => {
                let conn = &running[&name];
                let old = &conn.spec;
                old.adapter != spec.adapter
                    || old.credentials != spec.credentials
                    || !apply_live(&name, &conn.client, &old.session, spec)
            }
        };
        if restart {
            if let Some(conn) = running.remove(&name) {
                eprintln!("wsnova run: closing {name:?}");
                let _ = conn.client.close().await;
            }
        }
    }
    for spec in file.connection.iter() {
        match running.get_mut(&spec.name) {
            Some(conn) => {
                let added: Vec<&str> = spec
                    .subscribe
                    .iter()
                    .filter(|c| !conn.spec.subscribe.contains(c))
                    .map(String::as_str)
                    .collect();
                let removed: Vec<&str> = conn
                    .spec
                    .subscribe
                    .iter()
                    .filter(|c| !spec.subscribe.contains(c))
                    .map(String::as_str)
                    .collect();
                if !added.is_empty() {
                    let _ = conn.client.subscribe_nowait(&added);
                }
                if !removed.is_empty() {
                    let _ = conn.client.unsubscribe(&removed).await;
                }
                conn.spec = spec.clone();
            }
            None => match start(args, spec) {
                Ok(client) => {
                    running.insert(
                        spec.name.clone(),
                        Running {
                            spec: spec.clone(),
                            client,
                        },
                    );
                }
                Err(message) => eprintln!("wsnova run: {message}"),
            },
        }
    }
    let clients = running.values().map(|c| c.client.clone()).collect();
    *watched.lock().unwrap_or_else(|e| e.into_inner()) = clients;
}

/// A live setter: applies one session key's new value to a running connection.
type Setter = fn(&Client, &SessionConfig) -> Result<(), SessionError>;

/// The `[connection.session]` keys a running connection takes without a
/// reconnect, each with its setter; a change of any other key restarts
/// the connection (docs/cli.md says which).
fn live_setter(key: &str) -> Option<Setter> {
    match key {
        "heartbeat" => Some(|client, config| client.set_heartbeat(config.heartbeat)),
        "rate_limit" => Some(|client, config| client.set_rate_limits(config.rate_limits.clone())),
        _ => None,
    }
}

/// Applies the changes from `old` to `spec.session` to the running
/// `client` when every changed key has a live setter; `false` (nothing
/// applied) when the connection must restart.
fn apply_live(name: &str, client: &Client, old: &toml::Value, spec: &ConnectionSpec) -> bool {
    let empty = toml::map::Map::new();
    let (old, new) = match (old.as_table(), spec.session.as_table()) {
        (Some(old), Some(new)) => (old, new),
        _ => (&empty, &empty),
    };
    let changed: Vec<&String> = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)))
        .filter(|k| old.get(*k) != new.get(*k))
        .collect();
    let Some(setters) = changed
        .iter()
        .map(|key| live_setter(key))
        .collect::<Option<Vec<Setter>>>()
    else {
        return false;
    };
    let Ok(config) = spec.session_config() else {
        return false;
    };
    for (key, setter) in changed.iter().zip(setters) {
        match setter(client, &config) {
            Ok(()) => eprintln!("wsnova run: {name:?}: {key} applied without a reconnect"),
            Err(error) => {
                eprintln!("wsnova run: {name:?}: {key} refused ({error}): restarting");
                return false;
            }
        }
    }
    true
}

/// Starts one connection (retrying until it comes up) and its printer.
fn start(args: &RunArgs, spec: &ConnectionSpec) -> Result<Client, String> {
    let mut builder = Builder::from_config(spec.session_config()?).retry_initial_connect(true);
    if let Some(credentials) = spec.credentials()? {
        builder = builder.credentials(credentials);
    }
    let started = match spec.adapter {
        AdapterKind::Plain => builder.spawn_without_waiting(Plain),
        AdapterKind::Jsonrpc => builder.spawn_without_waiting(JsonRpc::new()),
        AdapterKind::Deribit => builder.spawn_without_waiting(Deribit::new()),
        AdapterKind::Binance => builder.spawn_without_waiting(Binance::spot()),
    };
    let (client, mut events) = started.map_err(|e| format!("connection {:?}: {e}", spec.name))?;
    let channels: Vec<&str> = spec.subscribe.iter().map(String::as_str).collect();
    if !channels.is_empty() {
        let _ = client.subscribe_nowait(&channels);
    }
    let printer = Printer::new(
        args.json,
        BinaryFormat::Hex,
        args.print_ping_rtts,
        StatusLine::new(true),
    )
    .named(&spec.name);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if printer.event(&event).is_err() {
                break;
            }
        }
    });
    Ok(client)
}
