//! Platform adapters for wsnova (plain WebSocket with no protocol on top is
//! [`Plain`](wsnova_core::session::Plain), in the core): how a service encodes requests and
//! subscriptions and how its messages are classified (see
//! [`wsnova_core::session::Adapter`]).
//!
//! - [`JsonRpc`]: any JSON-RPC 2.0 service. Responses are matched to requests
//!   by id, notifications become `Event::Notification`, and subscriptions are
//!   replayed after every reconnect when the service has a channel-list
//!   subscribe method.
//! - [`Deribit`]: Deribit's API v2 — auth (credentials or signature) with
//!   token refresh, heartbeats, public/private subscriptions, order book gap
//!   detection, credit-based rate limits and typed calls ([`deribit::calls`]).
//!
//! - [`Binance`]: Binance's spot and USD-M futures market streams (raw and
//!   combined), its WebSocket API with HMAC-SHA256 and Ed25519 signing, typed
//!   stream events and a local order book ([`binance::OrderBook`]).
//!
//! ```
//! use wsnova_adapters::{JsonRpc, SubscriptionStyle};
//!
//! // A Deribit-like service: `public/subscribe {"channels": [...]}`, data in
//! // `{"method":"subscription","params":{"channel":…,"data":…}}`.
//! let adapter = JsonRpc::new()
//!     .with_subscriptions(SubscriptionStyle::channel_list("public/subscribe", "public/unsubscribe"))
//!     .with_subscription_method("subscription")
//!     .with_private_prefix("user.");
//! # let _ = adapter;
//! ```

#![forbid(unsafe_code)]

pub mod binance;
pub mod deribit;
pub mod json_rpc;

pub use binance::Binance;
pub use deribit::Deribit;
pub use json_rpc::{JsonRpc, SubscriptionStyle, rpc_error_code};
