//! The raw-TCP baseline: writes the very bytes a WebSocket client would (a
//! masked binary frame per message) and counts the bytes that come back,
//! with no framing work at all: the floor for any client.
//!
//! [`RawTcp`] talks to the raw TCP echo (the bytes come back as sent).
//! [`RawWs`] does the same against the WebSocket echo, after a canned
//! upgrade (the frames come back unmasked, 4 bytes shorter): it shows what
//! the WebSocket echo server itself can do, i.e. that the server is not what
//! the WebSocket columns measure. It is not in the default set (`--only raw-ws`).

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use wsnova_bench::frame::{self, FIN, OP_BINARY};

use super::{EchoClient, Server};

const READ_BUF: usize = 64 * 1024;

const UPGRADE: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A plain TCP connection writing pre-built frames; `WS` picks the server.
pub struct Raw<const WS: bool> {
    socket: TcpStream,
    /// Frames fed and not yet flushed.
    out: Vec<u8>,
    /// Scratch for reads (allocated on first use: idle connections stay bare).
    input: Vec<u8>,
    /// Bytes read and not yet counted as an echo.
    unclaimed: usize,
}

/// The raw TCP baseline.
pub type RawTcp = Raw<false>;
/// Raw frames against the WebSocket echo (the server's ceiling).
pub type RawWs = Raw<true>;

/// One masked binary frame, as a client would put it on the wire.
pub struct RawMsg {
    frame: Vec<u8>,
}

impl<const WS: bool> Raw<WS> {
    /// Bytes of the echo of `msg`: the same, less the mask if unmasked.
    fn echo_len(msg: &RawMsg) -> usize {
        if WS {
            msg.frame.len() - 4
        } else {
            msg.frame.len()
        }
    }

    /// The canned upgrade (shared with the fastwebsockets column).
    pub(crate) async fn upgrade(socket: &mut TcpStream) -> io::Result<()> {
        socket.write_all(UPGRADE).await?;
        let mut response = Vec::new();
        let mut chunk = [0u8; 512];
        while !response.ends_with(b"\r\n\r\n") {
            match socket.read(&mut chunk).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => response.extend_from_slice(&chunk[..n]),
            }
        }
        if response.starts_with(b"HTTP/1.1 101 ") {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "upgrade refused",
            ))
        }
    }
}

impl<const WS: bool> EchoClient for Raw<WS> {
    const NAME: &'static str = if WS { "raw-ws" } else { "raw-tcp" };
    const SERVER: Server = if WS {
        Server::WebSocket
    } else {
        Server::RawTcp
    };
    type Msg = RawMsg;

    fn message(payload: &[u8]) -> RawMsg {
        let mut frame = Vec::with_capacity(payload.len() + frame::MAX_HEADER);
        frame::encode_frame(
            &mut frame,
            FIN | OP_BINARY,
            payload,
            Some([0x5a, 0x1e, 0x77, 0x03]),
        );
        RawMsg { frame }
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let mut socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        if WS {
            Self::upgrade(&mut socket).await?;
        }
        Ok(Self {
            socket,
            out: Vec::new(),
            input: Vec::new(),
            unclaimed: 0,
        })
    }

    async fn feed(&mut self, msg: &RawMsg) -> io::Result<()> {
        self.out.extend_from_slice(&msg.frame);
        Ok(())
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.socket.write_all(&self.out).await?;
        self.out.clear();
        Ok(())
    }

    async fn recv(&mut self, msg: &RawMsg) -> io::Result<()> {
        if self.input.is_empty() {
            self.input = vec![0; READ_BUF];
        }
        let len = Self::echo_len(msg);
        while self.unclaimed < len {
            match self.socket.read(&mut self.input).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => self.unclaimed += n,
            }
        }
        self.unclaimed -= len;
        Ok(())
    }

    async fn close(mut self) -> io::Result<()> {
        self.socket.shutdown().await
    }
}
