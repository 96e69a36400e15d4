//! Who waits for what, per connection on the loop thread: request and
//! ping callers, `connect` and `close` callers, and the event consumers.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wsnova_core::driver::{self, ConnectFailure, LagPolicy, ReplyChannel, Status, Waiters};
use wsnova_core::session::{Event, SessionError};

use crate::events::Subscriber;

/// A one-shot answer to a blocked caller (a `sync_channel(1)`).
pub(crate) type Reply<T> = SyncSender<T>;

/// std's `sync_channel(1)` as the core's reply channel for [`Waiters`].
pub(crate) struct SyncReply;

/// A `SyncSender` that answers one blocked caller.
pub(crate) struct SyncReplySender<T>(pub(crate) SyncSender<T>);

impl<T: Send> driver::Reply<T> for SyncReplySender<T> {
    fn send(self, value: T) {
        let _ = self.0.send(value); // the caller may have gone: not an error
    }
}

impl ReplyChannel for SyncReply {
    type Sender<T: Send + 'static> = SyncReplySender<T>;
}

/// Waits for a blocked call's one outcome, at most `timeout` when given:
/// `timed_out` after it, `closed` when the loop dropped the sender.
pub(crate) fn wait<T, E>(
    rx: Receiver<Result<T, E>>,
    timeout: Option<Duration>,
    timed_out: E,
    closed: E,
) -> Result<T, E> {
    match timeout {
        None => rx.recv().unwrap_or(Err(closed)),
        Some(timeout) => match rx.recv_timeout(timeout) {
            Ok(outcome) => outcome,
            Err(RecvTimeoutError::Timeout) => Err(timed_out),
            Err(RecvTimeoutError::Disconnected) => Err(closed),
        },
    }
}

/// How the first connection attempt ends.
pub(crate) type FirstOutcome = Result<(), ConnectFailure>;

/// A connection's last status, kept for its handles once it is gone:
/// boxed, so the slot costs a pointer until then (a `Status` is ~300 bytes).
pub(crate) type FinalStatus = Arc<Mutex<Option<Box<Status>>>>;

/// An application callback that gets every event on the loop thread.
pub(crate) type Callback = Box<dyn FnMut(&Event) + Send>;

pub(crate) struct Route {
    /// `request`, `ping`, `connect` and `close` callers.
    pub(crate) waiters: Waiters<SyncReply>,
    pub(crate) subscribers: Vec<Arc<Subscriber>>,
    /// New consumers' queue capacity and policy, from the builder.
    pub(crate) capacity: usize,
    pub(crate) policy: LagPolicy,
    pub(crate) callback: Option<Callback>,
    /// Senders waiting for the transmit buffer to drain below the high-water mark.
    pub(crate) drain_waiters: Vec<Reply<Result<(), SessionError>>>,
    /// The last status, for handles asking after the connection is gone.
    pub(crate) final_status: FinalStatus,
}

impl Route {
    pub(crate) fn new(
        fail_fast: bool,
        final_status: FinalStatus,
        capacity: usize,
        policy: LagPolicy,
    ) -> Self {
        Route {
            waiters: Waiters::new(fail_fast),
            subscribers: Vec::new(),
            capacity,
            policy,
            callback: None,
            drain_waiters: Vec::new(),
            final_status,
        }
    }

    /// Hands one event to whoever waits for it.
    pub(crate) fn route(&mut self, event: Event) {
        let Some(event) = self.waiters.route(event) else {
            return; // a request's outcome, taken by its caller
        };
        let closed = matches!(event, Event::Closed { .. });
        self.broadcast(event);
        if closed {
            for sub in &self.subscribers {
                sub.close();
            }
            // After the consumers have it: `close()` returns once all know.
            self.waiters.release_close_waiters();
        }
    }

    fn broadcast(&mut self, event: Event) {
        if let Some(callback) = self.callback.as_mut() {
            callback(&event);
        }
        self.subscribers.retain(|s| !s.is_abandoned());
        if let Some((last, rest)) = self.subscribers.split_last() {
            for sub in rest {
                sub.push(event.clone());
            }
            last.push(event);
        }
    }

    /// A consumer under the backpressure policy is full: stop reading.
    pub(crate) fn is_backpressured(&self) -> bool {
        self.subscribers
            .iter()
            .any(|s| s.policy() == LagPolicy::Backpressure && !s.is_abandoned() && s.is_full())
    }
}

impl Drop for Route {
    fn drop(&mut self) {
        // The connection is gone (or the loop stopped): consumers end.
        for sub in &self.subscribers {
            sub.close();
        }
    }
}
