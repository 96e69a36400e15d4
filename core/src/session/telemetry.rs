//! Metrics through the `metrics` facade: counters, gauges and histograms,
//! no exporter (without a recorder installed, every call is a no-op). The
//! series are listed in `docs/metrics.md`.
//!
//! Handles are registered once, when the session is created (install the
//! recorder before that), so the per-message paths only bump a handle: no
//! key building, no allocation, no string formatting. Per-method series are
//! registered the first time a method is seen.

use std::collections::HashMap;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, SharedString};

use super::{DisconnectReason, RequestError, RequestId, SessionState};

/// Distinct method labels kept; further methods share the label `other`.
const MAX_METHODS: usize = 128;

/// Every state, in the order of [`state_index`].
const STATES: [&str; 8] = [
    "idle",
    "connecting",
    "authenticating",
    "restoring",
    "ready",
    "closing",
    "backing_off",
    "closed",
];

/// The outcomes of an application request, in the order of [`outcome_index`].
const OUTCOMES: [&str; 7] = [
    "ok",
    "timeout",
    "connection_lost",
    "rate_limited",
    "queue_full",
    "rejected",
    "closed",
];

fn state_index(state: SessionState) -> usize {
    match state {
        SessionState::Idle => 0,
        SessionState::Connecting => 1,
        SessionState::Authenticating => 2,
        SessionState::Restoring => 3,
        SessionState::Ready => 4,
        SessionState::Closing => 5,
        SessionState::BackingOff => 6,
        SessionState::Closed => 7,
    }
}

fn outcome_index(outcome: Result<(), &RequestError>) -> usize {
    match outcome {
        Ok(()) => 0,
        Err(RequestError::Timeout) => 1,
        Err(RequestError::ConnectionLost) => 2,
        Err(RequestError::RateLimited) => 3,
        Err(RequestError::QueueFull) => 4,
        Err(RequestError::Rejected(_)) => 5,
        Err(RequestError::Closed) => 6,
    }
}

/// A short, stable label for why a connection was lost: the variant, never
/// its payload (which may carry a server's text).
pub(crate) fn reason_label(reason: &DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::ConnectFailed(_) => "connect_failed",
        DisconnectReason::ConnectTimeout => "connect_timeout",
        DisconnectReason::TransportClosed(_) => "transport_closed",
        DisconnectReason::Reset(_) => "reset",
        DisconnectReason::Wire(_) => "wire",
        DisconnectReason::ServerClosed(_) => "server_closed",
        DisconnectReason::PongTimeout => "pong_timeout",
        DisconnectReason::IdleTimeout => "idle_timeout",
        DisconnectReason::AuthFailed(_) => "auth_failed",
        DisconnectReason::UserClose => "user_close",
        DisconnectReason::SessionEnded(_) => "session_ended",
    }
}

/// One method's series.
struct MethodMetrics {
    duration: Histogram,
    /// Registered on first use, by [`outcome_index`].
    outcomes: [Option<Counter>; OUTCOMES.len()],
    label: SharedString,
}

/// Last values set on the gauges that are refreshed after every call.
#[derive(Default, PartialEq, Eq, Clone, Copy)]
struct Levels {
    desired: usize,
    confirmed: usize,
    tokens: Option<u64>,
    queued: usize,
}

/// The session's metric handles.
pub(crate) struct Telemetry {
    connection: SharedString,
    connections: Counter,
    messages_in: Counter,
    messages_out: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
    ping_rtt: Histogram,
    subs_desired: Gauge,
    subs_confirmed: Gauge,
    tokens: Gauge,
    queue_depth: Gauge,
    levels: Option<Levels>,
    /// The per-method series, made at the first request (a session that
    /// sends none holds a pointer, not three empty tables).
    methods: Option<Box<Methods>>,
}

/// The per-method series of a session that sent requests.
#[derive(Default)]
struct Methods {
    /// Method name to its index in `list`.
    index: HashMap<String, usize>,
    list: Vec<MethodMetrics>,
    /// Application requests without an outcome yet: id to method index.
    user_requests: HashMap<u64, usize>,
}

impl Telemetry {
    /// Registers the session's series under `connection` (a name, never a URL).
    pub(crate) fn new(connection: &str) -> Self {
        let connection = SharedString::from_shared(std::sync::Arc::from(connection));
        let c = || connection.clone();
        metrics::gauge!("wsnova_state", "connection" => c(), "state" => STATES[state_index(SessionState::Idle)])
            .set(1.0);
        Telemetry {
            connections: metrics::counter!("wsnova_connections_total", "connection" => c()),
            messages_in: metrics::counter!("wsnova_messages_in_total", "connection" => c()),
            messages_out: metrics::counter!("wsnova_messages_out_total", "connection" => c()),
            bytes_in: metrics::counter!("wsnova_bytes_in_total", "connection" => c()),
            bytes_out: metrics::counter!("wsnova_bytes_out_total", "connection" => c()),
            ping_rtt: metrics::histogram!("wsnova_ping_rtt_seconds", "connection" => c()),
            subs_desired: metrics::gauge!("wsnova_subscriptions", "connection" => c(), "state" => "desired"),
            subs_confirmed: metrics::gauge!("wsnova_subscriptions", "connection" => c(), "state" => "confirmed"),
            tokens: metrics::gauge!("wsnova_ratelimit_tokens", "connection" => c()),
            queue_depth: metrics::gauge!("wsnova_ratelimit_queue_depth", "connection" => c()),
            levels: None,
            methods: None,
            connection,
        }
    }

