//! One consumer's bounded queue of events and its [`LagPolicy`]: the part
//! of a driver's event delivery that is the same for every driver. Drivers
//! add the lock and the wake-ups.

use std::collections::VecDeque;

use super::LagPolicy;
use crate::session::Event;

/// One consumer's events, bounded by a capacity and a [`LagPolicy`].
///
/// Under `Backpressure` nothing is ever dropped: the driver stops reading
/// while [`is_full`](Self::is_full). Under `DropOldest`, beyond the capacity
/// the oldest notification or message goes (lifecycle events and request
/// outcomes never do), and the consumer learns how many with one
/// `Event::Lagged { dropped }` before the events that follow.
///
/// ```
/// use wsnova_core::driver::{EventQueue, LagPolicy};
/// use wsnova_core::session::Event;
/// use wsnova_core::wire::Message;
/// let mut queue = EventQueue::new(1, LagPolicy::DropOldest);
/// queue.push(Event::Message(Message::text("old")));
/// assert!(queue.push(Event::Message(Message::text("new"))), "one dropped");
/// assert_eq!(queue.pop(), Some(Event::Lagged { dropped: 1 }));
/// assert_eq!(queue.pop(), Some(Event::Message(Message::text("new"))));
/// ```
#[derive(Debug)]
pub struct EventQueue {
    events: VecDeque<Event>,
    dropped: u64,
    closed: bool,
    capacity: usize,
    policy: LagPolicy,
}

impl EventQueue {
    /// An empty queue (a capacity of 0 counts as 1).
    pub fn new(capacity: usize, policy: LagPolicy) -> Self {
        EventQueue {
            events: VecDeque::new(),
            dropped: 0,
            closed: false,
            capacity: capacity.max(1),
            policy,
        }
    }

    /// Adds an event; `true` when the policy dropped an older one for it.
    pub fn push(&mut self, event: Event) -> bool {
        self.events.push_back(event);
        if self.events.len() <= self.capacity || self.policy != LagPolicy::DropOldest {
            return false;
        }
        let droppable = self
            .events
            .iter()
            .position(|e| matches!(e, Event::Notification { .. } | Event::Message(_)));
        let Some(i) = droppable else {
            return false;
        };
        self.events.remove(i);
        self.dropped += 1;
        true
    }

    /// The consumer's next event: `Lagged` first if events were dropped
    /// since it last looked, then the oldest. When the last event out is a
    /// lifecycle one ([`Event::is_lifecycle`]), the emptied queue gives its
    /// memory back: an idle connection's queue holds none, while a stream
    /// of messages keeps it (no allocation per message).
    pub fn pop(&mut self) -> Option<Event> {
        if self.dropped > 0 {
            let dropped = std::mem::take(&mut self.dropped);
            return Some(Event::Lagged { dropped });
        }
        let event = self.events.pop_front();
        if self.events.is_empty() && event.as_ref().is_some_and(Event::is_lifecycle) {
            self.events = VecDeque::new();
        }
        event
    }

    /// Moves everything waiting into `batch` (empty), `Lagged` first: one
    /// lock per batch for drivers that hand events out one by one.
    /// The queue's capacity moves to `batch` and `batch`'s to the queue:
    /// `batch` gives its memory back ([`release_if_settled`](Self::release_if_settled))
    /// after a lifecycle event the way [`pop`](Self::pop) does.
    pub fn take_all(&mut self, batch: &mut VecDeque<Event>) {
        debug_assert!(batch.is_empty());
        std::mem::swap(&mut self.events, batch);
        if let Some(lagged) = self.pop() {
            batch.push_front(lagged);
        }
    }

    /// Gives `batch`'s memory back when it is empty and `last`, the event
    /// just taken from it, is a lifecycle event: for drivers that hand out
    /// a [`take_all`](Self::take_all) batch one event at a time.
    pub fn release_if_settled(batch: &mut VecDeque<Event>, last: Option<&Event>) {
        if batch.is_empty() && batch.capacity() > 0 && last.is_some_and(Event::is_lifecycle) {
            *batch = VecDeque::new();
        }
    }

