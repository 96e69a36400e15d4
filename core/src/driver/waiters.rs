//! Who waits for what: the callers of a driver's operations that wait for
//! an answer (a request's outcome, a pong, the first `Ready`, the close),
//! answered from the session's events. Both drivers route every event
//! through [`Waiters`]; only their one-shot channel types differ.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use super::ConnectFailure;
use crate::session::{Event, JsonText, RequestError, RequestId};

/// Why a subscription that a caller waited for is not confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The server (or the adapter) refused these channels; the others of
    /// the call may still be confirmed (see `Event::Subscribed`).
    #[error("subscription refused for {channels:?}: {error}")]
    Refused {
        /// The refused channels of this call.
        channels: Vec<String>,
        /// Why.
        error: String,
    },
    /// The session closed first.
    #[error("the session is closed")]
    Closed,
    /// The wait ended on the caller's timeout; the channels stay wanted
    /// and may still be confirmed later.
    #[error("no confirmation within the timeout")]
    Timeout,
}

/// The sending half of a one-shot channel: answers one waiting caller. A
/// caller that went away meanwhile is not an error.
pub trait Reply<T>: Send {
    /// Hands `value` to the caller.
    fn send(self, value: T);
}

/// A driver's one-shot channel family (tokio's `oneshot`, std's
/// `sync_channel(1)`, …), named once so [`Waiters`] can hold a sender of
/// each answer type.
///
/// ```
/// use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
/// use wsnova_core::driver::{Reply, ReplyChannel, Waiters};
/// use wsnova_core::session::Event;
///
/// struct Std;
/// struct StdReply<T>(SyncSender<T>);
/// impl<T: Send> Reply<T> for StdReply<T> {
///     fn send(self, value: T) {
///         let _ = self.0.send(value);
///     }
/// }
/// impl ReplyChannel for Std {
///     type Sender<T: Send + 'static> = StdReply<T>;
/// }
///
/// let mut waiters = Waiters::<Std>::new(true);
/// let (tx, rx): (_, Receiver<Result<(), _>>) = sync_channel(1);
/// waiters.wait_ready(StdReply(tx));
/// assert_eq!(waiters.route(Event::Ready), Some(Event::Ready)); // consumers see it too
/// assert_eq!(rx.recv().unwrap(), Ok(()));
/// ```
pub trait ReplyChannel {
    /// The sending half for answers of type `T`.
    type Sender<T: Send + 'static>: Reply<T>;
}

/// A subscribe caller: the channels it still waits for, and where the answer goes.
type SubscribeWaiter<C> = (
    Vec<String>,
    <C as ReplyChannel>::Sender<Result<(), SubscribeError>>,
);

/// The callers waiting on one connection, answered from its events.
///
/// * a request's caller gets its one outcome, which no consumer then sees;
/// * ping callers get the next pongs' round-trip times in order, and fail
///   (their sender dropped) when the connection is lost before the pong;
/// * the first `Ready` answers `connect`; with `fail_fast`, so does the
///   first loss that no reconnect follows (the core retries a failed
///   first attempt only on the next failover endpoint), and a close
///   before any `Ready` always does;
/// * `close` callers are released by the driver once every consumer has the
///   `Closed` event ([`release_close_waiters`](Self::release_close_waiters)).
pub struct Waiters<C: ReplyChannel> {
    /// Request, subscribe, ping and close callers: made at the first one
    /// (an idle connection nobody called holds a pointer, not four tables).
    callers: Option<Box<Callers<C>>>,
    first_ready: Option<C::Sender<Result<(), ConnectFailure>>>,
    fail_fast: bool,
    closed: bool,
}

/// The callers that wait for something, by kind.
struct Callers<C: ReplyChannel> {
    requests: HashMap<RequestId, C::Sender<Result<JsonText, RequestError>>>,
    /// Subscribe callers: the channels still unconfirmed, and the caller.
    subscriptions: Vec<SubscribeWaiter<C>>,
    pings: VecDeque<C::Sender<Duration>>,
    close: Vec<C::Sender<()>>,
}

impl<C: ReplyChannel> Default for Callers<C> {
    fn default() -> Self {
        Callers {
            requests: HashMap::new(),
            subscriptions: Vec::new(),
            pings: VecDeque::new(),
            close: Vec::new(),
        }
    }
}

