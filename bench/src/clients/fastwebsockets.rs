//! The fastwebsockets column: the upgrade is written by hand (the crate's
//! `upgrade` feature would pull in hyper), then `WebSocket::after_handshake`
//! over a `tokio::io::BufWriter`, so each `write_frame` lands in the buffer
//! (vectored writes off) and `flush` writes them all at once; echoes from
//! `read_frame`.

use std::io;
use std::net::SocketAddr;

use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket};
use tokio::io::BufWriter;
use tokio::net::TcpStream;

use super::raw::RawWs;
use super::{EchoClient, Server};

/// Write buffer: room for a window of 64 B frames or a few 16 KiB ones.
const WRITE_BUF: usize = 64 * 1024;

/// A fastwebsockets connection over a buffered TCP stream.
pub struct FastWebsockets {
    ws: WebSocket<BufWriter<TcpStream>>,
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl EchoClient for FastWebsockets {
    const NAME: &'static str = "fastwebsockets";
    const SERVER: Server = Server::WebSocket;
    type Msg = Vec<u8>;

    fn message(payload: &[u8]) -> Vec<u8> {
        payload.to_vec()
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let mut tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        RawWs::upgrade(&mut tcp).await?;
        let mut ws =
            WebSocket::after_handshake(BufWriter::with_capacity(WRITE_BUF, tcp), Role::Client);
        ws.set_writev(false);
        Ok(Self { ws })
    }

    async fn feed(&mut self, msg: &Vec<u8>) -> io::Result<()> {
        self.ws
            .write_frame(Frame::binary(Payload::Borrowed(msg)))
            .await
            .map_err(io_error)
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.ws.flush().await.map_err(io_error)
    }

    async fn recv(&mut self, msg: &Vec<u8>) -> io::Result<()> {
        loop {
            let frame = self.ws.read_frame().await.map_err(io_error)?;
            match frame.opcode {
                OpCode::Binary if frame.payload.len() == msg.len() => return Ok(()),
                OpCode::Ping | OpCode::Pong => continue,
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "unexpected echo",
                    ));
                }
            }
        }
    }

    async fn close(mut self) -> io::Result<()> {
        self.ws
            .write_frame(Frame::close(1000, b""))
            .await
            .map_err(io_error)?;
        self.ws.flush().await.map_err(io_error)?;
        // Until the server's close frame (or the end of the stream).
        while let Ok(frame) = self.ws.read_frame().await {
            if frame.opcode == OpCode::Close {
                break;
            }
        }
        Ok(())
    }
}