    /// Memory its queue holds (capacity in bytes).
    pub fn held_bytes(&self) -> usize {
        self.events.capacity() * size_of::<Event>()
    }

    /// Events dropped since the consumer last got a `Lagged`.
    pub fn unreported_drops(&self) -> u64 {
        self.dropped
    }

    /// Nothing is waiting: no events and no unreported drops.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.dropped == 0
    }

    /// The queue holds its capacity or more.
    pub fn is_full(&self) -> bool {
        self.events.len() >= self.capacity
    }

    /// The queue's policy.
    pub fn policy(&self) -> LagPolicy {
        self.policy
    }

    /// Its capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// No more events will come.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Message;

    fn message(n: u8) -> Event {
        Event::Message(Message::Binary(vec![n].into()))
    }

    #[test]
    fn backpressure_never_drops() {
        let mut q = EventQueue::new(2, LagPolicy::Backpressure);
        for n in 0..5 {
            assert!(!q.push(message(n)));
        }
        assert!(q.is_full());
        let mut batch = VecDeque::new();
        q.take_all(&mut batch);
        assert_eq!(batch.len(), 5);
        assert!(q.is_empty());
    }

    #[test]
    fn emptied_after_a_lifecycle_event_the_queue_holds_no_memory() {
        let mut q = EventQueue::new(8, LagPolicy::Backpressure);
        q.push(Event::Connected);
        q.push(message(1));
        assert!(q.held_bytes() > 0);
        assert_eq!(q.pop(), Some(Event::Connected));
        assert_eq!(q.pop(), Some(message(1)));
        assert!(
            q.held_bytes() > 0,
            "messages keep the capacity for the next ones"
        );
        q.push(Event::Ready);
        assert_eq!(q.pop(), Some(Event::Ready));
        assert_eq!(q.held_bytes(), 0, "idle after Ready: nothing held");

        let mut batch = VecDeque::new();
        q.push(Event::Ready);
        q.take_all(&mut batch);
        let last = batch.pop_front();
        EventQueue::release_if_settled(&mut batch, last.as_ref());
        assert_eq!(batch.capacity(), 0);
        q.push(message(2));
        q.take_all(&mut batch);
        let last = batch.pop_front();
        EventQueue::release_if_settled(&mut batch, last.as_ref());
        assert!(batch.capacity() > 0, "a message keeps it");
    }

    #[test]
    fn accessors_tell_capacity_policy_fullness_drops_and_closing() {
        let mut q = EventQueue::new(0, LagPolicy::DropOldest);
        assert_eq!((q.capacity(), q.policy()), (1, LagPolicy::DropOldest));
        assert!(q.is_empty() && !q.is_full() && !q.is_closed());
        q.push(message(1));
        assert!(!q.is_empty() && q.is_full());
        assert!(q.push(message(2)), "one dropped");
        assert_eq!(q.unreported_drops(), 1);
        // The message is taken, the drop not yet reported: not empty.
        let mut batch = VecDeque::new();
        std::mem::swap(&mut q.events, &mut batch);
        assert!(!q.is_empty(), "a drop is still to be reported");
        assert_eq!(q.pop(), Some(Event::Lagged { dropped: 1 }));
        assert_eq!(q.unreported_drops(), 0);
        assert!(q.is_empty());
        q.close();
        assert!(q.is_closed());
        let q = EventQueue::new(3, LagPolicy::Backpressure);
        assert_eq!((q.capacity(), q.policy()), (3, LagPolicy::Backpressure));
    }

    #[test]
    fn drop_oldest_keeps_lifecycle_events_and_reports_first() {
        let mut q = EventQueue::new(2, LagPolicy::DropOldest);
        q.push(Event::Ready);
        q.push(message(1));
        assert!(q.push(message(2)), "message 1 goes, Ready stays");
        assert!(q.push(message(3)));
        let mut batch = VecDeque::new();
        q.take_all(&mut batch);
        assert_eq!(
            Vec::from(batch),
            [Event::Lagged { dropped: 2 }, Event::Ready, message(3)]
        );
    }
}
