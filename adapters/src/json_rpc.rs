//! [`JsonRpc`]: a configurable adapter for any JSON-RPC 2.0 service.
//!
//! - **Requests** are encoded as JSON-RPC 2.0 (the core's default).
//! - **Responses** are matched by `id`. A `result` (including `null`) becomes
//!   `Event::Response`; an `error` object becomes
//!   `Event::RequestFailed { error: RequestError::Rejected(RpcError { code, message, data }) }`
//!   (read the code with [`rpc_error_code`]).
//! - **Notifications** (`{"method": …, "params": …}` without an id) become
//!   `Event::Notification`: by default the channel is the `method` and the data
//!   is `params`. With a subscription envelope
//!   ([`with_notification_envelope`](JsonRpc::with_notification_envelope)),
//!   notifications of that method carry the channel and the data inside
//!   `params`. The data is never parsed: it is a slice of the received message.
//! - **Subscriptions** are replayed after every reconnect when the service has
//!   subscribe/unsubscribe methods ([`SubscriptionStyle`]).
//! - Anything else (malformed JSON, arrays, unknown shapes) is delivered as
//!   `Event::Message`.
//!
//! An Ethereum node: subscribe with a plain request
//! (`eth_subscribe ["newHeads"]`, whose result is a subscription id); its
//! notifications then arrive with the subscription id as the channel.
//!
//! ```
//! use wsnova_adapters::JsonRpc;
//! use wsnova_core::session::{Adapter, Inbound};
//!
//! let eth = JsonRpc::new().with_notification_envelope("eth_subscription", "subscription", "result");
//! let text = r#"{"jsonrpc":"2.0","method":"eth_subscription",
//!     "params":{"subscription":"0x9ce5","result":{"number":"0x1b4"}}}"#;
//! match eth.classify(text) {
//!     Inbound::Notification { channel, data } => {
//!         assert_eq!(channel, "0x9ce5");
//!         assert_eq!(data.get(), r#"{"number":"0x1b4"}"#);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

pub(crate) mod envelope;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use wsnova_core::session::{Adapter, Codec, Inbound, OutgoingRequest, RequestError};

/// How a service subscribes to channels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SubscriptionStyle {
    /// No subscription methods (the default). Notifications still arrive;
    /// subscribe with plain requests if the service needs them.
    #[default]
    None,
    /// Deribit-like: `subscribe {"channels": [...]}`, whose result is the list
    /// of channels the server confirmed; `unsubscribe` takes the same params.
    ChannelList {
        /// The subscribe method (e.g. `public/subscribe`).
        subscribe: String,
        /// The unsubscribe method (e.g. `public/unsubscribe`).
        unsubscribe: String,
    },
}

impl SubscriptionStyle {
    /// [`ChannelList`](Self::ChannelList) with these method names.
    pub fn channel_list(subscribe: impl Into<String>, unsubscribe: impl Into<String>) -> Self {
        SubscriptionStyle::ChannelList {
            subscribe: subscribe.into(),
            unsubscribe: unsubscribe.into(),
        }
    }
}

/// Where a subscription notification keeps its channel and data.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NotificationEnvelope {
    method: String,
    channel_key: String,
    data_key: String,
}

/// A JSON-RPC 2.0 adapter, configured with a builder. See the
/// [module docs](self) for what it does with each kind of message.
///
/// ```
/// use wsnova_adapters::{JsonRpc, SubscriptionStyle};
/// use wsnova_core::session::{Adapter, RequestId};
///
/// let adapter = JsonRpc::new()
///     .with_subscriptions(SubscriptionStyle::channel_list("public/subscribe", "public/unsubscribe"))
///     .with_private_prefix("user.")
///     .with_cost("public/get_order_book", 5);
///
/// let sub = adapter.subscribe_request(&["ticker.BTC".into()], false).unwrap();
/// let mut out = String::new();
/// adapter.encode_request(RequestId(1), &sub.method, &sub.params, &mut out);
/// assert_eq!(
///     out,
///     r#"{"jsonrpc":"2.0","id":1,"method":"public/subscribe","params":{"channels":["ticker.BTC"]}}"#
/// );
/// assert!(adapter.is_private("user.orders") && !adapter.is_private("ticker.BTC"));
/// assert_eq!((adapter.cost("public/get_order_book"), adapter.cost("public/test")), (5, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonRpc {
    subscriptions: SubscriptionStyle,
    envelope: Option<NotificationEnvelope>,
    private_prefix: Option<String>,
    costs: Vec<(String, u64)>,
    default_cost: u64,
    codec: Codec,
}

impl Default for JsonRpc {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonRpc {
    /// Plain JSON-RPC 2.0: no subscriptions, notifications keyed by method,
    /// no private channels, every request costs 1.
    pub fn new() -> Self {
        JsonRpc {
            subscriptions: SubscriptionStyle::None,
            envelope: None,
            private_prefix: None,
            costs: Vec::new(),
            default_cost: 1,
            codec: Codec::Json,
        }
    }

    /// Sets how messages travel: JSON in text messages (the default) or
    /// MessagePack in binary messages (see [`Codec`]).
    ///
    /// ```
    /// use wsnova_adapters::JsonRpc;
    /// use wsnova_core::session::{Adapter, Codec};
    /// let adapter = JsonRpc::new().with_codec(Codec::MessagePack);
    /// assert_eq!(adapter.codec(), Codec::MessagePack);
    /// ```
    pub fn with_codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Sets how channels are subscribed and unsubscribed.
    pub fn with_subscriptions(mut self, style: SubscriptionStyle) -> Self {
        self.subscriptions = style;
        self
    }

