//! The `Adapter` trait: how a service encodes requests, subscriptions and
//! auth, and how its messages are classified. Pure: it builds and reads
//! messages, it never does I/O.

use serde_json::value::RawValue;

use std::time::Duration;

use super::json_rpc::{classify_json_rpc, encode_json_rpc};
use super::messages::{Inbound, OutgoingRequest};
use super::{
    AuthToken, Charge, Codec, Credentials, DisconnectReason, Policy, RateClass, RateLimitConfig,
    RequestId, RpcError, SubscribeLimits,
};
use crate::wire::{Text, WireConfig, WireError};

/// Views any adapter as `&dyn Adapter`, also where its type is generic and
/// possibly unsized (a `Session<dyn Adapter>`). Implemented for every sized
/// [`Adapter`]; nothing to implement by hand.
pub trait AsDynAdapter {
    /// `self` as a trait object.
    fn as_dyn(&self) -> &dyn Adapter;
}

impl<T: Adapter> AsDynAdapter for T {
    fn as_dyn(&self) -> &dyn Adapter {
        self
    }
}

/// What an adapter may need to build an auth request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    /// Milliseconds since the Unix epoch, if the driver told the session
    /// (`Session::set_unix_time`); the core has no clock of its own.
    pub unix_time_ms: Option<u64>,
    /// A fresh random nonce (alphanumeric) from the session's seeded RNG.
    pub nonce: String,
}

/// Sequence numbers of one notification (e.g. a book's `change_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequence {
    /// This update's number.
    pub id: u64,
    /// The number of the update it follows; `None` for a snapshot, which
    /// starts a new sequence.
    pub previous: Option<u64>,
}