impl<C: ReplyChannel> Waiters<C> {
    /// Nobody waits yet; `fail_fast`: the first loss before `Ready` ends `connect`.
    pub fn new(fail_fast: bool) -> Self {
        Waiters {
            callers: None,
            first_ready: None,
            fail_fast,
            closed: false,
        }
    }

    /// The callers' tables, made at the first caller.
    fn callers(&mut self) -> &mut Callers<C> {
        self.callers.get_or_insert_with(Box::default)
    }

    /// `id`'s outcome goes to `reply`. Register under the same lock (or on
    /// the same thread) as the `request` call, so the outcome cannot be
    /// routed before.
    pub fn wait_response(
        &mut self,
        id: RequestId,
        reply: C::Sender<Result<JsonText, RequestError>>,
    ) {
        self.callers().requests.insert(id, reply);
    }

    /// `reply` gets `Ok(())` once the server confirmed every one of
    /// `channels`, or the first refusal of any of them, or `Closed`. A loss
    /// in between does not end the wait: subscriptions are replayed after
    /// the reconnect. Leave out channels confirmed already (register under
    /// the same lock as the `subscribe` call); with none left it answers at once.
    pub fn wait_subscribed(
        &mut self,
        channels: Vec<String>,
        reply: C::Sender<Result<(), SubscribeError>>,
    ) {
        if self.closed {
            reply.send(Err(SubscribeError::Closed));
        } else if channels.is_empty() {
            reply.send(Ok(()));
        } else {
            self.callers().subscriptions.push((channels, reply));
        }
    }