    /// Notifications of `method` carry `{"channel": …, "data": …}` in their
    /// params: the same as
    /// [`with_notification_envelope(method, "channel", "data")`](Self::with_notification_envelope).
    pub fn with_subscription_method(self, method: impl Into<String>) -> Self {
        self.with_notification_envelope(method, "channel", "data")
    }

    /// Notifications of `method` carry the channel (a string without escape
    /// sequences) under `channel_key` and the data under `data_key` of their
    /// params, e.g.
    /// `("eth_subscription", "subscription", "result")` for Ethereum nodes.
    /// Such a notification without both keys is delivered as a message.
    /// Notifications of other methods keep the method as their channel.
    ///
    /// ```
    /// use wsnova_adapters::JsonRpc;
    /// use wsnova_core::session::{Adapter, Inbound};
    ///
    /// let adapter = JsonRpc::new().with_notification_envelope("subscription", "channel", "data");
    /// let text = r#"{"method":"subscription","params":{"channel":"ticker.BTC","data":{"p":1.5}}}"#;
    /// let Inbound::Notification { channel, data } = adapter.classify(text) else { panic!() };
    /// assert_eq!((channel, data.get()), ("ticker.BTC", r#"{"p":1.5}"#));
    /// // Other methods: the method is the channel, params are the data.
    /// let Inbound::Notification { channel, data } = adapter.classify(r#"{"method":"heartbeat","params":{}}"#)
    /// else { panic!() };
    /// assert_eq!((channel, data.get()), ("heartbeat", "{}"));
    /// ```
    pub fn with_notification_envelope(
        mut self,
        method: impl Into<String>,
        channel_key: impl Into<String>,
        data_key: impl Into<String>,
    ) -> Self {
        self.envelope = Some(NotificationEnvelope {
            method: method.into(),
            channel_key: channel_key.into(),
            data_key: data_key.into(),
        });
        self
    }

    /// Channels starting with `prefix` are private: subscribed only after
    /// authentication, and first on every reconnect.
    pub fn with_private_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.private_prefix = Some(prefix.into());
        self
    }

    /// The rate-limit cost of `method` (replaces an earlier cost for it).
    pub fn with_cost(mut self, method: impl Into<String>, cost: u64) -> Self {
        let method = method.into();
        self.costs.retain(|(m, _)| *m != method);
        self.costs.push((method, cost));
        self
    }

    /// The rate-limit cost of methods without their own (default 1).
    pub fn with_default_cost(mut self, cost: u64) -> Self {
        self.default_cost = cost;
        self
    }

    fn channels_request(&self, method: &str, channels: &[String]) -> OutgoingRequest {
        #[derive(Serialize)]
        struct Params<'a> {
            channels: &'a [String],
        }
        // Serializing strings cannot fail.
        let params = serde_json::to_string(&Params { channels }).unwrap_or_default();
        OutgoingRequest::new(method, params)
    }
}

impl Adapter for JsonRpc {
    fn codec(&self) -> Codec {
        self.codec
    }

    fn classify<'a>(&self, text: &'a str) -> Inbound<'a> {
        let inbound = wsnova_core::session::classify_json_rpc(text);
        match (&self.envelope, inbound) {
            (Some(env), Inbound::Notification { channel, data }) if channel == env.method => {
                match envelope::unwrap(data, &env.channel_key, &env.data_key) {
                    Some((channel, data)) => Inbound::Notification { channel, data },
                    None => Inbound::Other,
                }
            }
            (_, inbound) => inbound,
        }
    }

    fn is_private(&self, channel: &str) -> bool {
        self.private_prefix
            .as_deref()
            .is_some_and(|p| channel.starts_with(p))
    }

    fn subscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        match &self.subscriptions {
            SubscriptionStyle::ChannelList { subscribe, .. } => {
                Some(self.channels_request(subscribe, channels))
            }
            SubscriptionStyle::None => None,
        }
    }

    fn unsubscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        match &self.subscriptions {
            SubscriptionStyle::ChannelList { unsubscribe, .. } => {
                Some(self.channels_request(unsubscribe, channels))
            }
            SubscriptionStyle::None => None,
        }
    }

    /// The requested channels found in the result list; none if the result is
    /// not a list of strings.
    fn confirmed_channels(&self, requested: &[String], result: &str) -> Vec<String> {
        match &self.subscriptions {
            SubscriptionStyle::ChannelList { .. } => {
                let Ok(confirmed) = serde_json::from_str::<Vec<Channel<'_>>>(result) else {
                    return Vec::new();
                };
                requested
                    .iter()
                    .filter(|r| confirmed.iter().any(|c| c.0 == r.as_str()))
                    .cloned()
                    .collect()
            }
            SubscriptionStyle::None => requested.to_vec(),
        }
    }

    fn cost(&self, method: &str) -> u64 {
        self.costs
            .iter()
            .find(|(m, _)| m == method)
            .map_or(self.default_cost, |(_, c)| *c)
    }
}

/// A channel name from a result, borrowed unless it has escapes.
#[derive(Deserialize)]
struct Channel<'a>(#[serde(borrow)] std::borrow::Cow<'a, str>);

/// The server's error code, if the request was rejected with a JSON-RPC error.
///
/// ```
/// use wsnova_adapters::rpc_error_code;
/// use wsnova_core::session::{RequestError, RpcError};
///
/// let rejected = RequestError::Rejected(RpcError { code: -32601, message: "Method not found".into(), data: None });
/// assert_eq!(rpc_error_code(&rejected), Some(-32601));
/// assert_eq!(rpc_error_code(&RequestError::Timeout), None);
/// ```
pub fn rpc_error_code(error: &RequestError) -> Option<i64> {
    match error {
        RequestError::Rejected(e) => Some(e.code),
        _ => None,
    }
}
