//! Event consumers: one bounded queue each, and what happens when one falls behind.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;
use wsnova_core::driver::{EventQueue, LagPolicy};
use wsnova_core::session::Event;

/// One consumer's queue, shared by the driver task (producer) and an [`Events`] stream.
#[derive(Debug)]
pub(crate) struct Subscriber {
    queue: Mutex<EventQueue>,
    consumer: AtomicWaker,
    /// Wakes the driver task when a full queue gets room.
    task: Arc<Notify>,
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
            queue: Mutex::new(EventQueue::new(capacity, policy)),
            consumer: AtomicWaker::new(),
            task,
            dropped_total,
            abandoned: AtomicBool::new(false),
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, EventQueue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds events in order under one lock (one wake-up at most).
    pub(crate) fn push_all(&self, events: impl IntoIterator<Item = Event>) {
        let mut q = self.queue();
        let was_empty = q.is_empty();
        let was_lagging = q.unreported_drops() > 0;
        for event in events {
            if q.push(event) {
                self.dropped_total.increment(1);
            }
        }
        if !was_lagging && q.unreported_drops() > 0 {
            // Once per lag episode; the count arrives as `Event::Lagged`.
            let capacity = q.capacity();
            tracing::debug!(capacity, "event consumer lagging: dropping oldest");
        }
        let woke = !q.is_empty();
        drop(q);
        // A consumer with events waiting polls until empty: wake it only once.
        if was_empty && woke {
            self.consumer.wake();
        }
    }

    /// `true` when the queue holds its capacity or more.
    pub(crate) fn is_full(&self) -> bool {
        self.queue().is_full()
    }

    /// No more events will come.
    pub(crate) fn close(&self) {
        self.queue().close();
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

impl Events {
    /// The next event; `None` after the last one (`Event::Closed`). The
    /// same as `StreamExt::next`, without needing the trait.
    pub async fn recv(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut *self), cx)).await
    }
}

impl Events {
    /// The batch's next event; an emptied batch gives its memory back after
    /// a lifecycle event (an idle consumer holds none).
    fn next_in_batch(&mut self) -> Option<Event> {
        let event = self.batch.pop_front();
        EventQueue::release_if_settled(&mut self.batch, event.as_ref());
        event
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
        if let Some(event) = this.next_in_batch() {
            return Poll::Ready(Some(event));
        }
        let sub = &this.subscriber;
        for attempt in 0..2 {
            let mut q = sub.queue();
            if !q.is_empty() {
                // Everything queued at once: one lock per batch, not per event.
                let was_full = q.is_full();
                q.take_all(&mut this.batch);
                drop(q);
                if was_full {
                    sub.task.notify_one();
                }
                return Poll::Ready(this.next_in_batch());
            }
            if q.is_closed() {
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
