//! Event consumers: one bounded queue each, and what happens when one falls behind.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;
use wsnova_core::session::Event;

pub use wsnova_core::session::LagPolicy;

#[derive(Debug, Default)]
struct Queue {
    events: VecDeque<Event>,
    dropped: u64,
    closed: bool,
}

/// One consumer's queue, shared by the driver task (producer) and an [`Events`] stream.
#[derive(Debug)]
pub(crate) struct Subscriber {
    queue: Mutex<Queue>,
    consumer: AtomicWaker,
    /// Wakes the driver task when a full queue gets room.
    task: Arc<Notify>,
    capacity: usize,
    policy: LagPolicy,
    /// `wsnova_events_dropped_total{connection}`: events dropped by `DropOldest`.
    dropped_total: metrics::Counter,
    /// Its `Events` was dropped (set before the driver is woken to look).
    abandoned: AtomicBool,
}

/// The `wsnova_events_dropped_total` handle of a connection (a no-op
/// without a metrics recorder).
pub(crate) fn dropped_counter(connection: &str) -> metrics::Counter {
    metrics::counter!("wsnova_events_dropped_total", "connection" => connection.to_owned())
}

impl Subscriber {
    pub(crate) fn new(
        capacity: usize,
        policy: LagPolicy,
        task: Arc<Notify>,
        dropped_total: metrics::Counter,
    ) -> Arc<Self> {
        Arc::new(Subscriber {
            queue: Mutex::new(Queue::default()),
            consumer: AtomicWaker::new(),
            task,
            capacity: capacity.max(1),
            policy,
            dropped_total,
            abandoned: AtomicBool::new(false),
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds events in order under one lock (one wake-up at most).
    pub(crate) fn push_all(&self, events: impl IntoIterator<Item = Event>) {
        let mut q = self.queue();
        let was_empty = q.events.is_empty() && q.dropped == 0;
        for event in events {
            self.push_locked(&mut q, event);
        }
        let woke = !(q.events.is_empty() && q.dropped == 0);
        drop(q);
        // A consumer with events waiting polls until empty: wake it only once.
        if was_empty && woke {
            self.consumer.wake();
        }
    }

    fn push_locked(&self, q: &mut Queue, event: Event) {
        q.events.push_back(event);
        if q.events.len() > self.capacity && self.policy == LagPolicy::DropOldest {
            let droppable = q
                .events
                .iter()
                .position(|e| matches!(e, Event::Notification { .. } | Event::Message(_)));
            if let Some(i) = droppable {
                q.events.remove(i);
                q.dropped += 1;
                self.dropped_total.increment(1);
                if q.dropped == 1 {
                    // Once per lag episode; the count arrives as `Event::Lagged`.
                    tracing::debug!(
                        capacity = self.capacity,
                        "event consumer lagging: dropping oldest"
                    );
                }
            }
        }
    }

    /// `true` when the queue holds more than its capacity.
    pub(crate) fn is_full(&self) -> bool {
        self.queue().events.len() >= self.capacity
    }

    /// No more events will come.
    pub(crate) fn close(&self) {
        self.queue().closed = true;
        self.consumer.wake();
    }

    /// `true` when the consumer dropped its `Events`.
    pub(crate) fn is_abandoned(self: &Arc<Self>) -> bool {
        Arc::strong_count(self) == 1 || self.abandoned.load(Ordering::Acquire)
    }
}

/// The events of one connection, as a [`Stream`](futures_core::Stream).
///
/// Each `Events` is an independent consumer with its own bounded queue
/// (see [`LagPolicy`]); get more with [`Client::events`](crate::Client::events).
/// The stream ends after `Event::Closed`.
#[derive(Debug)]
pub struct Events {
    pub(crate) subscriber: Arc<Subscriber>,
    /// Events taken from the queue in one batch (one lock), handed out one
    /// by one.
    batch: VecDeque<Event>,
}

impl Events {
    pub(crate) fn new(subscriber: Arc<Subscriber>) -> Events {
        Events {
            subscriber,
            batch: VecDeque::new(),
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        // A driver that stopped reading for this consumer must look again,
        // or it would wait for room that never comes.
        self.subscriber.abandoned.store(true, Ordering::Release);
        self.subscriber.task.notify_one();
    }
}

impl futures_core::Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = self.get_mut();
        if let Some(event) = this.batch.pop_front() {
            return Poll::Ready(Some(event));
        }
        let sub = &this.subscriber;
        for attempt in 0..2 {
            let mut q = sub.queue();
            if q.dropped > 0 {
                let dropped = std::mem::take(&mut q.dropped);
                return Poll::Ready(Some(Event::Lagged { dropped }));
            }
            if !q.events.is_empty() {
                // Everything queued at once: one lock per batch, not per event.
                let was_full = q.events.len() >= sub.capacity;
                std::mem::swap(&mut q.events, &mut this.batch);
                drop(q);
                if was_full {
                    sub.task.notify_one();
                }
                return Poll::Ready(this.batch.pop_front());
            }
            if q.closed {
                return Poll::Ready(None);
            }
            drop(q);
            if attempt == 0 {
                // Register, then look again: an event pushed in between is not missed.
                sub.consumer.register(cx.waker());
            }
        }
        Poll::Pending
    }
}
