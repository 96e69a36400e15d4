//! The `Handle`: cloneable, `Send + Sync`, blocking. Sends are staged for
//! the loop thread (see [`crate::outgoing`]) and return; every other call
//! is a command to the loop thread (which it wakes) and a wait for the answer.

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;
use wsnova_core::driver::{LagPolicy, Status, SubscribeError, check_raw_params, encode_params};
use wsnova_core::session::{
    Credentials, HeartbeatConfig, JsonText, RateLimits, RequestError, SessionError,
};
use wsnova_core::wire::CloseCode;

use crate::connection::Connection;
use crate::event_loop::{Entry, LoopShared, State};
use crate::events::{Events, Resume, Subscriber};
use crate::outgoing::{Message, Outgoing};
use crate::resolver::lock;
use crate::route::{FinalStatus, SyncReplySender, wait};

/// Closes the session when the last `Handle` clone is dropped.
struct Inner {
    shared: Arc<LoopShared>,
    key: usize,
    serial: u64,
    final_status: FinalStatus,
    /// The connection's staged messages, shared with the loop (fetched at
    /// the first send: a handle that never sends costs nothing).
    outgoing: OnceLock<Arc<Outgoing>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let (key, serial) = (self.key, self.serial);
        self.shared.send(Box::new(move |state: &mut State| {
            state.with(key, serial, |entry| {
                entry.drain_outgoing(); // what was fed goes before the close
                let _ = entry.conn.close(CloseCode::NORMAL, "");
            })
        }));
    }
}

/// A handle to one connection (across reconnects) on an
/// [`EventLoop`](crate::EventLoop), usable from any thread. Clone it
/// freely; the connection closes when the last clone is dropped or
/// [`close`](Self::close) is called.
///
/// **Sends do not wait for the loop.** [`send_text`](Self::send_text),
/// [`send_binary`](Self::send_binary), [`send_json`](Self::send_json) and
/// the `feed_*` verbs copy the payload into a batch shared with the loop
/// thread and return; the loop takes the whole batch in one wake-up, frames
/// every message in order (behind any sent earlier, ahead of any later
/// command from this handle) and writes them with one flush. `send_*` wakes
/// the loop (once per batch); `feed_*` does not, until
/// [`flush`](Self::flush), a later `send_*` or command, or 256 KiB staged.
/// Messages from all clones and threads leave in the order their calls
/// staged them.
///
/// What a sender learns, and when:
/// - `Ok(())`: the message is staged. It is framed by the session on the
///   loop thread shortly after (queued there until the connection is
///   ready, as before). Delivery is not confirmed: a connection lost
///   before the bytes left shows as `Event::Disconnected` and in
///   [`status`](Self::status), as for every driver.
/// - `Err(SessionError::Closed)` at once, once the connection was closed
///   ([`close`](Self::close), the last clone dropped, the session closed
///   for good) or the loop stopped; nothing is staged.
/// - An error the loop met framing an earlier staged message (e.g.
///   `SessionError::QueueFull` while disconnected with the session's send
///   queue full; that message is dropped) is returned once, by the next
///   `send_*`, `feed_*` or `flush` from any clone, which then stages nothing.
/// - While more than 4 MiB wait (staged, plus framed and not yet taken by
///   the socket), a sender blocks until the loop has written enough.
///
/// Every other method blocks the calling thread until the loop has
/// answered. Do not call it from an event callback (that runs on the loop
/// thread, which would wait for itself): it panics there.
#[derive(Clone)]
pub struct Handle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("connection", &self.inner.key)
            .finish_non_exhaustive()
    }
}

/// Wakes the loop to read a connection again once a full queue has room.
pub(crate) fn resume(shared: Arc<LoopShared>, key: usize, serial: u64) -> Resume {
    Box::new(move || {
        shared.send(Box::new(move |state: &mut State| {
            state.with(key, serial, |_| {});
        }));
    })
}

/// A new consumer queue for the connection in `entry`.
pub(crate) fn subscribe(
    entry: &mut Entry,
    shared: Arc<LoopShared>,
    key: usize,
    capacity: usize,
    policy: LagPolicy,
) -> Events {
    let subscriber = Subscriber::new(capacity, policy, resume(shared, key, entry.serial));
    if entry.route.waiters.is_closed() {
        subscriber.close();
    }
    entry.route.subscribers.push(subscriber.clone());
    Events { subscriber }
}

