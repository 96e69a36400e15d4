//! State shared by the `Client` handles and the driver task: the session and
//! who waits for what. Locked briefly, never across an `.await`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, oneshot};
use wsnova_core::driver::{ConnectFailure, LagPolicy, Reply, ReplyChannel, Waiters};
use wsnova_core::session::{BoxedSession, Event, Output};

use crate::events::Subscriber;

/// What the task must do with sockets.
#[derive(Debug)]
pub(crate) enum Action {
    Dial {
        generation: u64,
        host: String,
        port: u16,
        /// Addresses to race instead of resolving `host` (may be empty).
        addresses: Vec<std::net::SocketAddr>,
    },
    Close {
        generation: u64,
        flush: Vec<u8>,
    },
}

/// tokio's `oneshot` as the core's reply channel for [`Waiters`].
pub(crate) struct Oneshot;

/// A `oneshot::Sender` that answers one waiting caller.
pub(crate) struct OneshotReply<T>(pub(crate) oneshot::Sender<T>);

impl<T: Send> Reply<T> for OneshotReply<T> {
    fn send(self, value: T) {
        let _ = self.0.send(value); // the caller may have gone: not an error
    }
}

impl ReplyChannel for Oneshot {
    type Sender<T: Send + 'static> = OneshotReply<T>;
}

/// How `connect` ends.
/// A call's one outcome, waiting at most `timeout` when given: `timed_out`
/// after it, `closed` when the driver dropped the sender.
pub(crate) async fn outcome<T, E>(
    rx: oneshot::Receiver<Result<T, E>>,
    timeout: Option<std::time::Duration>,
    timed_out: E,
    closed: E,
) -> Result<T, E> {
    match timeout {
        None => rx.await.unwrap_or(Err(closed)),
        Some(timeout) => match tokio::time::timeout(timeout, rx).await {
            Ok(outcome) => outcome.unwrap_or(Err(closed)),
            Err(_) => Err(timed_out),
        },
    }
}

pub(crate) type FirstOutcome = Result<(), ConnectFailure>;

pub(crate) struct Inner {
    pub(crate) session: BoxedSession,
    /// `request`, `ping`, `connect` and `close` callers.
    pub(crate) waiters: Waiters<Oneshot>,
    /// Events routed by the current `drain`, for the consumers (a reused buffer).
    pub(crate) routed: Vec<Event>,
    pub(crate) subscribers: Vec<Arc<Subscriber>>,
    /// `host:port` dialled instead of the URL's.
    pub(crate) dial_to: Option<(String, u16)>,
    /// Addresses to dial instead of resolving (`Builder::addresses`).
    pub(crate) addresses: Vec<std::net::SocketAddr>,
    pub(crate) capacity: usize,
    pub(crate) policy: LagPolicy,
    /// The connection's `wsnova_events_dropped_total` handle, for new consumers.
    pub(crate) dropped_total: metrics::Counter,
    pub(crate) actions: Vec<Action>,
    /// The live socket, shared so senders can write through it at once
    /// (`try_write` takes `&self`); every write happens under this lock.
    pub(crate) stream: Option<Arc<tokio::net::TcpStream>>,
    /// A write would block: the driver waits for writability and finishes it.
    pub(crate) write_blocked: bool,
    /// The connection's tracing span (name, URL).
    pub(crate) root_span: tracing::Span,
    /// The current dial's span (a child of `root_span`), entered under the lock.
    pub(crate) span: tracing::Span,
    /// The generation `span` is for.
    pub(crate) span_generation: u64,
}

