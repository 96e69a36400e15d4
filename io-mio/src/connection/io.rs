//! Moving bytes: dialing, the non-blocking connect, edge-triggered reads,
//! partial writes, and the session's outputs. Nothing else is decided here.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};

use wsnova_core::session::{Input, Output, SessionState};

use super::race::Race;
use super::{Connection, Transport};
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
    /// A readiness event for this connection's socket (or its racing connects).
    pub(super) fn on_ready(&mut self, readable: bool, read_closed: bool) {
        match &mut self.transport {
            Transport::Racing(_) => self.advance_race(),
            Transport::Socket(s) => {
                s.read_closed |= read_closed;
                s.readable |= readable;
            }
            _ => return, // a late event for a socket already released
        }
        self.pump(); // writability: write what waits
        self.read();
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
                if s.readable && !s.closed)
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
                if !self.addresses.is_empty() {
                    self.dial(generation, self.addresses.clone());
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
                    if !s.closed {
                        // Best effort: the close frame that explains the end.
                        let _ = (&s.stream).write(&flush);
                    }
                    self.release();
                } else if matches!(self.transport, Transport::Resolving(g) | Transport::Racing(Race { generation: g, .. }) if g == generation)
                {
                    self.release();
                }
            }
            Output::Transmit { .. } => {} // every pump ends with a flush
            Output::Event(event) => self.events.push_back(event),
        }
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
        if s.closed {
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
        match std::mem::replace(&mut self.transport, Transport::None) {
            Transport::Socket(mut s) => {
                let _ = self.registry.deregister(&mut s.stream);
            }
            Transport::Racing(race) => {
                for mut attempt in race.attempts {
                    let _ = self.registry.deregister(&mut attempt);
                }
            }
            Transport::None | Transport::Resolving(_) => {}
        }
    }
}