/// The consumer of a connection that is gone: it ends at once.
fn ended(policy: LagPolicy) -> Events {
    let subscriber = Subscriber::new(1, policy, Box::new(|| {}));
    subscriber.close();
    Events { subscriber }
}

impl Handle {
    pub(crate) fn new(
        shared: Arc<LoopShared>,
        key: usize,
        serial: u64,
        final_status: FinalStatus,
    ) -> Self {
        Handle {
            inner: Arc::new(Inner {
                shared,
                key,
                serial,
                final_status,
                outgoing: OnceLock::new(),
            }),
        }
    }

    /// Runs `f` on the loop thread with this connection (not at all when
    /// it is gone or the loop has stopped).
    fn submit(&self, f: impl FnOnce(&mut Entry) + Send + 'static) {
        self.inner.shared.assert_off_loop();
        let (key, serial) = (self.inner.key, self.inner.serial);
        self.inner.shared.send(Box::new(move |state: &mut State| {
            state.with(key, serial, |entry| {
                entry.drain_outgoing(); // staged sends go first
                f(entry)
            })
        }));
    }

    /// Runs `f` on the loop thread and waits for its result; `None` when
    /// the connection is gone.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Entry) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(move |entry| {
            let _ = tx.send(f(entry));
        });
        rx.recv().ok()
    }

    /// Runs a session command.
    fn command<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, SessionError> + Send + 'static,
    ) -> Result<T, SessionError> {
        self.call(move |entry| f(&mut entry.conn))
            .unwrap_or(Err(SessionError::Closed))
    }

    /// The connection's shared batch, fetched from the loop at the first
    /// send; `Err(Closed)` when the connection is gone.
    fn outgoing(&self) -> Result<&Arc<Outgoing>, SessionError> {
        if let Some(outgoing) = self.inner.outgoing.get() {
            return Ok(outgoing);
        }
        let outgoing = self
            .call(|entry| entry.outgoing().clone())
            .ok_or(SessionError::Closed)?;
        Ok(self.inner.outgoing.get_or_init(|| outgoing))
    }

    /// Stages `message` (`None`: only flushes); with `wake`, makes sure a
    /// drain is on its way to the loop. See the type's doc for the errors.
    fn stage(&self, message: Option<Message<'_>>, wake: bool) -> Result<(), SessionError> {
        let outgoing = self.outgoing()?;
        let staged = outgoing.stage(message, wake)?;
        if staged.schedule {
            let (key, serial) = (self.inner.key, self.inner.serial);
            let sent = self.inner.shared.send(Box::new(move |state: &mut State| {
                state.with(key, serial, Entry::drain_outgoing)
            }));
            if !sent {
                outgoing.close(); // the loop has stopped
                return Err(SessionError::Closed);
            }
        }
        if staged.over {
            self.inner.shared.assert_off_loop();
            outgoing.wait_room();
        }
        Ok(())
    }

    /// Sends a text message: staged, and the loop woken to frame and write
    /// it with whatever else is staged (queued while not ready). Returns
    /// without waiting for the loop (see the type's doc for what `Ok`
    /// means and which errors come when).
    pub fn send_text(&self, text: impl AsRef<str>) -> Result<(), SessionError> {
        self.stage(Some(Message::Text(text.as_ref())), true)
    }

    /// Sends a binary message (see [`send_text`](Self::send_text)).
    pub fn send_binary(&self, data: impl AsRef<[u8]>) -> Result<(), SessionError> {
        self.stage(Some(Message::Binary(data.as_ref())), true)
    }

    /// Stages a text message without waking the loop: a burst of fed
    /// messages is framed and written in one wake-up and one flush at
    /// [`flush`](Self::flush) (or the next `send_*` or command, or once
    /// 256 KiB are staged).
    ///
    /// ```no_run
    /// # fn demo(handle: &wsnova_mio::Handle) -> Result<(), wsnova_mio::SessionError> {
    /// for i in 0..100 {
    ///     handle.feed_text(format!("order {i}"))?;
    /// }
    /// handle.flush()?; // one wake-up of the loop, one write
    /// # Ok(()) }
    /// ```
    pub fn feed_text(&self, text: impl AsRef<str>) -> Result<(), SessionError> {
        self.stage(Some(Message::Text(text.as_ref())), false)
    }

    /// Stages a binary message without waking the loop (see [`feed_text`](Self::feed_text)).
    pub fn feed_binary(&self, data: impl AsRef<[u8]>) -> Result<(), SessionError> {
        self.stage(Some(Message::Binary(data.as_ref())), false)
    }

    /// Wakes the loop to frame and write everything staged, and returns
    /// without waiting for it. `Err(Closed)` once the connection is
    /// closed; an error met with an earlier message is returned here too.
    pub fn flush(&self) -> Result<(), SessionError> {
        self.stage(None, true)
    }

    /// Serializes `value` and sends it as a text message.
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), SessionError> {
        let text =
            serde_json::to_string(value).map_err(|e| SessionError::InvalidParams(e.to_string()))?;
        self.send_text(text)
    }

    /// Sends a request and waits for its one outcome: the result, unparsed,
    /// or why there is none. `params` is any serializable object or array;
    /// `&()` sends none. JSON text goes through
    /// [`request_raw`](Self::request_raw). The session's request timeout
    /// (`SessionConfig::request_timeout`) bounds the wait.
    pub fn request<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<JsonText, RequestError> {
        self.request_inner(method, encode_params(params)?, None)
    }

    /// [`request`](Self::request), waiting at most `timeout` for this call
    /// (then `RequestError::Timeout`; a late response is discarded, never
    /// delivered twice).
    pub fn request_timeout<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        timeout: Duration,
    ) -> Result<JsonText, RequestError> {
        self.request_inner(method, encode_params(params)?, Some(timeout))
    }

    /// [`request`](Self::request) with params given as JSON text (an object
    /// or an array; empty for none), checked before it is sent.
    pub fn request_raw(&self, method: &str, params: &str) -> Result<JsonText, RequestError> {
        self.request_inner(method, check_raw_params(params)?, None)
    }

    fn request_inner(
        &self,
        method: &str,
        params: String,
        timeout: Option<Duration>,
    ) -> Result<JsonText, RequestError> {
        let method = method.to_owned();
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(
            move |entry| match entry.conn.request_raw(&method, &params) {
                // Registered before the entry settles: the outcome cannot be routed before.
                Ok(id) => {
                    entry.route.waiters.wait_response(id, SyncReplySender(tx));
                }
                Err(_) => {
                    let _ = tx.send(Err(RequestError::Closed));
                }
            },
        );
        wait(rx, timeout, RequestError::Timeout, RequestError::Closed)
    }

    /// Adds channels to the subscription set and blocks until the server
    /// has confirmed every one of them, or refused one
    /// ([`SubscribeError::Refused`]). Channels confirmed already count as
    /// confirmed. A reconnect meanwhile does not end the wait (the set is
    /// replayed); bound it with [`subscribe_timeout`](Self::subscribe_timeout).
    pub fn subscribe(&self, channels: &[&str]) -> Result<(), SubscribeError> {
        self.subscribe_waiting(channels, None)
    }

    /// [`subscribe`](Self::subscribe), waiting at most `timeout` (then
    /// `SubscribeError::Timeout`; the channels stay wanted).
    pub fn subscribe_timeout(
        &self,
        channels: &[&str],
        timeout: Duration,
    ) -> Result<(), SubscribeError> {
        self.subscribe_waiting(channels, Some(timeout))
    }

    fn subscribe_waiting(
        &self,
        channels: &[&str],
        timeout: Option<Duration>,
    ) -> Result<(), SubscribeError> {
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(move |entry| {
            let confirmed = entry.conn.status().subscriptions;
            let names: Vec<&str> = channels.iter().map(String::as_str).collect();
            if entry.conn.subscribe(&names).is_err() {
                let _ = tx.send(Err(SubscribeError::Closed));
                return;
            }
            let confirmed = confirmed.iter().map(String::as_str);
            entry
                .route
                .waiters
                .wait_unconfirmed(&names, confirmed, SyncReplySender(tx));
        });
        wait(rx, timeout, SubscribeError::Timeout, SubscribeError::Closed)
    }

    /// Adds channels to the subscription set without waiting: the
    /// confirmations arrive as `Event::Subscribed` /
    /// `Event::SubscriptionFailed`.
    pub fn subscribe_nowait(&self, channels: &[&str]) -> Result<(), SessionError> {
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        self.command(move |c| c.subscribe(&channels.iter().map(String::as_str).collect::<Vec<_>>()))
    }

    /// Removes channels from the subscription set.
    pub fn unsubscribe(&self, channels: &[&str]) -> Result<(), SessionError> {
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        self.command(move |c| {
            c.unsubscribe(&channels.iter().map(String::as_str).collect::<Vec<_>>())
        })
    }

    /// Sets credentials and authenticates (now if connected, and after every reconnect).
    pub fn authenticate(&self, credentials: Credentials) -> Result<(), SessionError> {
        self.command(move |c| c.authenticate(credentials))
    }

    /// Changes pings, the pong deadline and the idle timeout on the live
    /// connection and every later one, without a reconnect (see
    /// `Session::set_heartbeat`); zero durations are refused.
    pub fn set_heartbeat(&self, heartbeat: HeartbeatConfig) -> Result<(), SessionError> {
        self.command(move |c| c.set_heartbeat(heartbeat))
    }

    /// Changes the rate limits live, without a reconnect (see
    /// `Session::set_rate_limits`); an invalid limit is refused and changes nothing.
    pub fn set_rate_limits(&self, limits: RateLimits) -> Result<(), SessionError> {
        self.command(move |c| c.set_rate_limits(limits))
    }

    /// Pings and waits for the pong: the round-trip time. Fails with
    /// `NotConnected` when the connection is lost before the pong.
    pub fn ping(&self) -> Result<Duration, SessionError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.call(move |entry| {
            entry.conn.ping()?;
            entry.route.waiters.wait_pong(SyncReplySender(tx));
            Ok(())
        })
        .unwrap_or(Err(SessionError::Closed))?;
        rx.recv().map_err(|_| SessionError::NotConnected)
    }

    /// The connection's state right now.
    pub fn status(&self) -> Status {
        self.call(|entry| entry.conn.status())
            .or_else(|| lock(&self.inner.final_status).as_deref().cloned())
            .unwrap_or_else(Status::closed)
    }

    /// Another independent consumer of this connection's events, from now
    /// on, with its own queue of `capacity` events and `policy`.
    pub fn events_with(&self, capacity: usize, policy: LagPolicy) -> Events {
        let shared = self.inner.shared.clone();
        let key = self.inner.key;
        self.call(move |entry| subscribe(entry, shared, key, capacity, policy))
            .unwrap_or_else(|| ended(policy))
    }

    /// Another independent consumer with the queue capacity and
    /// [`LagPolicy`] the connection was built with.
    pub fn events(&self) -> Events {
        let shared = self.inner.shared.clone();
        let key = self.inner.key;
        self.call(move |entry| {
            let (capacity, policy) = (entry.route.capacity, entry.route.policy);
            subscribe(entry, shared, key, capacity, policy)
        })
        .unwrap_or_else(|| ended(LagPolicy::Backpressure))
    }

    /// Closes the connection (close handshake, no reconnect) and waits until it is closed.
    pub fn close(&self) -> Result<(), SessionError> {
        self.close_with(CloseCode::NORMAL, "")
    }

    /// [`close`](Self::close) with a code and reason.
    pub fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        let reason = reason.to_owned();
        let (tx, rx) = mpsc::sync_channel(1);
        let started = self.call(move |entry| {
            if entry.route.waiters.is_closed() {
                return Ok(false);
            }
            entry.conn.close(code, &reason)?;
            entry.close_outgoing(); // later sends fail at once
            entry.route.waiters.wait_close(SyncReplySender(tx));
            Ok(true)
        });
        match started {
            Some(Ok(true)) => {
                let _ = rx.recv();
                Ok(())
            }
            Some(Err(err)) => Err(err),
            Some(Ok(false)) | None => Ok(()), // closed already
        }
    }
}
