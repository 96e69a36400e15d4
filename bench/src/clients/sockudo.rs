//! The sockudo-ws column, driven its fastest documented way: `SinkExt::feed`
//! per message and one `flush`, with the default write coalescing (the
//! stream corks frames into one buffer and writes them out together); echoes
//! from `StreamExt::next`. HTTP/1.1 upgrade, no compression.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt as _};
use sockudo_ws::client::WebSocketClient;
use sockudo_ws::{Config, Http1, Message, Stream, WebSocketStream};
use tokio::net::TcpStream;

use super::{EchoClient, Server};

/// A sockudo-ws connection over plain TCP.
pub struct SockudoWs {
    ws: WebSocketStream<Stream<Http1>>,
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl EchoClient for SockudoWs {
    const NAME: &'static str = "sockudo-ws";
    const SERVER: Server = Server::WebSocket;
    type Msg = Bytes;

    fn message(payload: &[u8]) -> Bytes {
        Bytes::copy_from_slice(payload)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let client = WebSocketClient::<Http1>::new(Config::default());
        let (ws, _handshake) = client
            .connect(tcp, &addr.to_string(), "/", None)
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
        self.ws.close(1000, "").await.map_err(io_error)?;
        // The stream ends after the server's close frame.
        while let Some(Ok(_)) = self.ws.next().await {}
        Ok(())
    }
}
