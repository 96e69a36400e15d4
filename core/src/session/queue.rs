//! The two send queues: the core's own requests first, then the
//! application's requests and messages.

use std::collections::VecDeque;

use super::adapter::OutgoingRequest;
use super::event::RequestId;

/// Something waiting to be written.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) kind: Payload,
    pub(crate) cost: u64,
    /// The core's own request (goes back to the control queue on a retry).
    pub(crate) control: bool,
}

/// What a queued item writes.
#[derive(Debug)]
pub(crate) enum Payload {
    /// A request, encoded fresh when it leaves (so a reconnect re-encodes it).
    Request {
        id: RequestId,
        request: OutgoingRequest,
    },
    /// A raw application message.
    Text(String),
    /// A raw application binary message.
    Binary(Vec<u8>),
}

impl Queued {
    /// Whether this is the request `id`.
    pub(crate) fn is_request(&self, id: RequestId) -> bool {
        matches!(self.kind, Payload::Request { id: qid, .. } if qid == id)
    }
}

/// The queues.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    /// The core's own requests (auth, subscriptions, setup): leave as soon as connected.
    pub(crate) control: VecDeque<Queued>,
    /// The application's requests and messages: leave only when ready.
    pub(crate) user: VecDeque<Queued>,
}

impl Queues {
    /// Removes a request that expired or was cancelled before it left.
    pub(crate) fn remove(&mut self, id: RequestId) {
        self.control.retain(|q| !q.is_request(id));
        self.user.retain(|q| !q.is_request(id));
    }

    /// Puts requests back at the head of their queues, in order.
    pub(crate) fn requeue_front(&mut self, items: impl DoubleEndedIterator<Item = Queued>) {
        for item in items.rev() {
            if item.control {
                self.control.push_front(item);
            } else {
                self.user.push_front(item);
            }
        }
    }

    /// Items waiting in both queues.
    pub(crate) fn len(&self) -> usize {
        self.user.len() + self.control.len()
    }
}
