//! The wsnova-tokio column, in the mode that matches tokio-tungstenite's
//! feed + flush: `Client::feed_binary` frames into the connection's transmit
//! buffer, `Client::flush` writes it all in one syscall from the calling
//! task; echoes come from the `Events` stream.

use std::io;
use std::net::SocketAddr;
use wsnova_tokio::Connect as _;

use futures_util::StreamExt as _;
use wsnova_core::session::{Event, HeartbeatConfig, Plain};
use wsnova_core::wire::Message;
use wsnova_tokio::{Builder, Client, Events};

use super::{EchoClient, Server};

/// A wsnova-tokio connection (Plain adapter, no heartbeats).
pub struct Wsnova {
    client: Client,
    events: Events,
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl EchoClient for Wsnova {
    const NAME: &'static str = "wsnova-tokio";
    const SERVER: Server = Server::WebSocket;
    type Msg = Vec<u8>;

    fn message(payload: &[u8]) -> Vec<u8> {
        payload.to_vec()
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let (client, events) = Builder::new(&format!("ws://{addr}/"))
            .map_err(io_error)?
            .heartbeat(HeartbeatConfig {
                ping_interval: None,
                ..HeartbeatConfig::default()
            })
            .connect(Plain)
            .await
            .map_err(io_error)?;
        let mut client = Self { client, events };
        // As an application does: take the lifecycle events that came
        // before `connect` returned (they would otherwise sit in the queue
        // of every idle connection).
        while !matches!(client.events.next().await, Some(Event::Ready) | None) {}
        Ok(client)
    }

    async fn feed(&mut self, msg: &Vec<u8>) -> io::Result<()> {
        self.client.feed_binary(msg).await.map_err(io_error)
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.client.flush();
        Ok(())
    }

    async fn recv(&mut self, msg: &Vec<u8>) -> io::Result<()> {
        loop {
            match self.events.next().await {
                Some(Event::Message(Message::Binary(echo))) if echo.len() == msg.len() => {
                    return Ok(());
                }
                Some(Event::Message(other)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unexpected echo of {} bytes", other.len()),
                    ));
                }
                Some(Event::Closed { reason }) => return Err(io_error(format!("{reason:?}"))),
                Some(_) => continue,
                None => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
    }

    async fn close(self) -> io::Result<()> {
        self.client.close().await.map_err(io_error)
    }
}
