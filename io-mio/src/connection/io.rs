//! Moving bytes: dialing, the non-blocking connect, edge-triggered reads,
//! partial writes, and the session's outputs. Nothing else is decided here.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};

use mio::Interest;
use mio::net::TcpStream;
use wsnova_core::session::{Input, Output, SessionState};

use super::{Connection, Socket, Transport};
use crate::event_loop::HIGH_WATER;

/// Read this much per `read`. The buffer is per thread (so per loop), not
/// per connection: bytes go to the core before the next read.
const READ_BUF: usize = 64 * 1024;
/// Reads per call before returning to the loop (fairness between sockets,
/// and the deadlines: the loop fires due timers between two calls, so at
/// most `READS_PER_TURN * READ_BUF` bytes (1 MiB) delay a deadline).
const READS_PER_TURN: usize = 16;

thread_local! {
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF].into_boxed_slice());
}

impl Connection {
    /// A readiness event for this connection's socket.
    pub(super) fn on_ready(&mut self, readable: bool, read_closed: bool) {
        let Transport::Socket(s) = &mut self.transport else {
            return; // a late event for a socket already released
        };
        s.read_closed |= read_closed;
        if s.connecting {
            self.finish_connect();
        } else if readable {
            s.readable = true;
        }
        self.pump(); // writability: write what waits
        self.read();
    }