impl Inner {
    /// Writes what the session has queued, from whichever task holds the
    /// lock. Returns `Err` when the socket failed (the driver reports it).
    pub(crate) fn write_through(&mut self) -> std::io::Result<bool> {
        let Some(stream) = self.stream.clone() else {
            return Ok(false);
        };
        let mut wrote = false;
        loop {
            let pending = self.session.pending_transmit();
            if pending.is_empty() {
                self.write_blocked = false;
                return Ok(wrote);
            }
            match stream.try_write(pending) {
                Ok(n) => {
                    self.session.advance_transmit(n);
                    wrote = true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.write_blocked = true;
                    return Ok(wrote);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Inner {
    /// Drains the session's outputs: socket actions for the task, events to
    /// their waiters and consumers.
    pub(crate) fn drain(&mut self) {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Dial {
                    generation,
                    host,
                    port,
                } => {
                    let (host, port) = self.dial_to.clone().unwrap_or((host, port));
                    if generation != self.span_generation {
                        self.span_generation = generation;
                        self.span = generation_span(&self.root_span, generation);
                    }
                    self.actions.push(Action::Dial {
                        generation,
                        host,
                        port,
                        addresses: self.addresses.clone(),
                    })
                }
                Output::CloseTransport { generation, flush } => {
                    self.actions.push(Action::Close { generation, flush })
                }
                Output::Transmit { .. } => {}
                Output::Event(event) => {
                    // Waiters first; what is left goes to the consumers in one batch.
                    if let Some(event) = self.waiters.route(event) {
                        self.routed.push(event);
                    }
                }
            }
        }
        self.broadcast();
    }

    /// Hands the routed events to every consumer, one lock each per batch.
    fn broadcast(&mut self) {
        if self.routed.is_empty() {
            return;
        }
        let closed = self
            .routed
            .iter()
            .any(|e| matches!(e, Event::Closed { .. }));
        // After a lifecycle event the connection may sit idle: the buffer
        // gives its memory back. Messages keep it (no allocation per batch).
        let settled = self.routed.last().is_some_and(Event::is_lifecycle);
        self.subscribers.retain(|s| !s.is_abandoned());
        if let Some((last, rest)) = self.subscribers.split_last() {
            for sub in rest {
                sub.push_all(self.routed.iter().cloned());
            }
            last.push_all(self.routed.drain(..));
        }
        if settled {
            self.routed = Vec::new();
        }
        self.routed.clear();
        if closed {
            for sub in &self.subscribers {
                sub.close();
            }
            // After the consumers have it: `close()` returns once all know.
            self.waiters.release_close_waiters();
        }
    }

    /// A consumer is full under the backpressure policy: stop reading.
    pub(crate) fn is_backpressured(&self) -> bool {
        self.policy == LagPolicy::Backpressure
            && self
                .subscribers
                .iter()
                .any(|s| !s.is_abandoned() && s.is_full())
    }
}

/// The lock plus the task's wake-up.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Wakes the driver task: a command arrived or a consumer made room.
    pub(crate) wake: Arc<Notify>,
    /// Wakes senders waiting for the transmit buffer to drain.
    pub(crate) drained: Notify,
}

impl Shared {
    pub(crate) fn new(inner: Inner, wake: Arc<Notify>) -> Arc<Self> {
        Arc::new(Shared {
            inner: Mutex::new(inner),
            wake,
            drained: Notify::new(),
        })
    }

    /// Locks the state and enters the connection's span: whatever the
    /// session logs meanwhile belongs to its connection, whichever task called.
    pub(crate) fn lock(&self) -> Locked<'_> {
        let guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // No subscriber wants it (the common case): no clone, enter and exit
        // at every lock.
        let entered = (!guard.span.is_disabled()).then(|| guard.span.clone().entered());
        Locked {
            guard,
            _entered: entered,
        }
    }
}

/// The span of one dial: a child of the connection's span.
pub(crate) fn generation_span(root: &tracing::Span, generation: u64) -> tracing::Span {
    tracing::info_span!(parent: root, "conn", generation)
}

/// The locked state, inside the connection's span (the lock is released
/// before the span is left).
pub(crate) struct Locked<'a> {
    guard: MutexGuard<'a, Inner>,
    _entered: Option<tracing::span::EnteredSpan>,
}

impl std::ops::Deref for Locked<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.guard
    }
}
