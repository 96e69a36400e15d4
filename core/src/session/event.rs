//! What the session tells the application, and why connections end.

use std::time::{Duration, Instant};

use super::JsonText;
use crate::wire::{CloseFrame, Message, WireError};

/// Identifies a request from [`Session::request`](super::Session::request) to its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Who started the end of a connection (as in h2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// The application called `close`.
    User,
    /// wsnova gave up on the connection (timeout, bad data, failed auth).
    Library,
    /// The server or the network ended it.
    Remote,
}

/// Why a connection was lost or never came up.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The TCP connection could not be opened (the driver's error text).
    ConnectFailed(String),
    /// Dial, TLS and upgrade did not finish within `connect_timeout`.
    ConnectTimeout,
    /// The socket ended or failed without a WebSocket close, before the
    /// upgrade's transport was up (e.g. "closed while connecting").
    TransportClosed(String),
    /// The socket failed with this OS error (e.g. a TCP reset: "Connection
    /// reset by peer") without a WebSocket close. A FIN without a close
    /// frame is `Wire(WireError::AbnormalClosure)` instead (1006, RFC 6455
    /// §7.1.5), and a close frame is `ServerClosed` with its code.
    Reset(String),
    /// The byte path failed: TLS, a refused upgrade, bad frames, limits.
    Wire(WireError),
    /// The server closed the WebSocket with this frame.
    ServerClosed(CloseFrame),
    /// No pong came back within `pong_timeout` (a half-open connection).
    PongTimeout,
    /// Nothing was received for `idle_timeout`.
    IdleTimeout,
    /// Authentication failed or timed out.
    AuthFailed(String),
    /// The application closed the session.
    UserClose,
    /// The server refused a request with an error that ends its session
    /// (the adapter's [`ends_session`](super::Adapter::ends_session), e.g.
    /// Deribit's 10028 `too_many_requests`): the connection is dropped at
    /// once and the request goes again on the next one.
    SessionEnded(RpcError),
}

impl DisconnectReason {
    /// `true` when TCP (and TLS, for `wss://`) were up and the loss came
    /// later: the upgrade was refused or broken, or the WebSocket ended. A
    /// refused upgrade is `Wire(UpgradeRejected { .. })` with the status
    /// and the parsed `Retry-After`.
    ///
    /// ```
    /// use wsnova_core::session::DisconnectReason;
    /// use wsnova_core::wire::WireError;
    /// let refused = DisconnectReason::Wire(WireError::UpgradeRejected {
    ///     status: 503, reason: "Service Unavailable".into(),
    ///     retry_after: None, body_excerpt: String::new(),
    /// });
    /// assert!(refused.transport_was_up());
    /// assert!(!DisconnectReason::ConnectFailed("refused".into()).transport_was_up());
    /// ```
    pub fn transport_was_up(&self) -> bool {
        match self {
            DisconnectReason::ConnectFailed(_)
            | DisconnectReason::ConnectTimeout
            | DisconnectReason::TransportClosed(_) => false,
            DisconnectReason::Wire(err) => !matches!(
                err,
                WireError::Certificate(_) | WireError::Tls(_) | WireError::InvalidUrl(_)
            ),
            _ => true,
        }
    }
}

/// What to do after a connection is lost; decided by the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Reconnect after the backoff delay.
    Reconnect,
    /// Reconnect after at least this delay (e.g. a server's rate-limit hint).
    ReconnectAfter(Duration),
    /// Give up: the session closes.
    Stop,
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No response within the request timeout (queued time included).
    #[error("no response within the request timeout")]
    Timeout,
    /// The connection dropped after the request was sent. It is never re-sent:
    /// the server may or may not have acted on it.
    #[error("the connection was lost after the request was sent")]
    ConnectionLost,
    /// The rate limiter's queue was full.
    #[error("rate limited: the request queue is full")]
    RateLimited,
    /// The queue for requests made while not ready was full.
    #[error("the queue for requests made while not ready is full")]
    QueueFull,
    /// The server answered with an error.
    #[error("rejected by the server: {0}")]
    Rejected(RpcError),
    /// The session closed before the request was sent or answered.
    #[error("the session closed before the request was answered")]
    Closed,
}

/// An error object from the server (JSON-RPC 2.0 §5.1).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct RpcError {
    /// The error code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Extra data, if any.
    pub data: Option<JsonText>,
}

/// Why the session ended for good.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The application closed it.
    User,
    /// The adapter's policy said stop after this loss.
    Stopped(DisconnectReason),
    /// `max_attempts` reconnects in a row failed; the last loss is given.
    RetriesExhausted(DisconnectReason),
}