/// How a service speaks. Every method has a default: plain JSON-RPC 2.0
/// requests and responses, no subscriptions, no auth, reconnect on every loss
/// except certificate errors.
///
/// ```
/// use wsnova_core::session::{Adapter, OutgoingRequest};
///
/// /// A service with `sub`/`unsub` methods taking `{"topics": [...]}`.
/// struct Topics;
/// impl Adapter for Topics {
///     fn subscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
///         let params = serde_json::json!({ "topics": channels }).to_string();
///         Some(OutgoingRequest::new("sub", params))
///     }
/// }
/// ```
pub trait Adapter: AsDynAdapter + Send + 'static {
    /// Adjusts the upgrade request (path, headers, subprotocols). Applied once
    /// when the session is built.
    fn configure(&self, wire: WireConfig) -> WireConfig {
        wire
    }

    /// How requests are framed and binary messages read: JSON in text
    /// messages by default. See [`Codec`] for what each one does; requests are
    /// still built (by [`encode_request`](Self::encode_request) and friends)
    /// and classified as JSON text either way.
    ///
    /// ```
    /// use wsnova_core::session::{Adapter, Codec};
    ///
    /// /// A JSON-RPC service that speaks MessagePack in binary messages.
    /// struct Packed;
    /// impl Adapter for Packed {
    ///     fn codec(&self) -> Codec {
    ///         Codec::MessagePack
    ///     }
    /// }
    /// assert!(Packed.decode_binary(&[0x81, 0xa1, b'a', 0x01]).is_some());
    /// ```
    fn codec(&self) -> Codec {
        Codec::Json
    }

    /// Reads an inbound binary message: the JSON text that
    /// [`classify`](Self::classify) then reads, or `None` to deliver the
    /// message unchanged as `Event::Message`. Default: the
    /// [`codec`](Self::codec)'s [`Codec::decode`] (`None` for JSON). Override it
    /// for other binary payloads (e.g. compressed JSON).
    fn decode_binary(&self, data: &[u8]) -> Option<Text> {
        self.codec().decode(data)
    }

    /// Appends the encoded request to `out`. Default: a JSON-RPC 2.0 request.
    fn encode_request(&self, id: RequestId, method: &str, params: &str, out: &mut String) {
        encode_json_rpc(id, method, params, out);
    }

    /// Reads an inbound message's text: a text message, or the JSON a binary
    /// one was decoded to by [`decode_binary`](Self::decode_binary).
    /// Default: the JSON-RPC 2.0 envelope;
    /// `method` + `params` notifications become `Notification { channel: method }`.
    fn classify<'a>(&self, text: &'a str) -> Inbound<'a> {
        classify_json_rpc(text)
    }

    /// Whether a channel needs authentication; private channels are replayed first.
    fn is_private(&self, _channel: &str) -> bool {
        false
    }

    /// The request that subscribes to `channels` (all private or all public).
    /// `None`: the service has no subscriptions.
    fn subscribe_request(&self, _channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        None
    }

    /// The request that ends subscriptions to `channels`.
    fn unsubscribe_request(&self, _channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        None
    }

    /// Which of `requested` a successful (un)subscribe `result` confirms.
    /// Default: all of them. Channels not returned are reported as failed.
    fn confirmed_channels(&self, requested: &[String], _result: &str) -> Vec<String> {
        requested.to_vec()
    }

    /// The request that authenticates. `None`: the service has no auth.
    /// `context` carries the wall-clock time (when the driver provided it)
    /// and a fresh nonce, for signed grants.
    fn auth_request(
        &self,
        _credentials: &Credentials,
        _context: &AuthContext,
    ) -> Option<OutgoingRequest> {
        None
    }

    /// The request that refreshes a token before it expires. `None`: authenticate again instead.
    fn refresh_request(&self, _token: &AuthToken) -> Option<OutgoingRequest> {
        None
    }

    /// Reads a successful auth (or refresh) result.
    fn read_auth(&self, _result: &str) -> Result<AuthToken, String> {
        Ok(AuthToken::default())
    }

    /// Whether an auth error means retrying cannot help (e.g. invalid credentials).
    fn auth_error_is_fatal(&self, _error: &RpcError) -> bool {
        true
    }

    /// Whether a request failed because the token expired: the session then
    /// refreshes (or re-authenticates) and sends the request once more.
    fn is_token_expired(&self, _error: &RpcError) -> bool {
        false
    }

    /// Whether a request failed because of the server's rate limit, and how
    /// long to wait before sending it again (it is re-queued, not dropped;
    /// its deadline still applies).
    fn retry_after(&self, _error: &RpcError) -> Option<Duration> {
        None
    }

    /// The sequence numbers a notification carries, for channels whose
    /// updates must not be missed (order books). The session tracks them per
    /// channel; a gap resubscribes the channel and reports `Event::Gap`.
    fn sequence(&self, _channel: &str, _data: &RawValue) -> Option<Sequence> {
        None
    }

    /// Requests to send on every (re)connect, before resubscribing (e.g. heartbeat setup).
    fn on_connected(&self) -> Vec<OutgoingRequest> {
        Vec::new()
    }

    /// The rate-limit cost of a request; the default
    /// [`rate_charge`](Self::rate_charge) charges it to [`RateClass::DEFAULT`].
    fn cost(&self, _method: &str) -> u64 {
        1
    }

    /// What to do after a loss. Default: stop on certificate errors (retrying
    /// cannot fix them), reconnect otherwise.
    fn disconnect_policy(&self, reason: &DisconnectReason) -> Policy {
        match reason {
            DisconnectReason::Wire(WireError::Certificate(_)) => Policy::Stop,
            DisconnectReason::Wire(WireError::Proxy(err)) if err.is_permanent() => Policy::Stop,
            _ => Policy::Reconnect,
        }
    }

    /// The service's limits on (un)subscribe requests: bytes per frame,
    /// channels per request, requests per second. The session splits every
    /// subscribe and unsubscribe — first subscriptions and every replay after
    /// a reconnect — into batches that fit, paces them, and reaches `Ready`
    /// only when all are answered (see [`SubscribeLimits`]). Default: no limit.
    fn subscribe_limits(&self) -> SubscribeLimits {
        SubscribeLimits::UNLIMITED
    }

    /// The class a request for `method` is charged to, and its cost there.
    /// Each class has its own token bucket and queue: one waiting for
    /// tokens never delays another. Default: [`cost`](Self::cost) in
    /// [`RateClass::DEFAULT`].
    ///
    /// ```
    /// use wsnova_core::session::{Adapter, Charge, RateClass};
    /// const ORDERS: RateClass = RateClass::new("orders");
    /// struct Exchange;
    /// impl Adapter for Exchange {
    ///     fn rate_charge(&self, method: &str) -> Charge {
    ///         let class = if method == "buy" { ORDERS } else { RateClass::DEFAULT };
    ///         Charge::new(class, 1)
    ///     }
    /// }
    /// assert_eq!(Exchange.rate_charge("buy").class, ORDERS);
    /// ```
    fn rate_charge(&self, method: &str) -> Charge {
        Charge::new(RateClass::DEFAULT, self.cost(method))
    }

    /// The limits the service documents, per class: enforced by default
    /// (the configuration's [`RateLimits`](super::RateLimits) may override
    /// or lift them). Default: none, no class is limited.
    fn default_rate_limits(&self) -> Vec<(RateClass, RateLimitConfig)> {
        Vec::new()
    }

    /// Whether this refusal ends the server's session (Deribit's 10028: "the
    /// session is terminated"). The session then drops the connection at
    /// once, spends every token, reconnects after the
    /// [`disconnect_policy`](Self::disconnect_policy) for
    /// [`DisconnectReason::SessionEnded`], restores auth and subscriptions,
    /// and sends the request again there (its deadline still applies).
    fn ends_session(&self, _error: &RpcError) -> bool {
        false
    }

    /// Whether a request ends the session on the server's side (e.g.
    /// Deribit's `private/logout`, after which the server closes the
    /// connection). Once such a request is written, the session stops
    /// sending the application's requests and waits for the server to close
    /// (at most `close_timeout`, then it closes the socket itself); the
    /// session then ends with `CloseReason::User`, never reconnecting.
    /// Without a response first, the request's outcome is a `null` result;
    /// a response (e.g. a refusal) is its outcome as usual, and the session
    /// still ends. Default: none.
    fn is_terminal(&self, _method: &str) -> bool {
        false
    }

    /// The id a [`Pool`](crate::pool::Pool) deduplicates `channel`'s
    /// updates by while it hands the channel from one connection to another
    /// (make-before-break rotation; see [`delivery`](crate::pool::delivery)).
    /// Only the pool reads it: unlike [`sequence`](Self::sequence), a jump
    /// in these ids never makes the session resubscribe. `previous` is the
    /// id of the update this one follows (`id - 1` for ids that only grow,
    /// the stream's own link where it has one). Default: [`sequence`](Self::sequence).
    ///
    /// ```
    /// use serde_json::value::RawValue;
    /// use wsnova_core::session::{Adapter, Sequence};
    /// /// Trades numbered by `t`: deduplicated across a rotation, never resynced.
    /// struct Trades;
    /// impl Adapter for Trades {
    ///     fn update_id(&self, _channel: &str, data: &RawValue) -> Option<Sequence> {
    ///         let v: serde_json::Value = serde_json::from_str(data.get()).ok()?;
    ///         let id = v["t"].as_u64()?;
    ///         Some(Sequence { id, previous: id.checked_sub(1) })
    ///     }
    /// }
    /// let data: Box<RawValue> = serde_json::from_str(r#"{"t":7}"#).unwrap();
    /// assert_eq!(Trades.update_id("x", &data), Some(Sequence { id: 7, previous: Some(6) }));
    /// assert_eq!(Trades.sequence("x", &data), None);
    /// ```
    fn update_id(&self, channel: &str, data: &RawValue) -> Option<Sequence> {
        self.sequence(channel, data)
    }
}

/// Plain WebSocket: no protocol on top. Every message (text or binary) is
/// delivered as `Event::Message`; nothing is read as a response or a
/// notification, there are no subscriptions and no authentication. You still
/// get everything the session does below the protocol: reconnects with
/// backoff, pings and half-open detection, send queues while disconnected.
///
/// Use it for echo and chat servers, for protocols you parse yourself, or to
/// see a service's raw messages before writing an adapter for it.
///
/// ```
/// use wsnova_core::session::{Adapter, Inbound, Plain};
/// // Even a well-formed JSON-RPC response is just a message.
/// assert!(matches!(Plain.classify(r#"{"jsonrpc":"2.0","id":1,"result":2}"#), Inbound::Other));
/// assert!(Plain.subscribe_request(&["a".into()], false).is_none());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Adapter for Plain {
    fn classify<'a>(&self, _text: &'a str) -> Inbound<'a> {
        Inbound::Other
    }
}

#[cfg(test)]
#[path = "adapter_tests.rs"]
mod tests;
