//! `TestRpc`: a small JSON-RPC 2.0 adapter with the conventions of the fake
//! server (a miniature of Deribit's): `public/auth`, `public|private/subscribe`,
//! `subscription` notifications and `heartbeat` test requests.

use serde::Deserialize;
use serde_json::json;
use wsnova_core::session::{
    Adapter, AuthContext, AuthToken, Charge, Credentials, Inbound, OutgoingRequest, RateClass,
    RateLimitConfig, RpcError, Secret, Sequence, classify_json_rpc,
};

/// The JSON-RPC test adapter.
///
/// ```
/// use wsnova_core::session::Adapter;
/// use wsnova_tests::sim::TestRpc;
/// let adapter = TestRpc::default();
/// assert!(adapter.is_private("user.orders"));
/// let sub = adapter.subscribe_request(&["ticker.A".into()], false).unwrap();
/// assert_eq!(sub.method, "public/subscribe");
/// ```
#[derive(Debug, Clone, Default)]
pub struct TestRpc {
    /// Send `public/set_heartbeat` with this interval (seconds) on every connect.
    pub heartbeat_interval: Option<u64>,
    /// Rate-limit cost per method (default 1 for every method).
    pub costs: Vec<(String, u64)>,
    /// Rate-limit classes by method prefix (default: every method in
    /// `RateClass::DEFAULT`).
    pub classes: Vec<(String, RateClass)>,
    /// The limits it declares (`Adapter::default_rate_limits`; default none).
    pub declared_limits: Vec<(RateClass, RateLimitConfig)>,
    /// Error codes that end the server's session (`Adapter::ends_session`).
    pub session_ending_codes: Vec<i64>,
    /// Methods that end the session (`Adapter::is_terminal`): the server's
    /// close is their outcome.
    pub terminal_methods: Vec<String>,
}

#[derive(Deserialize)]
struct SubscriptionParams<'a> {
    #[serde(borrow)]
    channel: &'a str,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

#[derive(Deserialize)]
struct HeartbeatParams<'a> {
    #[serde(borrow, rename = "type")]
    kind: &'a str,
}

#[derive(Deserialize)]
struct AuthResult {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
}

impl Adapter for TestRpc {
    fn classify<'a>(&self, text: &'a str) -> Inbound<'a> {
        match classify_json_rpc(text) {
            Inbound::Notification {
                channel: "subscription",
                data,
            } => match serde_json::from_str::<SubscriptionParams<'_>>(data.get()) {
                Ok(p) => Inbound::Notification {
                    channel: p.channel,
                    data: p.data,
                },
                Err(_) => Inbound::Other,
            },
            Inbound::Notification {
                channel: "heartbeat",
                data,
            } => match serde_json::from_str::<HeartbeatParams<'_>>(data.get()) {
                Ok(p) if p.kind == "test_request" => Inbound::HeartbeatRequest {
                    reply: OutgoingRequest::new("public/test", "{}"),
                },
                _ => Inbound::Other,
            },
            other => other,
        }
    }

    fn is_private(&self, channel: &str) -> bool {
        channel.starts_with("user.")
    }

    fn subscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        let method = if private {
            "private/subscribe"
        } else {
            "public/subscribe"
        };
        Some(OutgoingRequest::new(
            method,
            json!({ "channels": channels }).to_string(),
        ))
    }

    fn unsubscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        let method = if private {
            "private/unsubscribe"
        } else {
            "public/unsubscribe"
        };
        Some(OutgoingRequest::new(
            method,
            json!({ "channels": channels }).to_string(),
        ))
    }

    fn confirmed_channels(&self, _requested: &[String], result: &str) -> Vec<String> {
        serde_json::from_str(result).unwrap_or_default()
    }

    fn auth_request(
        &self,
        credentials: &Credentials,
        context: &AuthContext,
    ) -> Option<OutgoingRequest> {
        let mut params = json!({
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.secret.expose(),
        });
        // The wall clock, when the driver told it (as a signing adapter uses it).
        if let Some(unix_ms) = context.unix_time_ms {
            params["timestamp"] = json!(unix_ms);
        }
        Some(OutgoingRequest::new("public/auth", params.to_string()))
    }

    fn refresh_request(&self, token: &AuthToken) -> Option<OutgoingRequest> {
        let refresh = token.refresh_token.as_ref()?;
        let params = json!({ "grant_type": "refresh_token", "refresh_token": refresh.expose() });
        Some(OutgoingRequest::new("public/auth", params.to_string()))
    }

    fn read_auth(&self, result: &str) -> Result<AuthToken, String> {
        let r: AuthResult = serde_json::from_str(result).map_err(|e| e.to_string())?;
        Ok(AuthToken {
            access_token: Some(Secret::new(r.access_token)),
            refresh_token: r.refresh_token.map(Secret::new),
            expires_in: r.expires_in.map(std::time::Duration::from_secs),
        })
    }

    fn auth_error_is_fatal(&self, error: &RpcError) -> bool {
        error.code == 13004 // invalid credentials
    }

    fn is_token_expired(&self, error: &RpcError) -> bool {
        error.code == 13009
            && error
                .data
                .as_ref()
                .is_some_and(|d| d.as_str().contains("expired"))
    }

    fn retry_after(&self, error: &RpcError) -> Option<std::time::Duration> {
        (error.code == 10028).then_some(std::time::Duration::from_millis(500))
    }

    fn sequence(&self, channel: &str, data: &serde_json::value::RawValue) -> Option<Sequence> {
        if !channel.starts_with("book.") {
            return None;
        }
        #[derive(Deserialize)]
        struct Book {
            change_id: u64,
            prev_change_id: Option<u64>,
        }
        let book: Book = serde_json::from_str(data.get()).ok()?;
        Some(Sequence {
            id: book.change_id,
            previous: book.prev_change_id,
        })
    }

    fn on_connected(&self) -> Vec<OutgoingRequest> {
        self.heartbeat_interval
            .map(|s| {
                OutgoingRequest::new("public/set_heartbeat", json!({ "interval": s }).to_string())
            })
            .into_iter()
            .collect()
    }

    fn cost(&self, method: &str) -> u64 {
        self.costs
            .iter()
            .find(|(m, _)| m == method)
            .map_or(1, |(_, c)| *c)
    }

    fn rate_charge(&self, method: &str) -> Charge {
        let class = self
            .classes
            .iter()
            .find(|(prefix, _)| method.starts_with(prefix.as_str()))
            .map_or(RateClass::DEFAULT, |(_, c)| *c);
        Charge::new(class, self.cost(method))
    }

    fn default_rate_limits(&self) -> Vec<(RateClass, RateLimitConfig)> {
        self.declared_limits.clone()
    }

    fn ends_session(&self, error: &RpcError) -> bool {
        self.session_ending_codes.contains(&error.code)
    }

    fn is_terminal(&self, method: &str) -> bool {
        self.terminal_methods.iter().any(|m| m == method)
    }
}
