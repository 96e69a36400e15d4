//! Event consumers: one bounded queue each, and what happens when one falls behind.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use wsnova_core::driver::{EventQueue, LagPolicy};
use wsnova_core::session::Event;

use crate::resolver::lock;

/// Tells the loop that a full queue has room again.
pub(crate) type Resume = Box<dyn Fn() + Send + Sync>;

/// The queue and how many consumers sleep on it (so a push wakes only
/// when someone waits: no `futex` call per event while the consumer keeps up).
struct Queue {
    events: EventQueue,
    sleepers: usize,
}

/// One consumer's queue, shared by the loop (producer) and an [`Events`].
pub(crate) struct Subscriber {
    queue: Mutex<Queue>,
    ready: Condvar,
    resume: Resume,
    /// Fixed at creation; kept outside the lock for `policy()`.
    policy: LagPolicy,
    /// Its `Events` was dropped (set before the loop is woken to look).
    abandoned: AtomicBool,
}

impl Subscriber {
    pub(crate) fn new(capacity: usize, policy: LagPolicy, resume: Resume) -> Arc<Self> {
        Arc::new(Subscriber {
            queue: Mutex::new(Queue {
                events: EventQueue::new(capacity, policy),
                sleepers: 0,
            }),
            ready: Condvar::new(),
            resume,
            policy,
            abandoned: AtomicBool::new(false),
        })
    }

    /// Adds an event (dropping the oldest droppable one beyond capacity
    /// under `DropOldest`).
    pub(crate) fn push(&self, event: Event) {
        let mut queue = lock(&self.queue);
        queue.events.push(event);
        let wake = queue.sleepers > 0;
        drop(queue);
        if wake {
            self.ready.notify_all();
        }
    }

    /// `true` when the queue holds its capacity or more.
    pub(crate) fn is_full(&self) -> bool {
        lock(&self.queue).events.is_full()
    }

    pub(crate) fn policy(&self) -> LagPolicy {
        self.policy
    }

    /// No more events will come.
    pub(crate) fn close(&self) {
        lock(&self.queue).events.close();
        self.ready.notify_all();
    }

    /// `true` when the consumer dropped its `Events`.
    pub(crate) fn is_abandoned(self: &Arc<Self>) -> bool {
        Arc::strong_count(self) == 1 || self.abandoned.load(Ordering::Acquire)
    }

    /// Takes the next event, waiting until `deadline` (`None`: forever).
    fn take(&self, deadline: Option<Instant>) -> Result<Event, RecvTimeoutError> {
        let mut q = lock(&self.queue);
        loop {
            let was_full = q.events.is_full();
            if let Some(event) = q.events.pop() {
                drop(q);
                if was_full && self.policy == LagPolicy::Backpressure {
                    (self.resume)();
                }
                return Ok(event);
            }
            if q.events.is_closed() {
                return Err(RecvTimeoutError::Disconnected);
            }
            // Counted under the lock the producer takes to push: a push
            // after this sees a sleeper and wakes it.
            q.sleepers += 1;
            q = match deadline {
                None => self.ready.wait(q).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(crate::now());
                    if left.is_zero() {
                        q.sleepers -= 1;
                        return Err(RecvTimeoutError::Timeout);
                    }
                    self.ready
                        .wait_timeout(q, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            q.sleepers -= 1;
        }
    }
}

/// The events of one connection, received from any thread (blocking).
///
/// Each `Events` is an independent consumer with its own bounded queue
/// (see [`LagPolicy`]); get more with [`Handle::events`](crate::Handle::events).
/// It ends (`recv` returns `None`, iteration stops) after `Event::Closed`.
/// Responses to [`Handle::request`](crate::Handle::request) and pongs for
/// [`Handle::ping`](crate::Handle::ping) go to their callers, not here.
pub struct Events {
    pub(crate) subscriber: Arc<Subscriber>,
}

impl Drop for Events {
    fn drop(&mut self) {
        // A loop that stopped reading for this consumer must look again,
        // or it would wait for room that never comes.
        self.subscriber.abandoned.store(true, Ordering::Release);
        (self.subscriber.resume)();
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// Waits for the next event; `None` after the last one (`Event::Closed`).
    pub fn recv(&self) -> Option<Event> {
        self.subscriber.take(None).ok()
    }

    /// Waits at most `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Event, RecvTimeoutError> {
        self.subscriber.take(Some(crate::now() + timeout))
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Result<Event, TryRecvError> {
        match self.subscriber.take(Some(crate::now())) {
            Ok(event) => Ok(event),
            Err(RecvTimeoutError::Timeout) => Err(TryRecvError::Empty),
            Err(RecvTimeoutError::Disconnected) => Err(TryRecvError::Disconnected),
        }
    }
}

impl Iterator for Events {
    type Item = Event;

    /// Blocks for the next event; ends after `Event::Closed`.
    fn next(&mut self) -> Option<Event> {
        self.recv()
    }
}
