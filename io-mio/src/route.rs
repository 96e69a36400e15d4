//! Who waits for what, per connection on the loop thread: request and
//! ping callers, `connect` and `close` callers, and the event consumers.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wsnova_core::session::{
    CloseReason, DisconnectReason, Event, JsonText, RequestError, RequestId, SessionError,
};

use crate::connection::Status;
use crate::events::{LagPolicy, Subscriber};

/// A one-shot answer to a blocked caller (a `sync_channel(1)`).
pub(crate) type Reply<T> = SyncSender<T>;

/// How the first connection attempt ends.
pub(crate) type FirstOutcome = Result<(), ConnectFailure>;

/// Why the first connection did not reach `Ready`.
#[derive(Debug, Clone)]
pub(crate) enum ConnectFailure {
    Disconnected(DisconnectReason),
    Closed(CloseReason),
}

/// An application callback that gets every event on the loop thread.
pub(crate) type Callback = Box<dyn FnMut(&Event) + Send>;

pub(crate) struct Route {
    /// `Handle::request` callers waiting for their outcome.
    pub(crate) waiters: HashMap<RequestId, Reply<Result<JsonText, RequestError>>>,
    /// `Handle::ping` callers, answered by the next pongs in order.
    pub(crate) pings: VecDeque<Reply<Duration>>,
    pub(crate) subscribers: Vec<Arc<Subscriber>>,
    pub(crate) callback: Option<Callback>,
    /// The blocking `connect`, until the first `Ready` (or failure).
    pub(crate) first_outcome: Option<Reply<FirstOutcome>>,
    /// Give up when the first attempt fails instead of retrying.
    pub(crate) fail_fast: bool,
    pub(crate) close_waiters: Vec<Reply<()>>,
    /// Senders waiting for the transmit buffer to drain below the high-water mark.
    pub(crate) drain_waiters: Vec<Reply<Result<(), SessionError>>>,
    pub(crate) closed: bool,
    /// The last status, for handles asking after the connection is gone.
    pub(crate) final_status: Arc<Mutex<Option<Status>>>,
}

impl Route {
    pub(crate) fn new(fail_fast: bool, final_status: Arc<Mutex<Option<Status>>>) -> Self {
        Route {
            waiters: HashMap::new(),
            pings: VecDeque::new(),
            subscribers: Vec::new(),
            callback: None,
            first_outcome: None,
            fail_fast,
            close_waiters: Vec::new(),
            drain_waiters: Vec::new(),
            closed: false,
            final_status,
        }
    }

    /// Hands one event to whoever waits for it.
    pub(crate) fn route(&mut self, event: Event) {
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
                    Event::Disconnected { reason, .. } => {
                        // No pong can come on a lost socket: those callers fail.
                        self.pings.clear();
                        if self.fail_fast
                            && let Some(first) = self.first_outcome.take()
                        {
                            // The core gives up by itself (fail_before_first_ready).
                            let _ = first.send(Err(ConnectFailure::Disconnected(reason.clone())));
                        }
                    }
                    Event::Closed { reason } => {
                        if let Some(first) = self.first_outcome.take() {
                            let _ = first.send(Err(ConnectFailure::Closed(reason.clone())));
                        }
                        self.closed = true;
                        self.pings.clear();
                    }
                    _ => {}
                }
                let closed = matches!(event, Event::Closed { .. });
                self.broadcast(event);
                if closed {
                    for sub in &self.subscribers {
                        sub.close();
                    }
                    // After the consumers have it: `close()` returns once all know.
                    for waiter in self.close_waiters.drain(..) {
                        let _ = waiter.send(());
                    }
                }
            }
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
