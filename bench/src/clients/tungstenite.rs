//! tokio-tungstenite 0.30 in its fastest mode: `feed` to queue, `flush` once,
//! `StreamExt::next` to read.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::{EchoClient, Server, io_error};

/// A tokio-tungstenite connection with the default configuration.
pub struct TokioTungstenite {
    ws: WebSocketStream<TcpStream>,
}

impl EchoClient for TokioTungstenite {
    const NAME: &'static str = "tokio-tungstenite";
    const SERVER: Server = Server::WebSocket;
    type Msg = Bytes;

    fn message(payload: &[u8]) -> Bytes {
        Bytes::copy_from_slice(payload)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (ws, _response) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
            .await
            .map_err(io_error)?;
        Ok(Self { ws })
    }

    async fn feed(&mut self, msg: &Bytes) -> io::Result<()> {
        self.ws
            .feed(Message::Binary(msg.clone()))
            .await
            .map_err(io_error)
    }

    async fn flush(&mut self) -> io::Result<()> {
        SinkExt::flush(&mut self.ws).await.map_err(io_error)
    }

    async fn recv(&mut self, msg: &Bytes) -> io::Result<()> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Binary(echo))) if echo.len() == msg.len() => return Ok(()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unexpected echo: {other:?}"),
                    ));
                }
                Some(Err(e)) => return Err(io_error(e)),
                None => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
    }

    async fn close(mut self) -> io::Result<()> {
        self.ws.close(None).await.map_err(io_error)?;
        // Wait for the server's close frame (the stream ends after it).
        while let Some(Ok(_)) = self.ws.next().await {}
        Ok(())
    }
}
