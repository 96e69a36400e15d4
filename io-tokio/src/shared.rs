//! State shared by the `Client` handles and the driver task: the session and
//! who waits for what. Locked briefly, never across an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use wsnova_core::session::{
    CloseReason, DisconnectReason, Event, JsonText, Output, RequestError, RequestId,
};

use crate::events::{LagPolicy, Subscriber};
use crate::ops::SessionOps;

/// What the task must do with sockets.
#[derive(Debug)]
pub(crate) enum Action {
    Dial {
        generation: u64,
        host: String,
        port: u16,
    },
    Close {
        generation: u64,
        flush: Vec<u8>,
    },
}

/// How `connect` ends.
pub(crate) type FirstOutcome = Result<(), ConnectFailure>;

/// Why the first connection did not reach `Ready`.
#[derive(Debug, Clone)]
pub(crate) enum ConnectFailure {
    Disconnected(DisconnectReason),
    Closed(CloseReason),
}

pub(crate) struct Inner {
    pub(crate) session: Box<dyn SessionOps>,
    /// `Client::request` callers waiting for their outcome.
    pub(crate) waiters: HashMap<RequestId, oneshot::Sender<Result<JsonText, RequestError>>>,
    /// `Client::ping` callers, answered by the next pongs in order.
    pub(crate) pings: VecDeque<oneshot::Sender<Duration>>,
    pub(crate) subscribers: Vec<Arc<Subscriber>>,
    pub(crate) capacity: usize,
    pub(crate) policy: LagPolicy,
    /// The connection's `wsnova_events_dropped_total` handle, for new consumers.
    pub(crate) dropped_total: metrics::Counter,
    pub(crate) actions: Vec<Action>,
    /// `connect().await`, until the first `Ready` (or failure).
    pub(crate) first_outcome: Option<oneshot::Sender<FirstOutcome>>,
    /// Give up when the first attempt fails instead of retrying.
    pub(crate) fail_fast: bool,
    pub(crate) close_waiters: Vec<oneshot::Sender<()>>,
    pub(crate) closed: bool,
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
                    if generation != self.span_generation {
                        self.span_generation = generation;
                        self.span = generation_span(&self.root_span, generation);
                    }
                    self.actions.push(Action::Dial {
                        generation,
                        host,
                        port,
                    })
                }
                Output::CloseTransport { generation, flush } => {
                    self.actions.push(Action::Close { generation, flush })
                }
                Output::Transmit { .. } => {}
                Output::Event(event) => self.route(event),
            }
        }
    }

    fn route(&mut self, event: Event) {
        match event {
            Event::Response { id, result } if self.waiters.contains_key(&id) => {
                let _ = self.waiters.remove(&id).expect("checked").send(Ok(result));
            }
            Event::RequestFailed { id, error } if self.waiters.contains_key(&id) => {
                let _ = self.waiters.remove(&id).expect("checked").send(Err(error));
            }
            event => {
                match &event {
                    Event::Pong { rtt } => {
                        if let Some(waiter) = self.pings.pop_front() {
                            let _ = waiter.send(*rtt);
                        }
                    }
                    Event::Ready => {
                        if let Some(first) = self.first_outcome.take() {
                            let _ = first.send(Ok(()));
                        }
                    }
                    // The core gives up by itself (fail_before_first_ready).
                    Event::Disconnected { reason, .. } if self.fail_fast => {
                        if let Some(first) = self.first_outcome.take() {
                            let _ = first.send(Err(ConnectFailure::Disconnected(reason.clone())));
                        }
                    }
                    Event::Closed { reason } => {
                        if let Some(first) = self.first_outcome.take() {
                            let _ = first.send(Err(ConnectFailure::Closed(reason.clone())));
                        }
                        self.closed = true;
                        self.pings.clear();
                        for waiter in self.close_waiters.drain(..) {
                            let _ = waiter.send(());
                        }
                    }
                    _ => {}
                }
                let closed = matches!(event, Event::Closed { .. });
                self.broadcast(event);
                if closed {
                    for sub in &self.subscribers {
                        sub.close();
                    }
                }
            }
        }
    }

    fn broadcast(&mut self, event: Event) {
        self.subscribers.retain(|s| !s.is_abandoned());
        if let Some((last, rest)) = self.subscribers.split_last() {
            for sub in rest {
                sub.push(event.clone());
            }
            last.push(event);
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
        let entered = guard.span.clone().entered();
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
    _entered: tracing::span::EnteredSpan,
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
