//! The `Handle`: cloneable, `Send + Sync`, blocking. Every call is a
//! command to the loop thread (which it wakes) and a wait for the answer.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use wsnova_core::driver::{LagPolicy, Status, SubscribeError, check_raw_params, encode_params};
use wsnova_core::session::{
    Credentials, HeartbeatConfig, JsonText, RateLimits, RequestError, SessionError,
};
use wsnova_core::wire::CloseCode;

use crate::connection::Connection;
use crate::event_loop::{Entry, HIGH_WATER, LoopShared, State};
use crate::events::{Events, Resume, Subscriber};
use crate::resolver::lock;
use crate::route::SyncReplySender;

/// Closes the session when the last `Handle` clone is dropped.
struct Inner {
    shared: Arc<LoopShared>,
    key: usize,
    serial: u64,
    final_status: Arc<Mutex<Option<Status>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let (key, serial) = (self.key, self.serial);
        self.shared.send(Box::new(move |state: &mut State| {
            state.with(key, serial, |entry| {
                let _ = entry.conn.close(CloseCode::NORMAL, "");
            })
        }));
    }
}

/// A handle to one connection (across reconnects) on an
/// [`EventLoop`](crate::EventLoop), usable from any thread. Every method
/// blocks the calling thread until the loop has answered. Clone it freely;
/// the connection closes when the last clone is dropped or
/// [`close`](Self::close) is called.
///
/// Do not call it from an event callback (that runs on the loop thread,
/// which would wait for itself): it panics there.
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
        final_status: Arc<Mutex<Option<Status>>>,
    ) -> Self {
        Handle {
            inner: Arc::new(Inner {
                shared,
                key,
                serial,
                final_status,
            }),
        }
    }

    /// Runs `f` on the loop thread with this connection (not at all when
    /// it is gone or the loop has stopped).
    fn submit(&self, f: impl FnOnce(&mut Entry) + Send + 'static) {
        self.inner.shared.assert_off_loop();
        let (key, serial) = (self.inner.key, self.inner.serial);
        self.inner.shared.send(Box::new(move |state: &mut State| {
            state.with(key, serial, f)
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

    /// Frames a message and writes it as far as the socket takes it; waits
    /// while more than a few MiB are still queued for the socket.
    fn send(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<(), SessionError> + Send + 'static,
    ) -> Result<(), SessionError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(move |entry| match f(&mut entry.conn) {
            Ok(()) if entry.conn.pending_bytes() > HIGH_WATER => {
                entry.route.drain_waiters.push(tx);
            }
            result => {
                let _ = tx.send(result);
            }
        });
        rx.recv().unwrap_or(Err(SessionError::Closed))
    }

    /// Sends a text message (queued while not ready).
    pub fn send_text(&self, text: impl AsRef<str>) -> Result<(), SessionError> {
        let text = text.as_ref().to_owned();
        self.send(move |c| c.send_text(&text))
    }

    /// Sends a binary message (queued while not ready).
    pub fn send_binary(&self, data: impl AsRef<[u8]>) -> Result<(), SessionError> {
        let data = data.as_ref().to_vec();
        self.send(move |c| c.send_binary(&data))
    }

    /// Serializes `value` and sends it as a text message.
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), SessionError> {
        let text =
            serde_json::to_string(value).map_err(|e| SessionError::InvalidParams(e.to_string()))?;
        self.send(move |c| c.send_text(&text))
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
        match timeout {
            None => rx.recv().unwrap_or(Err(RequestError::Closed)),
            Some(timeout) => match rx.recv_timeout(timeout) {
                Ok(outcome) => outcome,
                Err(RecvTimeoutError::Timeout) => Err(RequestError::Timeout),
                Err(RecvTimeoutError::Disconnected) => Err(RequestError::Closed),
            },
        }
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
            let waiting = channels
                .into_iter()
                .filter(|c| !confirmed.contains(c))
                .collect();
            entry
                .route
                .waiters
                .wait_subscribed(waiting, SyncReplySender(tx));
        });
        match timeout {
            None => rx.recv().unwrap_or(Err(SubscribeError::Closed)),
            Some(timeout) => match rx.recv_timeout(timeout) {
                Ok(outcome) => outcome,
                Err(RecvTimeoutError::Timeout) => Err(SubscribeError::Timeout),
                Err(RecvTimeoutError::Disconnected) => Err(SubscribeError::Closed),
            },
        }
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
            .or_else(|| lock(&self.inner.final_status).clone())
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
