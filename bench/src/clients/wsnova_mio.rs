//! The wsnova-mio column: the embedding API, a [`Connection`] driven by a
//! `mio::Poll` this process runs itself (one loop for all of its
//! connections, on the calling thread). The measurement calls block in that
//! loop; nothing else runs in the child process meanwhile.
//!
//! Messages are ASCII text, framed with [`send`] (`Connection::feed_text`,
//! no write) and written together by [`flush`] (`Connection::flush`), the
//! embedding API's batching mode.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wsnova_core::session::{Event, HeartbeatConfig, Plain, SessionError};
use wsnova_core::wire::{CloseCode, Message};
use wsnova_mio::mio::{Events, Poll, Registry, Token};
use wsnova_mio::{Builder, Connection};

use super::{EchoClient, Server};

/// Longest a single call may wait for the loop before the run is called stuck.
const STUCK: Duration = Duration::from_secs(60);
/// Longest one `poll` sleeps when the connection has no deadline.
const MAX_SLEEP: Duration = Duration::from_millis(500);

/// Frames one message into the connection's buffer, without writing.
fn send(conn: &mut Connection, text: &str) -> Result<(), SessionError> {
    conn.feed_text(text)
}

/// Writes what [`send`] framed, in as few writes as the socket takes.
fn flush(conn: &mut Connection) -> Result<(), SessionError> {
    conn.flush();
    Ok(())
}

/// The process's one mio loop.
struct Loop {
    poll: Poll,
    registry: Arc<Registry>,
    events: Events,
    next_token: usize,
}

thread_local! {
    static LOOP: RefCell<Option<Loop>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's loop, creating it on first use.
fn with_loop<T>(f: impl FnOnce(&mut Loop) -> io::Result<T>) -> io::Result<T> {
    LOOP.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let poll = Poll::new()?;
            let registry = Arc::new(poll.registry().try_clone()?);
            *slot = Some(Loop {
                poll,
                registry,
                events: Events::with_capacity(64),
                next_token: 0,
            });
        }
        f(slot.as_mut().expect("just created"))
    })
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// A wsnova-mio embedded connection (Plain adapter, no heartbeats).
pub struct WsnovaMio {
    conn: Connection,
}

impl WsnovaMio {
    /// Runs the loop for this connection until `on_event` returns `true`.
    fn drive(&mut self, mut on_event: impl FnMut(Event) -> io::Result<bool>) -> io::Result<()> {
        let deadline = Instant::now() + STUCK;
        with_loop(|l| {
            loop {
                while let Some(event) = self.conn.poll_event() {
                    if on_event(event)? {
                        return Ok(());
                    }
                }
                let now = Instant::now();
                if now > deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no progress after {STUCK:?}"),
                    ));
                }
                match self.conn.poll_timeout() {
                    Some(at) if at <= now => {
                        self.conn.handle_timeout(now);
                        continue;
                    }
                    at => {
                        let sleep = at.map_or(MAX_SLEEP, |at| (at - now).min(MAX_SLEEP));
                        l.poll.poll(&mut l.events, Some(sleep))?;
                    }
                }
                for event in l.events.iter() {
                    self.conn.handle_event(event);
                }
            }
        })
    }
}

impl EchoClient for WsnovaMio {
    const NAME: &'static str = "wsnova-mio";
    const SERVER: Server = Server::WebSocket;
    type Msg = String;

    fn message(payload: &[u8]) -> String {
        payload.iter().map(|b| char::from(b'a' + b % 26)).collect()
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let builder = Builder::new(&format!("ws://{addr}/"))
            .map_err(io_error)?
            .heartbeat(HeartbeatConfig {
                ping_interval: None,
                ..HeartbeatConfig::default()
            });
        let conn = with_loop(|l| {
            l.next_token += 1;
            Ok(
                Connection::new(builder, Plain, l.registry.clone(), Token(l.next_token))
                    .with_address(addr),
            )
        })?;
        let mut client = Self { conn };
        client.conn.connect().map_err(io_error)?;
        client.drive(|event| match event {
            Event::Ready => Ok(true),
            Event::Disconnected { reason, .. } => Err(io_error(format!("{reason:?}"))),
            _ => Ok(false),
        })?;
        Ok(client)
    }

    async fn feed(&mut self, msg: &String) -> io::Result<()> {
        send(&mut self.conn, msg).map_err(io_error)
    }

    async fn flush(&mut self) -> io::Result<()> {
        flush(&mut self.conn).map_err(io_error)
    }

    async fn recv(&mut self, msg: &String) -> io::Result<()> {
        let len = msg.len();
        self.drive(|event| match event {
            Event::Message(Message::Text(echo)) if echo.len() == len => Ok(true),
            Event::Message(other) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unexpected echo of {} bytes", other.len()),
            )),
            Event::Disconnected { reason, .. } => Err(io_error(format!("{reason:?}"))),
            _ => Ok(false),
        })
    }

    async fn close(mut self) -> io::Result<()> {
        self.conn.close(CloseCode::NORMAL, "").map_err(io_error)?;
        self.drive(|event| {
            Ok(matches!(
                event,
                Event::Disconnected { .. } | Event::Closed { .. }
            ))
        })
    }
}
