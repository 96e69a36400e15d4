//! One dial's transport, shared by the drivers of a single session
//! ([`Connection`](crate::Connection)) and of a pool: resolving, racing
//! connects, the connected socket, edge-triggered reads and partial
//! writes. Whatever it sees goes to a [`Sink`] (a session, or one
//! connection of a pool); nothing else is decided here.

mod race;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use mio::{Registry, Token};
use wsnova_core::session::{Adapter, Input, Session};

use crate::resolver::{Resolver, Slot, lock};

/// Read this much per `read`. The buffer is per thread (so per loop), not
/// per connection: bytes go to the core before the next read.
const READ_BUF: usize = 64 * 1024;
/// Reads per call before returning to the loop (fairness between sockets,
/// and the deadlines: the loop fires due timers between two calls, so at
/// most `READS_PER_TURN * READ_BUF` bytes (1 MiB) delay a deadline).
pub(crate) const READS_PER_TURN: usize = 16;

thread_local! {
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF].into_boxed_slice());
}

/// Runs `f` with this thread's read buffer.
pub(crate) fn with_read_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    READ_BUFFER.with_borrow_mut(|buf| f(buf))
}

/// Where a link's bytes and socket news go: the sans-IO side.
pub(crate) trait Sink {
    /// What happened to the socket.
    fn input(&mut self, now: Instant, input: Input<'_>);
    /// Bytes waiting to be written.
    fn pending_transmit(&mut self) -> &[u8];
    /// The socket accepted `n` of them.
    fn advance_transmit(&mut self, n: usize);
}

/// A boxed session (a `BoxedSession` is unsized inside).
impl<A: Adapter + ?Sized> Sink for Box<Session<A>> {
    fn input(&mut self, now: Instant, input: Input<'_>) {
        self.handle_input(now, input);
    }

    fn pending_transmit(&mut self) -> &[u8] {
        Session::pending_transmit(self)
    }

    fn advance_transmit(&mut self, n: usize) {
        Session::advance_transmit(self, n);
    }
}

/// Where the link's transport is.
enum Transport {
    /// No socket.
    None,
    /// Waiting for the resolver's answer for this generation.
    Resolving(u64),
    /// Connects racing to the resolved addresses (Happy Eyeballs); boxed,
    /// as a connected link (the common case) need not carry its size.
    Racing(Box<race::Race>),
    /// The connected socket.
    Socket(Socket),
}

struct Socket {
    generation: u64,
    stream: mio::net::TcpStream,
    /// The last readiness said readable and no read has hit `WouldBlock` since.
    readable: bool,
    /// A readiness said the peer closed its side (or the socket failed):
    /// reads go on until they return end of file, short or not.
    read_closed: bool,
    /// EOF or an error was seen: no more reads or writes.
    closed: bool,
}

/// The sockets of one dial at a time, registered under one token.
pub(crate) struct Link {
    registry: Arc<Registry>,
    token: Token,
    /// Where the resolver leaves its answer: made at the first lookup (a
    /// connection dialling addresses never needs one).
    lookup: Option<Slot>,
    transport: Transport,
}

/// Tells the sink that a dial failed.
fn connect_failed(sink: &mut dyn Sink, now: Instant, generation: u64, error: String) {
    sink.input(
        now,
        Input::ConnectFailed {
            generation,
            error: &error,
        },
    );
}

/// What one read did.
pub(crate) enum ReadStep {
    /// Bytes went to the sink.
    Data,
    /// Nothing to read now (or no socket).
    Idle,
    /// The socket ended; the sink was told.
    Ended,
}

impl Link {
    pub(crate) fn new(registry: Arc<Registry>, token: Token) -> Link {
        Link {
            registry,
            token,
            lookup: None,
            transport: Transport::None,
        }
    }

    /// The token its sockets are registered under.
    pub(crate) fn token(&self) -> Token {
        self.token
    }

    /// `true` when it holds no socket and waits for no lookup.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.transport, Transport::None)
    }

