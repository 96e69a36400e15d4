//! [`Echo`]: the adapter for services without a protocol on top of WebSocket.
//!
//! Every text message is delivered to the application as `Event::Message`;
//! nothing is read as a response or a notification, there are no
//! subscriptions and no authentication. You still get everything the session
//! does below the protocol: reconnects with backoff, pings and half-open
//! detection, send queues while disconnected.
//!
//! Use it for echo and chat servers, for protocols you parse yourself, or to
//! see a service's raw messages before writing an adapter for it. Requests sent
//! with `Session::request` are still encoded as JSON-RPC 2.0 but their answers
//! are never matched, so they end in `RequestFailed { Timeout }`: send with
//! `send_text` instead.
//!
//! ```
//! use wsnova_adapters::Echo;
//! use wsnova_core::session::{Adapter, Inbound};
//!
//! // Even a well-formed JSON-RPC response is just a message.
//! assert!(matches!(Echo.classify(r#"{"jsonrpc":"2.0","id":1,"result":2}"#), Inbound::Other));
//! assert!(matches!(Echo.classify("hello"), Inbound::Other));
//! assert!(Echo.subscribe_request(&["a".into()], false).is_none());
//! ```

pub use wsnova_core::session::Echo;