/// What the application sees. Drain them with [`Session::poll_output`](super::Session::poll_output).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The transport is up and the WebSocket upgrade succeeded.
    Connected,
    /// Authenticated (if credentials are set), set up and resubscribed: requests flow.
    Ready,
    /// The connection was lost; `reconnect_in` is `None` when no reconnect follows.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
        /// Who started it.
        initiator: Initiator,
        /// When the next attempt starts.
        reconnect_in: Option<Duration>,
    },
    /// A reconnect attempt starts (the count of failed attempts in a row so far).
    Reconnecting {
        /// 1 for the first retry after a loss.
        attempt: u32,
    },
    /// A data message the adapter did not classify as a response or notification.
    Message(Message),
    /// A subscription's data.
    Notification {
        /// The channel it belongs to.
        channel: String,
        /// The data, unparsed.
        data: JsonText,
    },
    /// The result of a request.
    Response {
        /// The request.
        id: RequestId,
        /// The result, unparsed.
        result: JsonText,
    },
    /// A request that will get no response.
    RequestFailed {
        /// The request.
        id: RequestId,
        /// Why.
        error: RequestError,
    },
    /// The server confirmed these channels.
    Subscribed {
        /// Confirmed channels.
        channels: Vec<String>,
    },
    /// The server confirmed the end of these subscriptions.
    Unsubscribed {
        /// Channels no longer subscribed.
        channels: Vec<String>,
    },
    /// The server refused (or did not confirm) these channels; they are not
    /// retried. Passing refusals (no answer, rate limits, transient errors,
    /// an expired token) never end here: those channels stay desired.
    SubscriptionFailed {
        /// Channels dropped from the desired set.
        channels: Vec<String>,
        /// The server's error, or why they were not confirmed.
        error: String,
    },
    /// Updates on a sequenced channel (an order book) were missed: the
    /// channel is resubscribed for a fresh snapshot, and its notifications
    /// are held back until that snapshot arrives.
    Gap {
        /// The channel.
        channel: String,
        /// The sequence number the next update should have followed.
        expected: u64,
        /// The one it said it followed.
        got: u64,
    },
    /// Authentication (or a token refresh) succeeded.
    Authenticated {
        /// When the access token expires, if it does.
        expires_at: Option<Instant>,
    },
    /// Authentication failed; `fatal` failures close the session.
    AuthFailed {
        /// The server's message.
        error: String,
        /// `true` when retrying cannot help (invalid credentials).
        fatal: bool,
    },
    /// A ping was answered.
    Pong {
        /// Round-trip time.
        rtt: Duration,
    },
    /// A consumer fell behind and `dropped` notifications or messages were
    /// dropped for it (drivers' drop-oldest lag policy; never by the core).
    Lagged {
        /// How many events this consumer lost.
        dropped: u64,
    },
    /// The session ended for good; nothing follows.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

impl Event {
    /// `true` for the events after which a connection often sits idle: its
    /// phase changed (`Connected`, `Ready`, `Disconnected`, `Reconnecting`,
    /// `Closed`) or a subscription or authentication settled (`Subscribed`,
    /// `Unsubscribed`, `Authenticated`). A queue that empties after one of
    /// these gives its memory back (the session's outputs, the drivers'
    /// event queues), so an idle connection holds no queue capacity; data
    /// and responses never do that, so steady traffic allocates nothing.
    ///
    /// ```
    /// use wsnova_core::session::Event;
    /// use wsnova_core::wire::Message;
    /// assert!(Event::Ready.is_lifecycle());
    /// assert!(!Event::Message(Message::text("tick")).is_lifecycle());
    /// ```
    pub fn is_lifecycle(&self) -> bool {
        matches!(
            self,
            Event::Connected
                | Event::Ready
                | Event::Disconnected { .. }
                | Event::Reconnecting { .. }
                | Event::Closed { .. }
                | Event::Subscribed { .. }
                | Event::Unsubscribed { .. }
                | Event::Authenticated { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events travel by value through every consumer queue: the common ones
    /// (a message, a notification) must not pay for the rare large ones.
    #[test]
    fn event_stays_small() {
        let sizes = [
            ("Event", size_of::<Event>()),
            ("DisconnectReason", size_of::<DisconnectReason>()),
            ("CloseReason", size_of::<CloseReason>()),
            ("WireError", size_of::<WireError>()),
            ("Message", size_of::<Message>()),
            ("RequestError", size_of::<RequestError>()),
        ];
        // 104 bytes today: `Disconnected`, `Closed` and `RequestFailed` carry
        // the largest (`DisconnectReason`, `CloseReason`, `RequestError`).
        // Boxing those would change the public patterns; the bound keeps
        // the type from growing meanwhile.
        assert!(size_of::<Event>() <= 104, "{sizes:?}");
        assert!(size_of::<Message>() <= 40, "{sizes:?}");
    }
}
