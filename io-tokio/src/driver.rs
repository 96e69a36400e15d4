//! The task that owns the socket: bytes and time in, bytes out. Everything
//! else is decided by the core.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::time::Sleep;
use wsnova_core::session::Input;

use crate::shared::{Action, Shared};

/// Read this much per `try_read`. The buffer is per thread, not per
/// connection: nothing awaits between a read and handing its bytes to the core.
const READ_BUF: usize = 64 * 1024;
/// Reads per wake-up before yielding to other tasks and to the timer: at
/// most `READS_PER_TURN * READ_BUF` bytes (1 MiB) are handled between two
/// looks at the deadline, so deadlines fire on time under any flood.
const READS_PER_TURN: usize = 16;
/// Senders wait, and the task stops reading, while more than this is
/// queued for the socket — whatever queued it (the application's sends,
/// pongs, replies to the server): a peer that does not read cannot make the
/// outgoing buffer grow without bound by making the client answer it.
pub(crate) const HIGH_WATER: usize = 4 << 20;

thread_local! {
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF].into_boxed_slice());
}

/// The one place this driver reads the clock.
pub(crate) fn now() -> Instant {
    Instant::now()
}

type Dialing = Pin<Box<dyn Future<Output = (u64, io::Result<TcpStream>)> + Send>>;

struct Socket {
    generation: u64,
    stream: Arc<TcpStream>,
    eof: bool,
}

/// Runs one connection until the session closes.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut socket: Option<Socket> = None;
    let mut dialing: Option<Dialing> = None;
    let mut sleep: Pin<Box<Sleep>> = Box::pin(tokio::time::sleep(std::time::Duration::ZERO));
    let mut armed: Option<Instant> = None;
    let mut was_paused = false;
    loop {
        let (actions, deadline, paused, closed, backlogged, wrote) = {
            let mut inner = shared.lock();
            let mut deadline = inner.session.poll_timeout();
            // `deadline` no longer holds once the session acted on the time.
            let mut stale = false;
            // One clock read per turn, and only when something is armed.
            let mut clock = deadline.map(|_| now());
            if let (Some(at), Some(t)) = (deadline, clock) {
                if at <= t {
                    // Due while reading: the deadline goes before more bytes.
                    inner.session.handle_timeout(t);
                    stale = true;
                }
            }
            inner.drain();
            let paused = inner.is_backpressured();
            if paused != was_paused {
                // Not reading: the core suspends the deadlines only reading meets.
                was_paused = paused;
                let t = *clock.get_or_insert_with(now);
                inner.session.set_reading_paused(t, paused);
                stale = true;
            }
            if stale {
                deadline = inner.session.poll_timeout();
            }
            let actions = std::mem::take(&mut inner.actions);
            let backlogged = inner.session.pending_transmit_len() > HIGH_WATER;
            // The common turn (no socket to open or close): write under
            // this same lock instead of taking it again.
            let wrote = (socket.is_some() && actions.is_empty())
                .then(|| (inner.write_through(), inner.write_blocked));
            (
                actions,
                deadline,
                paused,
                inner.waiters.is_closed(),
                backlogged,
                wrote,
            )
        };
        for action in actions {
            match action {
                Action::Dial {
                    generation,
                    host,
                    port,
                    addresses,
                } => {
                    socket = None;
                    dialing = Some(Box::pin(async move {
                        (generation, crate::dial::dial(&host, port, addresses).await)
                    }));
                }
                Action::Close { generation, flush } => {
                    if let Some(s) = socket.take_if(|s| s.generation == generation) {
                        shared.lock().stream = None;
                        // Best effort: the close frame that explains the failure.
                        let _ = s.stream.try_write(&flush);
                    }
                }
            }
        }
        let write_blocked = match (socket.as_mut(), wrote) {
            (Some(s), Some((result, blocked))) => after_write(&shared, s, result, blocked),
            (Some(s), None) => write_pending(&shared, s),
            (None, _) => false,
        };
        if closed && socket.is_none() {
            return;
        }
        // The timer is reset only when the deadline moved earlier: one that
        // moved later (the idle deadline, at every message) lets the armed
        // timer fire early, finds nothing due and re-arms then. No timer
        // reset per message.
        if let Some(at) = deadline.filter(|&at| armed.is_none_or(|armed| at < armed)) {
            armed = Some(at);
            sleep.as_mut().reset(tokio::time::Instant::from_std(at));
        }
        let readable = socket
            .as_ref()
            // Not while the outgoing buffer is over its mark: the socket's
            // writability brings the task back, not more input.
            .filter(|s| !s.eof && !paused && !backlogged)
            .map(|s| &*s.stream);
        let writable = socket
            .as_ref()
            .filter(|_| write_blocked)
            .map(|s| &*s.stream);
        tokio::select! {
            // The timer first: a due deadline is never starved by a busy socket.
            biased;
            _ = sleep.as_mut(), if armed.is_some() => {
                armed = None;
                shared.lock().session.handle_timeout(now());
            }
            _ = shared.wake.notified() => {}
            (generation, result) = poll_dial(&mut dialing), if dialing.is_some() => {
                dialing = None;
                let mut inner = shared.lock();
                match result {
                    Ok(stream) => {
                        let _ = stream.set_nodelay(true);
                        let stream = Arc::new(stream);
                        inner.stream = Some(stream.clone());
                        inner.write_blocked = false;
                        socket = Some(Socket { generation, stream, eof: false });
                        inner.session.handle_input(now(), Input::Connected { generation });
                    }
                    Err(err) => {
                        let error = err.to_string();
                        inner.session.handle_input(now(), Input::ConnectFailed { generation, error: &error });
                    }
                }
            }
            ready = wait_readable(readable), if readable.is_some() => {
                let s = socket.as_mut().expect("checked");
                match ready {
                    // A full batch: let the runtime's other tasks and timers
                    // run before the next (a flood never monopolises a worker).
                    Ok(()) if read_available(&shared, s) => tokio::task::yield_now().await,
                    Ok(()) => {}
                    Err(err) => close_input(&shared, s, Some(err)),
                }
            }
            _ = wait_writable(writable), if writable.is_some() => {}
        }
    }
}

