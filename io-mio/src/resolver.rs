//! Host-name lookups off the loop thread.
//!
//! `getaddrinfo` blocks, so a loop never calls it: a [`Resolver`] runs the
//! lookups on a thread of its own, one after the other, and wakes the loop's
//! [`mio::Waker`] when an answer is ready. Connections whose URL names an IP
//! address, or that were given an address
//! ([`Connection::with_address`](crate::Connection::with_address)), never need one.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mio::{Token, Waker};

/// The answer to a lookup: the dial generation it was for, and the addresses.
pub(crate) type Lookup = (u64, io::Result<Vec<SocketAddr>>);

/// Where a connection's answer lands (the newest answer wins).
pub(crate) type Slot = Arc<Mutex<Option<Lookup>>>;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Job {
    token: Token,
    generation: u64,
    host: String,
    port: u16,
    slot: Slot,
}

struct Shared {
    waker: Arc<Waker>,
    /// Tokens of connections with an answer waiting.
    finished: Mutex<Vec<Token>>,
}

impl Shared {
    fn deliver(&self, job: Job, result: io::Result<Vec<SocketAddr>>) {
        *lock(&job.slot) = Some((job.generation, result));
        lock(&self.finished).push(job.token);
        let _ = self.waker.wake();
    }
}

/// Resolves host names on its own thread and wakes a [`mio::Waker`] when an
/// answer is ready. Cheap to clone; the thread starts with the first lookup
/// and ends when the last clone is dropped.
///
/// When the waker's token fires, call [`finished`](Self::finished) and
/// [`Connection::handle_resolved`](crate::Connection::handle_resolved) for each token
/// it returns:
///
/// ```no_run
/// # use std::sync::Arc;
/// # use mio::{Poll, Token, Waker};
/// # fn demo(poll: &Poll, connections: &mut [wsnova_mio::Connection]) -> std::io::Result<()> {
/// const WAKER: Token = Token(0);
/// let resolver = wsnova_mio::Resolver::new(Arc::new(Waker::new(poll.registry(), WAKER)?));
/// // … in the loop, on an event with token WAKER:
/// for token in resolver.finished() {
///     if let Some(conn) = connections.iter_mut().find(|c| c.token() == token) {
///         conn.handle_resolved();
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Resolver {
    shared: Arc<Shared>,
    jobs: Arc<Mutex<Option<Sender<Job>>>>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").finish_non_exhaustive()
    }
}

impl Resolver {
    /// A resolver that wakes `waker` after every lookup.
    pub fn new(waker: Arc<Waker>) -> Resolver {
        Resolver {
            shared: Arc::new(Shared {
                waker,
                finished: Mutex::new(Vec::new()),
            }),
            jobs: Arc::new(Mutex::new(None)),
        }
    }

    /// Tokens of the connections whose lookup finished since the last call;
    /// call [`Connection::handle_resolved`](crate::Connection::handle_resolved) on each.
    pub fn finished(&self) -> Vec<Token> {
        std::mem::take(&mut *lock(&self.shared.finished))
    }

    /// Looks `host:port` up; the answer goes to `slot`, then `token` is
    /// listed in [`finished`](Self::finished) and the waker wakes.
    pub(crate) fn resolve(&self, token: Token, generation: u64, host: &str, port: u16, slot: Slot) {
        let job = Job {
            token,
            generation,
            host: host.to_owned(),
            port,
            slot,
        };
        let mut jobs = lock(&self.jobs);
        if jobs.is_none() {
            match self.spawn() {
                Ok(sender) => *jobs = Some(sender),
                Err(err) => return self.shared.deliver(job, Err(err)),
            }
        }
        if let Err(mpsc::SendError(job)) = jobs.as_ref().expect("just set").send(job) {
            *jobs = None;
            let err = io::Error::other("the resolver thread ended");
            self.shared.deliver(job, Err(err));
        }
    }

    fn spawn(&self) -> io::Result<Sender<Job>> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("wsnova-resolver".into())
            .spawn(move || {
                for job in receiver {
                    let result = (job.host.as_str(), job.port)
                        .to_socket_addrs()
                        .map(Iterator::collect);
                    shared.deliver(job, result);
                }
            })?;
        Ok(sender)
    }
}
