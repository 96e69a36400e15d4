//! [`SubscribeLimits`]: what an adapter declares about its service's
//! (un)subscribe requests. The session's `batches` module applies them.

/// The limits a service puts on subscribe and unsubscribe requests, declared
/// by [`Adapter::subscribe_limits`](super::Adapter::subscribe_limits). `None`
/// means no limit; the default has none.
///
/// The session splits every (un)subscribe request — first subscriptions,
/// every replay after a reconnect, resubscriptions after a gap — into
/// batches whose *encoded* request (envelope, id, method and params, as
/// [`encode_request`](super::Adapter::encode_request) and the codec make
/// it) fits, private and public channels apart (private first). A channel
/// that cannot fit even alone is refused with `Event::SubscriptionFailed`.
/// Batches are paced to `max_requests_per_second` in any one-second window
/// (kept across reconnects), each is confirmed on its own, and the restore
/// after a reconnect ends (`Ready`) only when every batch is answered.
///
/// ```
/// use wsnova_core::session::{Adapter, OutgoingRequest, SubscribeLimits};
///
/// /// A service that refuses frames over 16 kB and takes 100 channels per request.
/// struct Topics;
/// impl Adapter for Topics {
///     fn subscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
///         let params = serde_json::json!({ "topics": channels }).to_string();
///         Some(OutgoingRequest::new("sub", params))
///     }
///     fn subscribe_limits(&self) -> SubscribeLimits {
///         SubscribeLimits::default()
///             .with_max_frame_bytes(16 * 1024)
///             .with_max_channels_per_request(100)
///             .with_max_requests_per_second(5)
///     }
/// }
/// assert_eq!(Topics.subscribe_limits().max_channels_per_request, Some(100));
/// assert_eq!(SubscribeLimits::default(), SubscribeLimits::UNLIMITED);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubscribeLimits {
    /// The largest encoded request the service accepts, in bytes (the whole
    /// message: envelope, id, method and params).
    pub max_frame_bytes: Option<usize>,
    /// The most channels in one request (0 counts as 1).
    pub max_channels_per_request: Option<usize>,
    /// The most (un)subscribe requests in any one second (0 counts as 1).
    pub max_requests_per_second: Option<u32>,
}

impl SubscribeLimits {
    /// No limit at all (the default).
    pub const UNLIMITED: SubscribeLimits = SubscribeLimits {
        max_frame_bytes: None,
        max_channels_per_request: None,
        max_requests_per_second: None,
    };

    /// Sets [`max_frame_bytes`](Self::max_frame_bytes).
    pub const fn with_max_frame_bytes(mut self, bytes: usize) -> Self {
        self.max_frame_bytes = Some(bytes);
        self
    }

    /// Sets [`max_channels_per_request`](Self::max_channels_per_request).
    pub const fn with_max_channels_per_request(mut self, channels: usize) -> Self {
        self.max_channels_per_request = Some(channels);
        self
    }

    /// Sets [`max_requests_per_second`](Self::max_requests_per_second).
    pub const fn with_max_requests_per_second(mut self, requests: u32) -> Self {
        self.max_requests_per_second = Some(requests);
        self
    }
}
