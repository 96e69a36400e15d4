//! `wsnova replay FILE`: serves a recording (`--record`) to a client as a
//! server. Each connection gets the recording's first connection as the
//! server sent it — the upgrade answer (its `Sec-WebSocket-Accept` made to
//! fit the client's key), then every frame at its recorded time — while
//! what the client sends is read and dropped.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tungstenite::handshake::derive_accept_key;
use wsnova_tokio::core::record::{Entry, FORMAT_VERSION, Piece, time_since_start};

use crate::exit::Exit;

/// Serves a recording made with `wsnova --record FILE` to WebSocket
/// clients, frames at their recorded times. Prints `ws://ADDR/` on stdout
/// once listening. Exit codes: 0 done, 1 I/O error, 2 usage or a bad file.
#[derive(Debug, Parser)]
#[command(name = "wsnova replay", version)]
struct ReplayArgs {
    /// The recording (JSON Lines).
    file: PathBuf,
    /// Where to listen.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Exits after serving one connection.
    #[arg(long)]
    once: bool,
}

/// `wsnova replay …`: `argv` starts with `replay`.
pub fn main(argv: Vec<OsString>) -> Exit {
    let args = match ReplayArgs::try_parse_from(argv) {
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
    let pieces = match load(&args.file) {
        Ok(pieces) => pieces,
        Err(message) => {
            eprintln!("wsnova replay: {message}");
            return Exit::Usage;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("wsnova replay: {error}");
            return Exit::Internal;
        }
    };
    runtime.block_on(async {
        let listener = match TcpListener::bind(args.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("wsnova replay: --listen {}: {error}", args.listen);
                return Exit::Internal;
            }
        };
        let Ok(addr) = listener.local_addr() else {
            return Exit::Internal;
        };
        println!("ws://{addr}/");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return Exit::Internal;
            };
            let served = serve(stream, &pieces).await;
            if let Err(error) = &served {
                eprintln!("wsnova replay: {error}");
            }
            if args.once {
                return if served.is_ok() {
                    Exit::Normal
                } else {
                    Exit::Internal
                };
            }
        }
    })
}

/// The server's pieces of the recording's first connection, with their
/// offsets from the first one.
fn load(path: &PathBuf) -> Result<Vec<(Duration, Piece)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut first: Option<(u64, u64)> = None; // generation, time of its first piece
    let mut version = FORMAT_VERSION;
    let mut pieces = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let entry: Entry =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        match entry {
            Entry::Header { tls: true, .. } => {
                return Err("a wss:// recording holds ciphertext and cannot be served".into());
            }
            Entry::Header { version: v, .. } => version = v,
            Entry::In { t, g, piece } => {
                let (generation, start) = *first.get_or_insert((g, t));
                if g == generation {
                    pieces.push((time_since_start(version, t - start), piece));
                }
            }
            _ => {}
        }
    }
    if pieces.first().is_none_or(|(_, p)| p.head.is_none()) {
        return Err(format!("{}: no upgrade answer recorded", path.display()));
    }
    Ok(pieces)
}

/// Plays the pieces to one client.
async fn serve(stream: TcpStream, pieces: &[(Duration, Piece)]) -> std::io::Result<()> {
    let (mut reader, mut writer) = stream.into_split();
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match reader.read(&mut buf).await? {
            0 => return Ok(()),
            n => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request).into_owned();
    let key = header_value(&request, "sec-websocket-key").unwrap_or_default();
    // Whatever the client sends from now on is read and dropped.
    let drain =
        tokio::spawn(async move { while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {} });
    let start = tokio::time::Instant::now();
    for (offset, piece) in pieces {
        tokio::time::sleep_until(start + *offset).await;
        let bytes = match &piece.head {
            Some(head) => fit_accept(head, key).into_bytes(),
            None => piece.server_bytes(),
        };
        writer.write_all(&bytes).await?;
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    writer.shutdown().await
}

fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The recorded upgrade answer with `Sec-WebSocket-Accept` for `key`.
fn fit_accept(head: &str, key: &str) -> String {
    head.split("\r\n")
        .map(|line| match line.split_once(':') {
            Some((name, _)) if name.trim().eq_ignore_ascii_case("sec-websocket-accept") => {
                format!("{name}: {}", derive_accept_key(key.as_bytes()))
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}