    /// The session's `Output::Dial`: dial `addresses` if given, else the
    /// host when it is an IP address, else resolve it with `resolver`.
    pub(crate) fn start_dial(
        &mut self,
        generation: u64,
        (host, port): (String, u16),
        addresses: &[SocketAddr],
        resolver: Option<&Resolver>,
        now: Instant,
        sink: &mut dyn Sink,
    ) {
        self.release();
        if !addresses.is_empty() {
            self.dial(generation, addresses.to_vec(), now, sink);
        } else if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            self.dial(generation, vec![SocketAddr::new(ip, port)], now, sink);
        } else if let Some(resolver) = resolver {
            let slot = self.lookup.get_or_insert_with(Slot::default).clone();
            resolver.resolve(self.token, generation, &host, port, slot);
            self.transport = Transport::Resolving(generation);
        } else {
            let error = format!("cannot resolve {host:?} without a Resolver (or give an address)");
            connect_failed(sink, now, generation, error);
        }
    }

    /// Takes the resolver's answer, if one is waiting, and dials.
    pub(crate) fn handle_resolved(&mut self, now: Instant, sink: &mut dyn Sink) {
        let Some((generation, result)) = self.lookup.as_ref().and_then(|slot| lock(slot).take())
        else {
            return;
        };
        if !matches!(self.transport, Transport::Resolving(g) if g == generation) {
            return; // an answer for an attempt that is over
        }
        self.transport = Transport::None;
        match result {
            Ok(addrs) if !addrs.is_empty() => self.dial(generation, addrs, now, sink),
            Ok(_) => connect_failed(
                sink,
                now,
                generation,
                "the host name has no addresses".into(),
            ),
            Err(err) => connect_failed(sink, now, generation, format!("resolving failed: {err}")),
        }
    }

    /// The session's `Output::CloseTransport`: writes `flush` (best effort)
    /// and releases the socket of `generation`, if it is the current one.
    pub(crate) fn close_transport(&mut self, generation: u64, flush: &[u8]) {
        match &mut self.transport {
            Transport::Socket(s) if s.generation == generation => {
                if !s.closed {
                    // Best effort: the close frame that explains the end.
                    let _ = (&s.stream).write(flush);
                }
                self.release();
            }
            Transport::Resolving(g) if *g == generation => self.release(),
            Transport::Racing(race) if race.generation == generation => self.release(),
            _ => {}
        }
    }

    /// A readiness event for its token: the race advances, or the socket
    /// is marked readable. The caller then flushes and reads.
    pub(crate) fn on_ready(
        &mut self,
        event: &mio::event::Event,
        now: Instant,
        sink: &mut dyn Sink,
    ) -> bool {
        let read_closed = event.is_read_closed() || event.is_error();
        let readable = event.is_readable() || read_closed;
        match &mut self.transport {
            Transport::Racing(_) => self.advance_race(now, sink),
            Transport::Socket(s) => {
                s.read_closed |= read_closed;
                s.readable |= readable;
            }
            _ => return false, // a late event for a socket already released
        }
        true
    }

    /// When the race's next address gets its turn, if one waits.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match &self.transport {
            Transport::Racing(race) => race.poll_timeout(),
            _ => None,
        }
    }

    /// `true` when it holds a connected socket.
    pub(crate) fn is_connected(&self) -> bool {
        matches!(self.transport, Transport::Socket(_))
    }

    /// `true` when the socket may hold unread bytes.
    pub(crate) fn is_readable(&self) -> bool {
        matches!(&self.transport, Transport::Socket(s) if s.readable && !s.closed)
    }

    /// One read into `buf`, fed to the sink.
    pub(crate) fn read_once(
        &mut self,
        buf: &mut [u8],
        now: Instant,
        sink: &mut dyn Sink,
    ) -> ReadStep {
        loop {
            let Transport::Socket(s) = &mut self.transport else {
                return ReadStep::Idle;
            };
            if !s.readable || s.closed {
                return ReadStep::Idle;
            }
            let generation = s.generation;
            match (&s.stream).read(buf) {
                Ok(n) if n > 0 => {
                    // A short read drained the kernel's queue: data that
                    // comes later raises a new (edge-triggered) event, so
                    // the read that would only say `WouldBlock` is saved.
                    // Not once the peer closed: its FIN raised no
                    // edge of its own, and only a read sees the end.
                    if n < buf.len() && !s.read_closed && cfg!(target_os = "linux") {
                        s.readable = false;
                    }
                    let data = &buf[..n];
                    sink.input(now, Input::Bytes { generation, data });
                    return ReadStep::Data;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    s.readable = false;
                    return ReadStep::Idle;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => {
                    // EOF, or a failed socket: the core hears the OS
                    // error (a reset is not a clean end).
                    s.readable = false;
                    s.closed = true;
                    let error = result.err().map(|e| e.to_string());
                    socket_ended(sink, now, generation, error.as_deref());
                    return ReadStep::Ended;
                }
            }
        }
    }

    /// Writes what the sink has queued (many messages per syscall) until
    /// it is all written or the socket would block; a `WRITABLE` event
    /// resumes it. `true` when the socket failed and the sink was told.
    pub(crate) fn flush(&mut self, now: Instant, sink: &mut dyn Sink) -> bool {
        let Transport::Socket(s) = &mut self.transport else {
            return false;
        };
        if s.closed {
            return false;
        }
        loop {
            let pending = sink.pending_transmit();
            if pending.is_empty() {
                return false;
            }
            let all = pending.len();
            match (&s.stream).write(pending) {
                Ok(0) => return false,
                Ok(n) => {
                    sink.advance_transmit(n);
                    if n == all {
                        // Everything went: asking again would only find nothing.
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    s.closed = true;
                    s.readable = false;
                    let generation = s.generation;
                    socket_ended(sink, now, generation, Some(&e.to_string()));
                    return true;
                }
            }
        }
    }

    /// Deregisters and closes the socket, if any.
    pub(crate) fn release(&mut self) {
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

impl Drop for Link {
    fn drop(&mut self) {
        self.release();
    }
}

/// Tells the sink the socket ended: EOF (`error` is `None`) or an OS error.
fn socket_ended(sink: &mut dyn Sink, now: Instant, generation: u64, error: Option<&str>) {
    let input = match error {
        None => Input::Closed { generation },
        Some(error) => Input::Failed { generation, error },
    };
    sink.input(now, input);
}
