//! Dialing with Happy Eyeballs (RFC 8305): non-blocking connects to the
//! addresses in the order and at the times the core's [`HappyEyeballs`]
//! says, all registered under the link's token. The first to connect
//! becomes the socket; the others are deregistered and closed.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::Interest;
use mio::net::TcpStream;
use wsnova_core::driver::HappyEyeballs;
use wsnova_core::session::Input;

use super::{Link, Sink, Socket, Transport};

/// The connects of one dial in flight.
pub(super) struct Race {
    pub(super) generation: u64,
    eyeballs: HappyEyeballs,
    pub(super) attempts: Vec<TcpStream>,
    last_error: Option<io::Error>,
}

/// Where one non-blocking connect is (mio's steps 4 and 5: `take_error`,
/// then `peer_addr`).
enum Progress {
    Pending,
    Connected,
    Failed(io::Error),
}

fn progress(stream: &TcpStream) -> Progress {
    match stream.take_error() {
        Ok(Some(err)) | Err(err) => Progress::Failed(err),
        Ok(None) => match stream.peer_addr() {
            Ok(_) => Progress::Connected,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotConnected | io::ErrorKind::WouldBlock
                ) =>
            {
                Progress::Pending
            }
            Err(err) => Progress::Failed(err),
        },
    }
}

impl Race {
    /// When the next address gets its turn, if one waits.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.eyeballs.poll_timeout()
    }
}

impl Link {
    /// Starts racing connects to `addrs` for `generation`.
    pub(super) fn dial(
        &mut self,
        generation: u64,
        addrs: Vec<SocketAddr>,
        now: Instant,
        sink: &mut dyn Sink,
    ) {
        self.release();
        self.transport = Transport::Racing(Box::new(Race {
            generation,
            eyeballs: HappyEyeballs::new(addrs, now),
            attempts: Vec::new(),
            last_error: None,
        }));
        self.advance_race(now, sink);
    }

    /// Checks the connects in flight, starts those whose turn came, and
    /// settles the race: the first connected one wins; when all failed the
    /// session is told.
    pub(crate) fn advance_race(&mut self, now: Instant, sink: &mut dyn Sink) {
        let Transport::Racing(race) = &mut self.transport else {
            return;
        };
        let mut winner = None;
        let mut i = 0;
        while i < race.attempts.len() {
            match progress(&race.attempts[i]) {
                Progress::Pending => i += 1,
                Progress::Connected => {
                    winner = Some(race.attempts.swap_remove(i));
                    break;
                }
                Progress::Failed(err) => {
                    let mut lost = race.attempts.swap_remove(i);
                    let _ = self.registry.deregister(&mut lost);
                    race.last_error = Some(err);
                    race.eyeballs.on_failed(now);
                }
            }
        }
        if let Some(stream) = winner {
            return self.win(stream, now, sink);
        }
        while let Some(addr) = race.eyeballs.poll_start(now) {
            let registered = TcpStream::connect(addr).and_then(|mut stream| {
                let interest = Interest::READABLE | Interest::WRITABLE;
                self.registry.register(&mut stream, self.token, interest)?;
                Ok(stream)
            });
            match registered {
                Ok(stream) => race.attempts.push(stream),
                Err(err) => {
                    race.last_error = Some(err);
                    race.eyeballs.on_failed(now);
                }
            }
        }
        if race.eyeballs.is_exhausted() {
            let generation = race.generation;
            let error = race
                .last_error
                .take()
                .map_or_else(|| "no address to dial".into(), |e| e.to_string());
            self.transport = Transport::None;
            super::connect_failed(sink, now, generation, error);
        }
    }

    /// `stream` connected first: the other attempts are closed, the socket
    /// is the link's.
    fn win(&mut self, stream: TcpStream, now: Instant, sink: &mut dyn Sink) {
        let Transport::Racing(race) = std::mem::replace(&mut self.transport, Transport::None)
        else {
            return;
        };
        for mut loser in race.attempts {
            let _ = self.registry.deregister(&mut loser);
        }
        let _ = stream.set_nodelay(true);
        let generation = race.generation;
        self.transport = Transport::Socket(Socket {
            generation,
            stream,
            readable: true, // bytes may already wait: the read finds out
            read_closed: false,
            closed: false,
        });
        sink.input(now, Input::Connected { generation });
    }
}