    /// Steps 4 and 5 of mio's non-blocking connect: `take_error`, then `peer_addr`.
    fn finish_connect(&mut self) {
        let Transport::Socket(s) = &mut self.transport else {
            return;
        };
        let error = match s.stream.take_error() {
            Ok(Some(err)) | Err(err) => err,
            Ok(None) => match s.stream.peer_addr() {
                Ok(_) => {
                    let _ = s.stream.set_nodelay(true);
                    s.connecting = false;
                    s.readable = true; // bytes may already wait: the read finds out
                    let generation = s.generation;
                    self.session
                        .handle_input(self.now, Input::Connected { generation });
                    return;
                }
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::NotConnected | io::ErrorKind::WouldBlock
                    ) =>
                {
                    return; // not yet: wait for the next event
                }
                Err(err) => err,
            },
        };
        let generation = s.generation;
        let rest = std::mem::take(&mut s.rest);
        self.release();
        if rest.is_empty() {
            self.connect_failed(generation, error.to_string());
        } else {
            self.dial_next(generation, rest);
        }
    }

    /// Reads until `WouldBlock`, EOF, a full event queue or the per-call
    /// bound, feeding the core as it goes.
    pub(super) fn read(&mut self) {
        READ_BUFFER.with_borrow_mut(|buf| {
            for _ in 0..READS_PER_TURN {
                if !self.wants_read() {
                    return;
                }
                let Transport::Socket(s) = &mut self.transport else {
                    return;
                };
                let generation = s.generation;
                let n = match (&s.stream).read(buf) {
                    Ok(n) if n > 0 => {
                        // A short read drained the kernel's queue: data that
                        // comes later raises a new (edge-triggered) event, so
                        // the read that would only say `WouldBlock` is saved.
                        // Not once the peer closed: its FIN raised no
                        // edge of its own, and only a read sees the end.
                        if n < buf.len() && !s.read_closed && cfg!(target_os = "linux") {
                            s.readable = false;
                        }
                        n
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        s.readable = false;
                        return;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    result => {
                        // EOF, or a failed socket: the core hears the OS
                        // error (a reset is not a clean end).
                        s.readable = false;
                        s.closed = true;
                        let error = result.err().map(|e| e.to_string());
                        self.socket_ended(generation, error.as_deref());
                        self.pump();
                        return;
                    }
                };
                let data = &buf[..n];
                self.session
                    .handle_input(self.now, Input::Bytes { generation, data });
                self.pump();
                self.now = crate::now();
                if self.session.poll_timeout().is_some_and(|at| at <= self.now) {
                    // A deadline fell due while reading: back to the loop,
                    // which fires it (`poll_timeout` says to come back).
                    return;
                }
            }
        })
    }

    /// `true` when the socket may hold unread bytes and reading is allowed:
    /// not while the application is behind, nor while more than
    /// [`HIGH_WATER`] bytes wait for the socket, whatever queued them (a
    /// peer that does not read cannot grow the outgoing buffer by making
    /// the client answer it).
    pub(super) fn wants_read(&self) -> bool {
        !self.paused
            && self.events.len() < self.event_capacity
            && self.session.pending_transmit_len() <= HIGH_WATER
            && matches!(&self.transport, Transport::Socket(s)
                if s.readable && !s.connecting && !s.closed)
    }

    /// Drains the session's outputs and writes what it queued, until quiet.
    pub(super) fn pump(&mut self) {
        loop {
            while let Some(output) = self.session.poll_output() {
                self.apply(output);
            }
            if !self.flush() {
                break;
            }
        }
        self.sync_reading_paused();
        if self.session.state() == SessionState::Closed {
            self.release(); // nothing can use a socket any more
        }
    }

    fn apply(&mut self, output: Output) {
        match output {
            Output::Dial {
                generation,
                host,
                port,
            } => {
                self.release();
                let (host, port) = self.dial_to.clone().unwrap_or((host, port));
                if let Some(addr) = self.address {
                    self.dial(generation, vec![addr]);
                } else if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
                    self.dial(generation, vec![SocketAddr::new(ip, port)]);
                } else if let Some(resolver) = &self.resolver {
                    let slot = self.lookup.clone();
                    resolver.resolve(self.token, generation, &host, port, slot);
                    self.transport = Transport::Resolving(generation);
                } else {
                    let error =
                        format!("cannot resolve {host:?} without a Resolver (or give an address)");
                    self.connect_failed(generation, error);
                }
            }
            Output::CloseTransport { generation, flush } => {
                if let Transport::Socket(s) = &mut self.transport
                    && s.generation == generation
                {
                    if !s.connecting && !s.closed {
                        // Best effort: the close frame that explains the end.
                        let _ = (&s.stream).write(&flush);
                    }
                    self.release();
                } else if matches!(self.transport, Transport::Resolving(g) if g == generation) {
                    self.transport = Transport::None;
                }
            }
            Output::Transmit { .. } => {} // every pump ends with a flush
            Output::Event(event) => self.events.push_back(event),
        }
    }

    /// Starts a non-blocking connect to the first of `addrs`; the others
    /// are tried in order if it fails.
    pub(super) fn dial(&mut self, generation: u64, mut addrs: Vec<SocketAddr>) {
        addrs.reverse();
        self.dial_next(generation, addrs);
    }

    /// [`dial`](Self::dial) with the addresses in reverse order (next last).
    fn dial_next(&mut self, generation: u64, mut addrs: Vec<SocketAddr>) {
        let mut last_error = None;
        while let Some(addr) = addrs.pop() {
            let registered = TcpStream::connect(addr).and_then(|mut stream| {
                let interest = Interest::READABLE | Interest::WRITABLE;
                self.registry.register(&mut stream, self.token, interest)?;
                Ok(stream)
            });
            match registered {
                Ok(stream) => {
                    self.transport = Transport::Socket(Socket {
                        generation,
                        stream,
                        connecting: true,
                        rest: addrs,
                        readable: false,
                        read_closed: false,
                        closed: false,
                    });
                    return;
                }
                Err(err) => last_error = Some(err),
            }
        }
        let error = last_error.map_or_else(|| "no address to dial".into(), |e| e.to_string());
        self.connect_failed(generation, error);
    }

    pub(super) fn connect_failed(&mut self, generation: u64, error: String) {
        self.session.handle_input(
            self.now,
            Input::ConnectFailed {
                generation,
                error: &error,
            },
        );
    }

    /// Writes what the core has queued (many messages per syscall) until
    /// it is all written or the socket would block; a `WRITABLE` event
    /// resumes it. `true` when the socket failed and the core was told.
    fn flush(&mut self) -> bool {
        let Transport::Socket(s) = &mut self.transport else {
            return false;
        };
        if s.connecting || s.closed {
            return false;
        }
        loop {
            let pending = self.session.pending_transmit();
            if pending.is_empty() {
                return false;
            }
            match (&s.stream).write(pending) {
                Ok(0) => return false,
                Ok(n) => self.session.advance_transmit(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    s.closed = true;
                    s.readable = false;
                    let generation = s.generation;
                    self.socket_ended(generation, Some(&e.to_string()));
                    return true;
                }
            }
        }
    }

    /// Tells the core the socket ended: EOF (`error` is `None`) or an OS error.
    fn socket_ended(&mut self, generation: u64, error: Option<&str>) {
        let input = match error {
            None => Input::Closed { generation },
            Some(error) => Input::Failed { generation, error },
        };
        self.session.handle_input(self.now, input);
    }

    /// Deregisters and closes the socket, if any.
    pub(super) fn release(&mut self) {
        if let Transport::Socket(mut s) = std::mem::replace(&mut self.transport, Transport::None) {
            let _ = self.registry.deregister(&mut s.stream);
        }
    }
}
