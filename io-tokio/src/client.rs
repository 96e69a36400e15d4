//! The `Client` handle: cloneable, `Send + Sync`, async.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;
use wsnova_core::driver::{Status, SubscribeError, check_raw_params, encode_params};
use wsnova_core::session::{
    Adapter, Credentials, HeartbeatConfig, JsonText, RateLimits, RequestError, Session,
    SessionError,
};
use wsnova_core::wire::CloseCode;

use crate::driver::{HIGH_WATER, now};
use crate::events::{Events, Subscriber};
use crate::shared::{Inner, OneshotReply, Shared, outcome};

/// The session as the client's commands see it.
type Dyn = Session<dyn Adapter>;

/// Closes the session when the last `Client` clone is dropped.
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.0.lock().session.close(now(), CloseCode::NORMAL, "");
        self.0.wake.notify_one();
    }
}

/// A handle to one connection (across reconnects). Clone it freely; the
/// connection closes when the last clone is dropped or [`close`](Self::close) is called.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use wsnova_tokio::prelude::*;
/// let (client, _events) = wsnova_tokio::connect(Builder::new("ws://127.0.0.1:9001/")?, Plain).await?;
/// client.send_text("hello").await?;
/// println!("rtt {:?}", client.ping().await?);
/// client.close().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    _handle: Arc<Handle>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("status", &self.status())
            .finish()
    }
}

