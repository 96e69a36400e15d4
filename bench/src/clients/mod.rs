//! The clients under test, behind one trait.
//!
//! Adding a client: implement [`EchoClient`] in a module here, add its name to
//! [`names`] (or [`extra_names`]) and an arm to [`run`]. The two wsnova
//! columns (`wsnova.rs`, `wsnova_mio.rs`) are behind the `wsnova` cargo
//! feature (on by default).

use std::io;
use std::net::SocketAddr;

use crate::measure::{self, Metrics, Plan, Workload};

pub mod fastwebsockets;
pub mod raw;
pub mod sockudo;
pub mod tokio_websockets;
pub mod tungstenite;
#[cfg(feature = "wsnova")]
pub mod wsnova;
#[cfg(feature = "wsnova")]
pub mod wsnova_mio;

/// Which echo server a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// The WebSocket frame echo.
    WebSocket,
    /// The raw TCP byte echo.
    RawTcp,
}

/// Where the two echo servers listen.
#[derive(Debug, Clone, Copy)]
pub struct Servers {
    /// The WebSocket frame echo.
    pub websocket: SocketAddr,
    /// The raw TCP byte echo.
    pub raw: SocketAddr,
}

impl Servers {
    /// The address of `server`.
    pub fn addr(&self, server: Server) -> SocketAddr {
        match server {
            Server::WebSocket => self.websocket,
            Server::RawTcp => self.raw,
        }
    }
}

/// A client that sends binary messages to an echo server and reads the
/// echoes back. One connection per value.
///
/// The measurements use only this trait; the throughput loop is
/// [`EchoClient::pipelined`], whose default keeps between `window / 2` and
/// `window` messages in flight using `feed`/`flush`/`recv`. Override it if a
/// client has a faster native way to pipeline (it must still wait for all
/// `n` echoes).
#[allow(async_fn_in_trait)] // single-threaded runtime: no Send bound wanted
pub trait EchoClient: Sized {
    /// The column's name, and the `--only` value.
    const NAME: &'static str;
    /// The echo server it talks to.
    const SERVER: Server;
    /// A message prepared once per measurement from the payload (so sending
    /// it again costs what the client's own API costs, no extra copy).
    type Msg;

    /// Prepares the message carrying `payload`.
    fn message(payload: &[u8]) -> Self::Msg;

    /// Opens a connection (TCP connect, plus the upgrade for WebSocket
    /// clients) with `TCP_NODELAY` set.
    async fn connect(addr: SocketAddr) -> io::Result<Self>;

    /// Queues one message without necessarily writing it to the socket.
    async fn feed(&mut self, msg: &Self::Msg) -> io::Result<()>;

    /// Writes everything queued to the socket.
    async fn flush(&mut self) -> io::Result<()>;

    /// Waits for the echo of one message like `msg` (checks its length).
    async fn recv(&mut self, msg: &Self::Msg) -> io::Result<()>;

    /// Sends `msg` and waits for its echo.
    async fn round_trip(&mut self, msg: &Self::Msg) -> io::Result<()> {
        self.feed(msg).await?;
        self.flush().await?;
        self.recv(msg).await
    }

    /// Sends `msg` `n` times, pipelined, keeping at most `window` echoes
    /// outstanding, and waits for all `n` echoes.
    async fn pipelined(&mut self, msg: &Self::Msg, n: usize, window: usize) -> io::Result<()> {
        let window = window.max(1);
        let (mut sent, mut received) = (0, 0);
        while received < n {
            while sent < n && sent - received < window {
                self.feed(msg).await?;
                sent += 1;
            }
            self.flush().await?;
            // Drain to half a window, then top up again: the pipe never empties.
            let target = if sent == n { n } else { sent - window / 2 };
            while received < target {
                self.recv(msg).await?;
                received += 1;
            }
        }
        Ok(())
    }

    /// Closes the connection (politely where the protocol has a way).
    async fn close(self) -> io::Result<()>;
}

/// The clients measured by default, in column order.
pub fn names() -> Vec<&'static str> {
    #[allow(unused_mut)] // without the wsnova feature
    let mut names = vec![
        sockudo::SockudoWs::NAME,
        tokio_websockets::TokioWebsockets::NAME,
        fastwebsockets::FastWebsockets::NAME,
        tungstenite::TokioTungstenite::NAME,
        raw::RawTcp::NAME,
    ];
    #[cfg(feature = "wsnova")]
    names.splice(0..0, [wsnova::Wsnova::NAME, wsnova_mio::WsnovaMio::NAME]);
    names
}

/// Clients measured only when asked for with `--only` (after the defaults).
pub fn extra_names() -> Vec<&'static str> {
    vec![raw::RawWs::NAME]
}

/// What a child process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Every measurement of the plan.
    Measure,
    /// Only `n` messages of one workload (the callgrind mode).
    Workload(Workload, usize),
}

async fn job<C: EchoClient>(servers: Servers, plan: &Plan, what: Job) -> io::Result<Metrics> {
    match what {
        Job::Measure => measure::run::<C>(servers, plan).await,
        Job::Workload(w, n) => measure::workload::<C>(servers, plan, w, n).await,
    }
}

/// Runs `what` with the client called `name`.
pub async fn run(name: &str, servers: Servers, plan: &Plan, what: Job) -> io::Result<Metrics> {
    match name {
        #[cfg(feature = "wsnova")]
        wsnova::Wsnova::NAME => job::<wsnova::Wsnova>(servers, plan, what).await,
        #[cfg(feature = "wsnova")]
        wsnova_mio::WsnovaMio::NAME => job::<wsnova_mio::WsnovaMio>(servers, plan, what).await,
        sockudo::SockudoWs::NAME => job::<sockudo::SockudoWs>(servers, plan, what).await,
        tokio_websockets::TokioWebsockets::NAME => {
            job::<tokio_websockets::TokioWebsockets>(servers, plan, what).await
        }
        fastwebsockets::FastWebsockets::NAME => {
            job::<fastwebsockets::FastWebsockets>(servers, plan, what).await
        }
        tungstenite::TokioTungstenite::NAME => {
            job::<tungstenite::TokioTungstenite>(servers, plan, what).await
        }
        raw::RawTcp::NAME => job::<raw::RawTcp>(servers, plan, what).await,
        raw::RawWs::NAME => job::<raw::RawWs>(servers, plan, what).await,
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown client {other:?} (known: {})", names().join(", ")),
        )),
    }
}

/// Errors of other crates as `io::Error`.
pub(crate) fn io_error(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}
