//! The [`Adapter`] implementation: each hook delegates to the module that
//! owns its concern.

use std::time::Duration;

use serde_json::value::RawValue;
use wsnova_core::session::{
    Adapter, AuthContext, AuthToken, Charge, Credentials, DisconnectReason, Inbound,
    OutgoingRequest, Policy, RateClass, RateLimitConfig, RpcError, Sequence, SubscribeLimits,
};

use super::calls::{Call, EnableCancelOnDisconnect, SetHeartbeat};
use super::{Deribit, auth, book, classify, retry, subscriptions};

impl Adapter for Deribit {
    fn classify<'a>(&self, text: &'a str) -> Inbound<'a> {
        classify::classify(text)
    }

    fn is_private(&self, channel: &str) -> bool {
        subscriptions::is_private(channel, &self.private_prefixes)
    }

    fn subscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        let method = if private {
            subscriptions::PRIVATE_SUBSCRIBE
        } else {
            subscriptions::PUBLIC_SUBSCRIBE
        };
        Some(subscriptions::channels_request(method, channels))
    }

    fn unsubscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        let method = if private {
            subscriptions::PRIVATE_UNSUBSCRIBE
        } else {
            subscriptions::PUBLIC_UNSUBSCRIBE
        };
        Some(subscriptions::channels_request(method, channels))
    }

    fn confirmed_channels(&self, requested: &[String], result: &str) -> Vec<String> {
        subscriptions::confirmed(requested, result)
    }

    fn auth_request(
        &self,
        credentials: &Credentials,
        context: &AuthContext,
    ) -> Option<OutgoingRequest> {
        Some(auth::request(
            self.auth,
            self.scope.as_deref(),
            &self.signature_data,
            credentials,
            context,
        ))
    }

    fn refresh_request(&self, token: &AuthToken) -> Option<OutgoingRequest> {
        auth::refresh(token)
    }

    fn read_auth(&self, result: &str) -> Result<AuthToken, String> {
        auth::read(result)
    }

    fn auth_error_is_fatal(&self, error: &RpcError) -> bool {
        auth::is_fatal(error)
    }

    fn is_token_expired(&self, error: &RpcError) -> bool {
        auth::is_token_expired(error)
    }

    fn retry_after(&self, error: &RpcError) -> Option<Duration> {
        retry::retry_after(&self.delays, error)
    }

    fn sequence(&self, channel: &str, data: &RawValue) -> Option<Sequence> {
        book::sequence(channel, data)
    }

    /// `public/set_heartbeat` and `private/enable_cancel_on_disconnect`, as
    /// configured. The session sends these after authentication.
    fn on_connected(&self) -> Vec<OutgoingRequest> {
        let mut requests = Vec::new();
        if let Some(interval) = self.heartbeat_secs {
            requests.push(SetHeartbeat { interval }.to_request());
        }
        if let Some(scope) = self.cancel_on_disconnect {
            requests.push(EnableCancelOnDisconnect { scope: Some(scope) }.to_request());
        }
        requests
    }

    fn cost(&self, method: &str) -> u64 {
        self.credits.cost(method)
    }

    fn disconnect_policy(&self, reason: &DisconnectReason) -> Policy {
        retry::disconnect_policy(&self.delays, reason)
    }

    /// Frames under 32 kB with a margin, about 3 subscribe requests per
    /// second ([`SUBSCRIBE_LIMITS`](super::SUBSCRIBE_LIMITS)), unless changed.
    fn subscribe_limits(&self) -> SubscribeLimits {
        self.limits()
    }

    /// Matching-engine requests to their tier's bucket, the rest to the credits.
    fn rate_charge(&self, method: &str) -> Charge {
        self.credits.charge(method)
    }

    /// The documented limits: the credit pool and the account's tier
    /// (by default the starting one, [`Tier::Tier4`](super::Tier::Tier4)).
    fn default_rate_limits(&self) -> Vec<(RateClass, RateLimitConfig)> {
        self.credits.limits()
    }

    /// 10028: Deribit terminates the session.
    fn ends_session(&self, error: &RpcError) -> bool {
        retry::ends_session(error)
    }

    /// `private/logout`: "the WebSocket connection is closed immediately
    /// after the request is processed" (Deribit API v2), so the session
    /// ends with it instead of reconnecting.
    fn is_terminal(&self, method: &str) -> bool {
        method == super::calls::Logout::METHOD
    }
}