impl Client {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Client {
            _handle: Arc::new(Handle(shared.clone())),
            shared,
        }
    }

    /// Runs a session command and wakes the driver.
    fn command<T>(
        &self,
        f: impl FnOnce(&mut Dyn) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        let result = f(&mut *self.shared.lock().session);
        self.shared.wake.notify_one();
        result
    }

    /// Frames a message. With `flush`, writes it (and anything fed before)
    /// through to the socket at once when the socket is idle; without, wakes
    /// the driver once per batch, and it writes the whole batch in one
    /// syscall when it runs. Waits while more than `HIGH_WATER` bytes wait.
    async fn send(
        &self,
        flush: bool,
        direct: impl FnOnce(&mut Dyn) -> bool,
        timed: impl FnOnce(&mut Dyn) -> Result<(), SessionError>,
    ) -> Result<(), SessionError> {
        let backlog = {
            let mut inner = self.shared.lock();
            // Framed at once when nothing waits ahead: no clock read needed.
            if !direct(&mut *inner.session) {
                timed(&mut *inner.session)?;
            }
            // Fed messages wait for `flush` or for the driver's next write:
            // waking the driver for them would cost a task poll with nothing
            // to do per batch (~2,300 instructions a round trip), as the
            // caller's `flush` usually comes first. Over the high-water mark
            // they are written now, since the caller is about to wait for room.
            let write = flush || inner.session.pending_transmit_len() > HIGH_WATER;
            if needs_driver(&mut inner, write) {
                self.shared.wake.notify_one();
            }
            inner.session.pending_transmit_len()
        };
        if backlog > HIGH_WATER {
            loop {
                let drained = self.shared.drained.notified();
                if self.shared.lock().session.pending_transmit_len() <= HIGH_WATER {
                    break;
                }
                drained.await;
            }
        }
        Ok(())
    }

    /// Sends a text message now: framed and written through to the socket
    /// from this task (queued while not ready). Waits while the socket is far behind.
    pub async fn send_text(&self, text: impl AsRef<str>) -> Result<(), SessionError> {
        let text = text.as_ref();
        self.send(
            true,
            |s| s.try_send_text_direct(text),
            |s| s.send_text(now(), text),
        )
        .await
    }

    /// Sends a binary message now (queued while not ready).
    pub async fn send_binary(&self, data: impl AsRef<[u8]>) -> Result<(), SessionError> {
        let data = data.as_ref();
        self.send(
            true,
            |s| s.try_send_binary_direct(data),
            |s| s.send_binary(now(), data),
        )
        .await
    }

    /// Frames a text message without writing it yet: a burst of fed
    /// messages leaves in one syscall at [`flush`](Self::flush) (or with
    /// the next `send_*`, or when the driver task next writes for its own
    /// reasons). As with a `Sink`'s `feed`, call `flush` after a burst:
    /// nothing else promises when fed messages leave.
    ///
    /// ```no_run
    /// # async fn demo(client: wsnova_tokio::Client) -> Result<(), wsnova_core::session::SessionError> {
    /// for i in 0..100 {
    ///     client.feed_text(format!("{{\"n\":{i}}}")).await?;
    /// }
    /// client.flush(); // all 100 in one write
    /// # Ok(()) }
    /// ```
    pub async fn feed_text(&self, text: impl AsRef<str>) -> Result<(), SessionError> {
        let text = text.as_ref();
        self.send(
            false,
            |s| s.try_send_text_direct(text),
            |s| s.send_text(now(), text),
        )
        .await
    }

    /// Frames a binary message without writing it yet (see [`feed_text`](Self::feed_text)).
    pub async fn feed_binary(&self, data: impl AsRef<[u8]>) -> Result<(), SessionError> {
        let data = data.as_ref();
        self.send(
            false,
            |s| s.try_send_binary_direct(data),
            |s| s.send_binary(now(), data),
        )
        .await
    }

    /// Writes everything fed so far, from this task, as far as the socket takes it.
    pub fn flush(&self) {
        let mut inner = self.shared.lock();
        if needs_driver(&mut inner, true) {
            self.shared.wake.notify_one();
        }
    }

    /// Serializes `value` and sends it as a text message.
    pub async fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), SessionError> {
        let text =
            serde_json::to_string(value).map_err(|e| SessionError::InvalidParams(e.to_string()))?;
        self.send_text(text).await
    }

    /// Sends a request and waits for its one outcome: the result, unparsed,
    /// or why there is none (timeout, connection lost, rejected, ...).
    /// `params` is any serializable object or array; `&()` sends none.
    /// JSON text goes through [`request_raw`](Self::request_raw).
    /// The session's request timeout bounds the wait.
    pub async fn request<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<JsonText, RequestError> {
        self.request_inner(method, encode_params(params)?, None)
            .await
    }

    /// [`request`](Self::request), waiting at most `timeout` for this call
    /// (then `RequestError::Timeout`; a late response is discarded, never
    /// delivered twice).
    pub async fn request_timeout<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        timeout: Duration,
    ) -> Result<JsonText, RequestError> {
        self.request_inner(method, encode_params(params)?, Some(timeout))
            .await
    }

    /// [`request`](Self::request) with params given as JSON text (an object
    /// or an array; empty for none), checked before it is sent.
    pub async fn request_raw(&self, method: &str, params: &str) -> Result<JsonText, RequestError> {
        self.request_inner(method, check_raw_params(params)?, None)
            .await
    }

    async fn request_inner(
        &self,
        method: &str,
        params: String,
        timeout: Option<Duration>,
    ) -> Result<JsonText, RequestError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            let id = inner
                .session
                .request(now(), method, &params)
                .map_err(|_| RequestError::Closed)?;
            // Registered under the same lock: the outcome cannot be routed before.
            inner.waiters.wait_response(id, OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        outcome(rx, timeout, RequestError::Timeout, RequestError::Closed).await
    }

    /// Adds channels to the subscription set and waits until the server
    /// has confirmed every one of them, or refused one
    /// ([`SubscribeError::Refused`]). Channels confirmed already count as
    /// confirmed. A reconnect meanwhile does not end the wait (the set is
    /// replayed); bound it with [`subscribe_timeout`](Self::subscribe_timeout).
    /// After any reconnect they are replayed automatically.
    pub async fn subscribe(&self, channels: &[&str]) -> Result<(), SubscribeError> {
        let rx = self.subscribe_waiting(channels)?;
        rx.await.unwrap_or(Err(SubscribeError::Closed))
    }

    /// [`subscribe`](Self::subscribe), waiting at most `timeout` for the
    /// confirmations (then `SubscribeError::Timeout`; the channels stay
    /// wanted).
    pub async fn subscribe_timeout(
        &self,
        channels: &[&str],
        timeout: Duration,
    ) -> Result<(), SubscribeError> {
        let rx = self.subscribe_waiting(channels)?;
        let (timed_out, closed) = (SubscribeError::Timeout, SubscribeError::Closed);
        outcome(rx, Some(timeout), timed_out, closed).await
    }

    fn subscribe_waiting(
        &self,
        channels: &[&str],
    ) -> Result<oneshot::Receiver<Result<(), SubscribeError>>, SubscribeError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            let confirmed: Vec<String> = inner
                .session
                .confirmed_subscriptions()
                .map(str::to_owned)
                .collect();
            inner
                .session
                .subscribe(now(), channels)
                .map_err(|_| SubscribeError::Closed)?;
            let confirmed = confirmed.iter().map(String::as_str);
            inner
                .waiters
                .wait_unconfirmed(channels, confirmed, OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        Ok(rx)
    }

    /// Adds channels to the subscription set without waiting: the
    /// confirmations arrive as `Event::Subscribed` /
    /// `Event::SubscriptionFailed`.
    pub fn subscribe_nowait(&self, channels: &[&str]) -> Result<(), SessionError> {
        self.command(|s| s.subscribe(now(), channels))
    }

    /// Removes channels from the subscription set.
    pub async fn unsubscribe(&self, channels: &[&str]) -> Result<(), SessionError> {
        self.command(|s| s.unsubscribe(now(), channels))
    }

    /// Sets credentials and authenticates (now if connected, and after every reconnect).
    pub async fn authenticate(&self, credentials: Credentials) -> Result<(), SessionError> {
        self.command(|s| s.authenticate(now(), credentials))
    }

    /// Changes pings, the pong deadline and the idle timeout on the live
    /// connection and every later one, without a reconnect (see
    /// `Session::set_heartbeat`); zero durations are refused.
    pub fn set_heartbeat(&self, heartbeat: HeartbeatConfig) -> Result<(), SessionError> {
        self.command(|s| s.set_heartbeat(now(), heartbeat))
    }

    /// Changes the rate limits live, without a reconnect (see
    /// `Session::set_rate_limits`: each class keeps its current tokens, capped
    /// at the new capacity); an invalid limit is refused and changes nothing.
    pub fn set_rate_limits(&self, limits: RateLimits) -> Result<(), SessionError> {
        self.command(|s| s.set_rate_limits(now(), limits))
    }

    /// Pings and waits for the pong: the round-trip time. Fails with
    /// `NotConnected` when the connection is lost before the pong.
    pub async fn ping(&self) -> Result<Duration, SessionError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            inner.session.ping(now())?;
            inner.waiters.wait_pong(OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        rx.await.map_err(|_| SessionError::NotConnected)
    }

    /// The connection's state right now.
    pub fn status(&self) -> Status {
        Status::of(&self.shared.lock().session)
    }

    /// Another independent consumer of this connection's events, from now on.
    pub fn events(&self) -> Events {
        let mut inner = self.shared.lock();
        let subscriber = Subscriber::new(
            inner.capacity,
            inner.policy,
            self.shared.wake.clone(),
            inner.dropped_total.clone(),
        );
        if inner.waiters.is_closed() {
            subscriber.close();
        }
        inner.subscribers.push(subscriber.clone());
        Events::new(subscriber)
    }

    /// Closes the connection (close handshake, no reconnect) and waits until it is closed.
    pub async fn close(&self) -> Result<(), SessionError> {
        self.close_with(CloseCode::NORMAL, "").await
    }

    /// [`close`](Self::close) with a code and reason.
    pub async fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.lock();
            if inner.waiters.is_closed() {
                return Ok(());
            }
            inner.session.close(now(), code, reason)?;
            inner.waiters.wait_close(OneshotReply(tx));
        }
        self.shared.wake.notify_one();
        let _ = rx.await;
        Ok(())
    }
}

/// Writes from the calling task when `write` (and the socket is the
/// caller's to write); `true` when the driver task must act: it owns the
/// write (no socket yet, or it waits for writability), the write failed
/// (it reports the loss), or the socket stopped taking bytes (it must now
/// wait for writability, or nobody would finish the write).
fn needs_driver(inner: &mut Inner, write: bool) -> bool {
    if inner.write_blocked || inner.stream.is_none() {
        return true;
    }
    write && (inner.write_through().is_err() || inner.write_blocked)
}