async fn poll_dial(dialing: &mut Option<Dialing>) -> (u64, io::Result<TcpStream>) {
    dialing.as_mut().expect("guarded by is_some").await
}

async fn wait_readable(stream: Option<&TcpStream>) -> io::Result<()> {
    stream.expect("guarded by is_some").readable().await
}

async fn wait_writable(stream: Option<&TcpStream>) -> io::Result<()> {
    stream.expect("guarded by is_some").writable().await
}

/// Reads until the socket would block (bounded), feeding the core as it
/// goes; `true` when the bound ended the batch with bytes likely left.
fn read_available(shared: &Shared, s: &mut Socket) -> bool {
    for _ in 0..READS_PER_TURN {
        let mut inner = shared.lock();
        // One clock read per read (many messages), not per message.
        let t = now();
        let generation = s.generation;
        // Plaintext goes straight into the wire's buffer, with no copy;
        // TLS, a proxy's reply and recording go through the shared buffer.
        let read = match inner
            .session
            .read_into(t, generation, |buf| read_into_spare(&s.stream, buf))
        {
            Some(read) => read,
            None => READ_BUFFER.with_borrow_mut(|buf| {
                let read = read_some(&s.stream, buf);
                if let Ok((n @ 1.., _)) = read {
                    let data = &buf[..n];
                    inner
                        .session
                        .handle_input(t, Input::Bytes { generation, data });
                }
                read
            }),
        };
        match read {
            Ok((0, _)) => {
                drop(inner);
                close_input(shared, s, None);
                return false;
            }
            Ok((_, drained)) => {
                inner.drain();
                let backlogged = inner.session.pending_transmit_len() > HIGH_WATER;
                if drained || inner.is_backpressured() || backlogged {
                    return false;
                }
                // A deadline fell due while reading: it goes first
                // (looked up only when another read would follow).
                if inner.session.poll_timeout().is_some_and(|at| at <= t) {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(err) => {
                drop(inner);
                close_input(shared, s, Some(err));
                return false;
            }
        }
    }
    true
}

/// One read; `drained` when it filled less than `buf`. A short read means
/// the kernel's receive queue was empty at that moment, so the socket's
/// readiness is cleared at once (as tokio's own `poll_read` does) instead
/// of being learnt from one more read that would block: new data raises a
/// new readiness event. That saves a syscall per wake-up.
fn read_some(stream: &TcpStream, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    let room = buf.len();
    read_clearing(stream, room, || stream.try_read(buf))
}

/// [`read_some`] into the spare capacity of `buf`, appending: tokio reads
/// into the uninitialised room itself, so nothing is zero-filled first.
fn read_into_spare(stream: &TcpStream, buf: &mut BytesMut) -> io::Result<(usize, bool)> {
    let room = buf.capacity() - buf.len();
    read_clearing(stream, room, || stream.try_read_buf(buf))
}

/// Runs `read` (one `try_read` offered `room` bytes) under the socket's
/// readiness, clearing it after a short read; see [`read_some`].
fn read_clearing(
    stream: &TcpStream,
    room: usize,
    mut read: impl FnMut() -> io::Result<usize>,
) -> io::Result<(usize, bool)> {
    let mut got = 0;
    let result = stream.try_io(tokio::io::Interest::READABLE, || {
        got = read()?;
        if got > 0 && got < room {
            return Err(io::ErrorKind::WouldBlock.into()); // clears the readiness
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok((got, false)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock && got > 0 => Ok((got, true)),
        Err(e) => Err(e),
    }
}

/// The socket reached EOF (`err` is `None`) or failed: the core hears
/// which, with the OS error's text (a reset is not a clean end).
fn close_input(shared: &Shared, s: &mut Socket, err: Option<io::Error>) {
    s.eof = true;
    let mut inner = shared.lock();
    inner.stream = None;
    let generation = s.generation;
    let text = err.map(|e| e.to_string());
    let input = match text.as_deref() {
        None => Input::Closed { generation },
        Some(error) => Input::Failed { generation, error },
    };
    inner.session.handle_input(now(), input);
}

/// Writes what the core has queued, many messages per syscall; `true` when
/// the socket would block with bytes left.
fn write_pending(shared: &Shared, s: &mut Socket) -> bool {
    let (result, blocked) = {
        let mut inner = shared.lock();
        let result = inner.write_through();
        (result, inner.write_blocked)
    };
    after_write(shared, s, result, blocked)
}

/// Acts on a write's outcome (outside the lock): wakes senders waiting for
/// room, reports a failed socket; returns `blocked`.
fn after_write(shared: &Shared, s: &mut Socket, result: io::Result<bool>, blocked: bool) -> bool {
    match result {
        Ok(true) => shared.drained.notify_waiters(),
        Ok(false) => {}
        Err(err) => close_input(shared, s, Some(err)),
    }
    blocked
}
