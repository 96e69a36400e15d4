//! The tokio-websockets 0.13 column: `SinkExt::feed` per message (frames go
//! into the stream's write buffer) and one `flush`; echoes from
//! `StreamExt::next`. Client feature only, no TLS.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt as _};
use tokio::net::TcpStream;
use tokio_websockets::{ClientBuilder, Message, WebSocketStream};

use super::{EchoClient, Server};

/// A tokio-websockets connection over plain TCP.
pub struct TokioWebsockets {
    ws: WebSocketStream<TcpStream>,
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl EchoClient for TokioWebsockets {
    const NAME: &'static str = "tokio-websockets";
    const SERVER: Server = Server::WebSocket;
    type Msg = Bytes;

    fn message(payload: &[u8]) -> Bytes {
        Bytes::copy_from_slice(payload)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (ws, _response) = ClientBuilder::new()
            .uri(&format!("ws://{addr}/"))
            .map_err(io_error)?
            .connect_on(tcp)
            .await
            .map_err(io_error)?;
        Ok(Self { ws })
    }

    async fn feed(&mut self, msg: &Bytes) -> io::Result<()> {
        self.ws
            .feed(Message::binary(msg.clone()))
            .await
            .map_err(io_error)
    }

    async fn flush(&mut self) -> io::Result<()> {
        SinkExt::flush(&mut self.ws).await.map_err(io_error)
    }

    async fn recv(&mut self, msg: &Bytes) -> io::Result<()> {
        loop {
            match self.ws.next().await {
                Some(Ok(echo)) if echo.is_binary() && echo.as_payload().len() == msg.len() => {
                    return Ok(());
                }
                Some(Ok(echo)) if echo.is_ping() || echo.is_pong() => continue,
                Some(Ok(_)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "unexpected echo",
                    ));
                }
                Some(Err(e)) => return Err(io_error(e)),
                None => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
    }

    async fn close(mut self) -> io::Result<()> {
        // Sends a close frame and flushes it.
        SinkExt::close(&mut self.ws).await.map_err(io_error)?;
        while let Some(Ok(_)) = self.ws.next().await {}
        Ok(())
    }
}