    /// [`wait_subscribed`](Self::wait_subscribed) for the `channels` that
    /// are not among `confirmed` (the client's confirmed set, read under the
    /// same lock as the `subscribe` call): those count as confirmed at once.
    ///
    /// ```
    /// use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
    /// use wsnova_core::driver::{Reply, ReplyChannel, SubscribeError, Waiters};
    /// use wsnova_core::session::Event;
    /// # struct Std;
    /// # struct StdReply<T>(SyncSender<T>);
    /// # impl<T: Send> Reply<T> for StdReply<T> {
    /// #     fn send(self, value: T) { let _ = self.0.send(value); }
    /// # }
    /// # impl ReplyChannel for Std { type Sender<T: Send + 'static> = StdReply<T>; }
    /// let mut waiters = Waiters::<Std>::new(true);
    /// let (tx, rx): (_, Receiver<Result<(), SubscribeError>>) = sync_channel(1);
    /// waiters.wait_unconfirmed(&["a", "b"], ["a"], StdReply(tx)); // waits for "b" only
    /// assert!(rx.try_recv().is_err());
    /// waiters.route(Event::Subscribed { channels: vec!["b".into()] });
    /// assert_eq!(rx.recv().unwrap(), Ok(()));
    /// ```
    pub fn wait_unconfirmed<'a>(
        &mut self,
        channels: &[&str],
        confirmed: impl IntoIterator<Item = &'a str>,
        reply: C::Sender<Result<(), SubscribeError>>,
    ) {
        let confirmed: HashSet<&str> = confirmed.into_iter().collect();
        let waiting = channels
            .iter()
            .filter(|c| !confirmed.contains(**c))
            .map(|c| c.to_string())
            .collect();
        self.wait_subscribed(waiting, reply);
    }

    /// The next unclaimed pong's round-trip time goes to `reply`.
    pub fn wait_pong(&mut self, reply: C::Sender<Duration>) {
        self.callers().pings.push_back(reply);
    }

    /// The first `Ready`, or why there was none, goes to `reply`.
    pub fn wait_ready(&mut self, reply: C::Sender<Result<(), ConnectFailure>>) {
        self.first_ready = Some(reply);
    }

    /// `reply` gets `()` once the connection is closed and every consumer
    /// knows; at once if it is closed already.
    pub fn wait_close(&mut self, reply: C::Sender<()>) {
        if self.closed {
            reply.send(());
        } else {
            self.callers().close.push(reply);
        }
    }

    /// `true` once the session's `Closed` event was routed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Answers whoever waits for `event`. Returns it for the consumers,
    /// unless it was a request's outcome that its caller took.
    pub fn route(&mut self, event: Event) -> Option<Event> {
        match event {
            Event::Response { id, result } => match self.take_request(id) {
                Some(reply) => reply.send(Ok(result)),
                None => return Some(Event::Response { id, result }),
            },
            Event::RequestFailed { id, error } => match self.take_request(id) {
                Some(reply) => reply.send(Err(error)),
                None => return Some(Event::RequestFailed { id, error }),
            },
            event => {
                self.observe(&event);
                return Some(event);
            }
        }
        None
    }

    fn take_request(&mut self, id: RequestId) -> Option<C::Sender<Result<JsonText, RequestError>>> {
        self.callers.as_mut()?.requests.remove(&id)
    }

    fn observe(&mut self, event: &Event) {
        match event {
            Event::Pong { rtt } => {
                if let Some(reply) = self.callers.as_mut().and_then(|c| c.pings.pop_front()) {
                    reply.send(*rtt);
                }
            }
            Event::Ready => self.answer_first(Ok(())),
            Event::Subscribed { channels } => self.subscriptions_confirmed(channels),
            Event::SubscriptionFailed { channels, error } => {
                self.subscriptions_refused(channels, error)
            }
            Event::Disconnected {
                reason,
                reconnect_in,
                ..
            } => {
                // No pong can come on a lost socket: those callers fail.
                if let Some(callers) = self.callers.as_mut() {
                    callers.pings.clear();
                }
                if self.fail_fast && reconnect_in.is_none() {
                    // The core gives up by itself (fail_before_first_ready),
                    // once every failover endpoint was tried.
                    self.answer_first(Err(ConnectFailure::Disconnected(reason.clone())));
                }
            }
            Event::Closed { reason } => {
                self.closed = true;
                if let Some(callers) = self.callers.as_mut() {
                    callers.pings.clear();
                    for (_, reply) in callers.subscriptions.drain(..) {
                        reply.send(Err(SubscribeError::Closed));
                    }
                }
                self.answer_first(Err(ConnectFailure::Closed(reason.clone())));
            }
            _ => {}
        }
    }

    fn subscriptions_confirmed(&mut self, confirmed: &[String]) {
        let Some(callers) = self.callers.as_deref_mut() else {
            return;
        };
        for (waiting, _) in &mut callers.subscriptions {
            waiting.retain(|c| !confirmed.contains(c));
        }
        let (done, waiting) = std::mem::take(&mut callers.subscriptions)
            .into_iter()
            .partition(|(waiting, _)| waiting.is_empty());
        callers.subscriptions = waiting;
        for (_, reply) in done {
            reply.send(Ok(()));
        }
    }

    fn subscriptions_refused(&mut self, refused: &[String], error: &str) {
        let Some(callers) = self.callers.as_deref_mut() else {
            return;
        };
        let (hit, waiting) = std::mem::take(&mut callers.subscriptions)
            .into_iter()
            .partition(|(waiting, _)| waiting.iter().any(|c| refused.contains(c)));
        callers.subscriptions = waiting;
        for (waiting, reply) in hit {
            let channels = waiting
                .into_iter()
                .filter(|c| refused.contains(c))
                .collect();
            let error = error.to_owned();
            reply.send(Err(SubscribeError::Refused { channels, error }));
        }
    }

    fn answer_first(&mut self, outcome: Result<(), ConnectFailure>) {
        if let Some(reply) = self.first_ready.take() {
            reply.send(outcome);
        }
    }

    /// After the `Closed` event reached every consumer: `close` callers return.
    pub fn release_close_waiters(&mut self) {
        let Some(callers) = self.callers.as_mut() else {
            return;
        };
        for reply in callers.close.drain(..) {
            reply.send(());
        }
    }
}

impl<C: ReplyChannel> std::fmt::Debug for Waiters<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |n: fn(&Callers<C>) -> usize| self.callers.as_deref().map_or(0, n);
        f.debug_struct("Waiters")
            .field("requests", &count(|c| c.requests.len()))
            .field("subscriptions", &count(|c| c.subscriptions.len()))
            .field("pings", &count(|c| c.pings.len()))
            .field("first_ready", &self.first_ready.is_some())
            .field("close", &count(|c| c.close.len()))
            .field("closed", &self.closed)
            .finish()
    }
}

#[cfg(test)]
#[path = "waiters_tests.rs"]
mod tests;
