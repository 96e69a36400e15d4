//! The echo server: a WebSocket frame echo and a raw TCP echo.
//!
//! One tokio current-thread runtime (one core), one task per connection. Each
//! task reads into a growable buffer, echoes every whole frame in it into one
//! output buffer and writes that with a single `write_all`, so replies are
//! batched per read, and a client that pipelines gets its echoes in few
//! syscalls. The task stops reading while its write is blocked, which is the
//! backpressure.

use std::io::{self, Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

use crate::frame::{self, MAX_HEADER, MAX_PAYLOAD};
use crate::upgrade::{self, MAX_REQUEST};

/// A connection's read buffer starts this small (idle connections stay cheap).
const INITIAL_BUF: usize = 8 * 1024;
/// Pending connections the kernel may queue for `accept` (capped by
/// `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;
/// Reads that fill the buffer double it, up to this size.
const STREAMING_BUF: usize = 256 * 1024;

/// What the server echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// HTTP upgrade, then WebSocket frames (ping → pong, close → close).
    WebSocket,
    /// Plain TCP: every byte back as it comes.
    Raw,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ws" | "--ws" => Ok(Self::WebSocket),
            "raw" | "--raw" => Ok(Self::Raw),
            other => Err(format!(
                "unknown server mode {other:?} (expected ws or raw)"
            )),
        }
    }
}

/// Server options, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// What to echo.
    pub mode: Mode,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Exit when standard input closes (a parent holding our stdin died).
    pub exit_on_stdin_eof: bool,
    /// Pin the server to this CPU.
    pub cpu: Option<usize>,
}

/// Usage text of the server's arguments.
pub const USAGE: &str = "[ws|raw|--raw] [--port N] [--cpu N] [--exit-on-stdin-eof]";

impl Options {
    /// Parses the server's arguments (program name excluded).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut options = Self {
            mode: Mode::WebSocket,
            port: 0,
            exit_on_stdin_eof: false,
            cpu: None,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--port" => {
                    let port = args.next().ok_or("--port needs a value")?;
                    options.port = port.parse().map_err(|e| format!("--port {port}: {e}"))?;
                }
                "--cpu" => {
                    let cpu = args.next().ok_or("--cpu needs a value")?;
                    let cpu = cpu.parse().map_err(|e| format!("--cpu {cpu}: {e}"))?;
                    options.cpu = Some(cpu);
                }
                "--exit-on-stdin-eof" => options.exit_on_stdin_eof = true,
                mode => options.mode = mode.parse()?,
            }
        }
        Ok(options)
    }
}

/// Runs the server until the process is killed: binds 127.0.0.1, prints
/// `LISTENING <port>` on stdout, and serves.
pub fn run(options: Options) -> io::Result<()> {
    if let Some(cpu) = options.cpu {
        crate::sys::pin_to_cpu(cpu)?;
    }
    // 1,000+ connections: lift the soft open-files limit.
    if let Err(e) = crate::sys::raise_nofile_limit() {
        eprintln!("echo server: cannot raise RLIMIT_NOFILE: {e}");
    }
    if options.exit_on_stdin_eof {
        std::thread::spawn(|| {
            let mut sink = [0u8; 64];
            let mut stdin = io::stdin();
            while let Ok(1..) = stdin.read(&mut sink) {}
            std::process::exit(0);
        });
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(serve(options))
}

async fn serve(options: Options) -> io::Result<()> {
    // Not `TcpListener::bind`: its backlog of 128 overflows when a client
    // opens 1,000 connections back to back (each drop costs a 1 s SYN retry).
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, options.port)))?;
    let listener = socket.listen(LISTEN_BACKLOG)?;
    {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "LISTENING {}", listener.local_addr()?.port())?;
        stdout.flush()?;
    }
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: say so, and keep serving the others.
                eprintln!("echo server: accept: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        socket.set_nodelay(true)?;
        tokio::task::spawn(async move {
            let result = match options.mode {
                Mode::WebSocket => websocket_connection(socket).await,
                Mode::Raw => raw_connection(socket).await,
            };
            if let Err(e) = result {
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ) {
                    eprintln!("echo server: connection: {e}");
                }
            }
        });
    }
}

/// A read buffer: `buf[..filled]` holds unconsumed bytes.
struct ReadBuf {
    buf: Vec<u8>,
    filled: usize,
}

impl ReadBuf {
    fn new() -> Self {
        Self {
            buf: vec![0; INITIAL_BUF],
            filled: 0,
        }
    }

    /// Reads once; grows first if full (up to `limit`), and doubles after a
    /// read that filled all the free space (up to [`STREAMING_BUF`]).
    /// Returns the bytes read: 0 is end of stream.
    async fn read_from(&mut self, socket: &mut TcpStream, limit: usize) -> io::Result<usize> {
        if self.filled == self.buf.len() {
            if self.buf.len() >= limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "message larger than the server's buffer limit",
                ));
            }
            self.buf.resize((self.buf.len() * 2).min(limit), 0);
        }
        let n = socket.read(&mut self.buf[self.filled..]).await?;
        self.filled += n;
        if self.filled == self.buf.len() && self.buf.len() < STREAMING_BUF {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        Ok(n)
    }

    fn data(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }
}

fn invalid_data(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

async fn websocket_connection(mut socket: TcpStream) -> io::Result<()> {
    let mut input = ReadBuf::new();
    loop {
        if input.read_from(&mut socket, MAX_REQUEST).await? == 0 {
            return Ok(());
        }
        match upgrade::try_upgrade(input.data()) {
            Ok(Some(up)) => {
                socket.write_all(&up.response).await?;
                input.consume(up.consumed);
                break;
            }
            Ok(None) => {}
            Err(e) => {
                socket.write_all(upgrade::BAD_REQUEST).await?;
                return Err(invalid_data(e));
            }
        }
    }
    let mut out = Vec::new();
    loop {
        // Frames may already be buffered (sent right behind the request).
        if input.filled > 0 {
            out.clear();
            let done = frame::echo_frames(input.data(), &mut out).map_err(invalid_data)?;
            if !out.is_empty() {
                socket.write_all(&out).await?;
            }
            input.consume(done.consumed);
            if done.closed {
                let _ = socket.shutdown().await;
                return Ok(());
            }
        }
        if input
            .read_from(&mut socket, MAX_PAYLOAD + MAX_HEADER)
            .await?
            == 0
        {
            return Ok(());
        }
    }
}

async fn raw_connection(mut socket: TcpStream) -> io::Result<()> {
    let mut input = ReadBuf::new();
    loop {
        if input.read_from(&mut socket, STREAMING_BUF).await? == 0 {
            return Ok(());
        }
        socket.write_all(input.data()).await?;
        input.filled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options() {
        let parse = |args: &[&str]| Options::parse(args.iter().map(|s| s.to_string()));
        assert_eq!(parse(&[]).unwrap().mode, Mode::WebSocket);
        assert_eq!(parse(&["raw"]).unwrap().mode, Mode::Raw);
        assert_eq!(parse(&["--raw"]).unwrap().mode, Mode::Raw);
        let o = parse(&["ws", "--port", "9001", "--cpu", "1", "--exit-on-stdin-eof"]).unwrap();
        assert_eq!(
            (o.mode, o.port, o.cpu, o.exit_on_stdin_eof),
            (Mode::WebSocket, 9001, Some(1), true)
        );
        assert!(parse(&["tls"]).is_err());
        assert!(parse(&["--port"]).is_err());
    }
}
