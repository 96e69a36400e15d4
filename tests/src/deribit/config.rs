//! Configuration of the mock exchange: accounts, tokens, limits, heartbeat,
//! timing of the market data and random faults.

use std::collections::BTreeMap;
use std::time::Duration;

/// The `client_id` of the account every default [`MockConfig`] has.
pub const DEFAULT_CLIENT_ID: &str = "mock-client";

/// The `client_secret` of [`DEFAULT_CLIENT_ID`].
pub const DEFAULT_CLIENT_SECRET: &str = "mock-secret";

/// Deribit's rate limits ("Rate Limits" article): credits for
/// non-matching-engine requests, and a separate, tiered bucket for
/// matching-engine requests (orders, edits, cancels). One set of buckets per
/// account once a connection is authenticated, one per connection before.
/// A request that finds its bucket empty is answered with 10028
/// `too_many_requests` and the session is terminated (the connection is
/// closed), as Deribit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Bucket size in credits (the burst).
    pub bucket: u64,
    /// Credits added back per second.
    pub refill_per_sec: u64,
    /// Cost of an ordinary request.
    pub cost: u64,
    /// Cost of `public/subscribe` and `private/subscribe`.
    pub subscribe_cost: u64,
    /// Matching-engine requests per second, sustained (the account's tier).
    pub matching_engine_rate: u64,
    /// Matching-engine requests in a burst.
    pub matching_engine_burst: u64,
}

impl Default for RateLimits {
    /// 50,000 credits, 10,000/s, 500 per request, 3,000 per subscribe; the
    /// matching engine at Tier 4 (every account's starting tier): 5 per
    /// second, bursts of 20.
    fn default() -> Self {
        RateLimits {
            bucket: 50_000,
            refill_per_sec: 10_000,
            cost: 500,
            subscribe_cost: 3_000,
            matching_engine_rate: 5,
            matching_engine_burst: 20,
        }
    }
}

impl RateLimits {
    /// These limits with the matching engine at `rate` per second and
    /// `burst` (Deribit's tiers: 30/100, 20/50, 10/30, 5/20).
    pub fn with_matching_engine(mut self, rate: u64, burst: u64) -> Self {
        self.matching_engine_rate = rate;
        self.matching_engine_burst = burst;
        self
    }
}

/// Faults injected at random, reproducibly from [`MockConfig::seed`] (each
/// connection draws from its own generator seeded with the seed and its id).
/// The default injects nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Chaos {
    /// Drop each connection at a uniformly random time within this window
    /// after it is established.
    pub drop_within: Option<Duration>,
    /// Probability, per received message, that the connection is dropped
    /// instead of the message being handled.
    pub drop_per_message: f64,
    /// Probability, per received message, that the connection stalls
    /// (half-open: no more reading, no more sending) instead.
    pub stall_per_message: f64,
    /// Probability, per request, that its response is delayed by a random
    /// duration up to [`max_delay`](Self::max_delay).
    pub delay_per_request: f64,
    /// Upper bound of a random response delay.
    pub max_delay: Duration,
    /// Probability, per book change notification, that it is lost (the next
    /// one's `prev_change_id` then names a change the client never saw).
    pub gap_per_change: f64,
    /// Probability, per request, that it is answered with
    /// [`error_code`](Self::error_code) instead of being handled.
    pub error_per_request: f64,
    /// The error code of random request failures.
    pub error_code: i64,
    /// Probability that a new TCP connection is accepted and closed at once.
    pub refuse_per_connection: f64,
}

impl Default for Chaos {
    fn default() -> Self {
        Chaos {
            drop_within: None,
            drop_per_message: 0.0,
            stall_per_message: 0.0,
            delay_per_request: 0.0,
            max_delay: Duration::ZERO,
            gap_per_change: 0.0,
            error_per_request: 0.0,
            error_code: 13028,
            refuse_per_connection: 0.0,
        }
    }
}

/// How a [`MockDeribit`](super::MockDeribit) behaves. Fields are public: use
/// struct update syntax over [`MockConfig::default`].
#[derive(Debug, Clone, PartialEq)]
pub struct MockConfig {
    /// Port on 127.0.0.1 to listen on; 0 (the default) picks an ephemeral one.
    pub port: u16,
    /// API keys: `client_id` → `client_secret`. The default has one,
    /// [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`].
    pub accounts: BTreeMap<String, String>,
    /// Lifetime of access tokens (`expires_in`), unless the `auth` request
    /// asks for `expires:N`. Default 900 s.
    pub token_lifetime: Duration,
    /// How far a `client_signature` timestamp may be from the server's wall
    /// clock (default 60 s); `None` accepts any timestamp (for fixed test
    /// vectors).
    pub signature_window: Option<Duration>,
    /// Rate limits (credits and the matching-engine tier); `None` disables
    /// rate limiting.
    pub rate_limits: Option<RateLimits>,
    /// Largest client message accepted (default 32 kB); larger ones are
    /// answered with -32600 and the connection is closed (1009).
    pub max_frame_bytes: usize,
    /// Close connections that leave a `test_request` unanswered (default on).
    pub heartbeat_enforced: bool,
    /// Smallest `public/set_heartbeat` interval accepted (Deribit: 10 s);
    /// tests may lower it, e.g. to 1 s.
    pub min_heartbeat_interval: Duration,
    /// Emit `usIn`/`usOut`/`usDiff` as strings instead of integers.
    pub timestamps_as_strings: bool,
    /// Seed of the market simulation and of [`chaos`](Self::chaos).
    pub seed: u64,
    /// Faults injected at random (none by default).
    pub chaos: Chaos,
    /// Period of the market simulation step and of `raw` channels
    /// (default 20 ms).
    pub raw_interval: Duration,
    /// Most [`RequestRecord`](super::RequestRecord)s kept in
    /// [`Stats::requests`](super::Stats::requests) (per-method counts are
    /// always kept). Default 100,000.
    pub request_log_limit: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        let mut accounts = BTreeMap::new();
        accounts.insert(
            DEFAULT_CLIENT_ID.to_owned(),
            DEFAULT_CLIENT_SECRET.to_owned(),
        );
        MockConfig {
            port: 0,
            accounts,
            token_lifetime: Duration::from_secs(900),
            signature_window: Some(Duration::from_secs(60)),
            rate_limits: Some(RateLimits::default()),
            max_frame_bytes: 32 * 1024,
            heartbeat_enforced: true,
            min_heartbeat_interval: Duration::from_secs(10),
            timestamps_as_strings: false,
            seed: 0x5eed_de71,
            chaos: Chaos::default(),
            raw_interval: Duration::from_millis(20),
            request_log_limit: 100_000,
        }
    }
}

impl MockConfig {
    /// Adds (or replaces) an API key.
    pub fn with_account(mut self, client_id: &str, client_secret: &str) -> Self {
        self.accounts
            .insert(client_id.to_owned(), client_secret.to_owned());
        self
    }

    /// Disables rate limiting.
    pub fn without_rate_limits(mut self) -> Self {
        self.rate_limits = None;
        self
    }
}