    pub(crate) fn dialed(&self) {
        self.connections.increment(1);
    }

    pub(crate) fn message_in(&self) {
        self.messages_in.increment(1);
    }

    pub(crate) fn message_out(&self) {
        self.messages_out.increment(1);
    }

    pub(crate) fn bytes_in(&self, n: usize) {
        self.bytes_in.increment(n as u64);
    }

    pub(crate) fn bytes_out(&self, n: usize) {
        self.bytes_out.increment(n as u64);
    }

    pub(crate) fn ping_rtt(&self, rtt: Duration) {
        self.ping_rtt.record(rtt.as_secs_f64());
    }

    pub(crate) fn transition(&self, from: SessionState, to: SessionState) {
        // Registered per transition (rare), not held: eight handles
        // would cost every session 128 bytes.
        let gauge = |state| {
            metrics::gauge!(
                "wsnova_state",
                "connection" => self.connection.clone(),
                "state" => STATES[state_index(state)]
            )
        };
        gauge(from).set(0.0);
        gauge(to).set(1.0);
    }

    /// A reconnect was scheduled after a loss (rare: registered here).
    pub(crate) fn reconnect(&self, reason: &DisconnectReason) {
        metrics::counter!(
            "wsnova_reconnects_total",
            "connection" => self.connection.clone(),
            "reason" => reason_label(reason)
        )
        .increment(1);
    }

    /// A sequenced channel skipped updates (rare: registered here).
    pub(crate) fn sequence_gap(&self) {
        metrics::counter!("wsnova_sequence_gaps_total", "connection" => self.connection.clone())
            .increment(1);
    }

    /// Authentication (or a token refresh) failed: `kind` is `rejected`
    /// (refused, retried), `fatal` (refused for good), `timeout` (no
    /// answer) or `token_refused` (the token refused after a refresh).
    pub(crate) fn auth_failure(&self, kind: &'static str) {
        metrics::counter!(
            "wsnova_auth_failures_total",
            "connection" => self.connection.clone(),
            "kind" => kind
        )
        .increment(1);
    }

    /// Subscriptions, tokens and queued items, set only when they changed.
    pub(crate) fn levels(
        &mut self,
        desired: usize,
        confirmed: usize,
        tokens: Option<u64>,
        queued: usize,
    ) {
        let now = Levels {
            desired,
            confirmed,
            tokens,
            queued,
        };
        let before = self.levels.replace(now);
        if before == Some(now) {
            return;
        }
        let before = before.unwrap_or(Levels {
            desired: usize::MAX,
            confirmed: usize::MAX,
            tokens: Some(u64::MAX),
            queued: usize::MAX,
        });
        if before.desired != desired {
            self.subs_desired.set(desired as f64);
        }
        if before.confirmed != confirmed {
            self.subs_confirmed.set(confirmed as f64);
        }
        if let Some(tokens) = tokens
            && before.tokens != Some(tokens)
        {
            self.tokens.set(tokens as f64);
        }
        if before.queued != queued {
            self.queue_depth.set(queued as f64);
        }
    }

    /// The per-method series and the index of `method`'s, registering
    /// them the first time.
    fn method(&mut self, method: &str) -> (&mut Methods, usize) {
        let methods = self.methods.get_or_insert_with(Box::default);
        if let Some(&i) = methods.index.get(method) {
            return (methods, i);
        }
        let label = if methods.list.len() < MAX_METHODS {
            method
        } else if let Some(&i) = methods.index.get("other") {
            return (methods, i);
        } else {
            "other"
        };
        let label = SharedString::from(label.to_owned());
        methods.list.push(MethodMetrics {
            duration: metrics::histogram!(
                "wsnova_request_duration_seconds",
                "connection" => self.connection.clone(),
                "method" => label.clone()
            ),
            outcomes: Default::default(),
            label: label.clone(),
        });
        let i = methods.list.len() - 1;
        methods.index.insert(label.into_owned(), i);
        (methods, i)
    }

    /// A request answered after `rtt` (any request of the core's or the application's).
    pub(crate) fn request_duration(&mut self, method: &str, rtt: Duration) {
        let (methods, i) = self.method(method);
        methods.list[i].duration.record(rtt.as_secs_f64());
    }

    /// An application request was opened; its outcome is counted by [`Self::outcome`].
    pub(crate) fn user_request(&mut self, id: RequestId, method: &str) {
        let (methods, i) = self.method(method);
        methods.user_requests.insert(id.0, i);
    }

    /// An application request's one outcome.
    pub(crate) fn outcome(&mut self, id: RequestId, outcome: Result<(), &RequestError>) {
        let Some(methods) = self.methods.as_deref_mut() else {
            return;
        };
        let Some(i) = methods.user_requests.remove(&id.0) else {
            return;
        };
        let o = outcome_index(outcome);
        let connection = &self.connection;
        let m = &mut methods.list[i];
        m.outcomes[o]
            .get_or_insert_with(|| {
                metrics::counter!(
                    "wsnova_requests_total",
                    "connection" => connection.clone(),
                    "method" => m.label.clone(),
                    "outcome" => OUTCOMES[o]
                )
            })
            .increment(1);
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_names_the_connection_and_nothing_else() {
        let debug = format!("{:?}", super::Telemetry::new("feed"));
        assert_eq!(debug, r#"Telemetry { connection: "feed", .. }"#);
    }
}
