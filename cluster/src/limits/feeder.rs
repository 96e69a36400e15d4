//! The permit feeder: the driver side of a shared class. It reads what the
//! session needs, asks the [`SharedLimiter`] and grants the answer to the
//! session, whose core decides what leaves.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use wsnova_core::session::{RateClass, SessionError};
use wsnova_tokio::Client;

use super::key::LimitKey;
use super::limiter::SharedLimiter;
use super::share::Quota;

/// A class a client shares with other nodes: its key and its quota.
#[derive(Debug, Clone)]
pub struct SharedClass {
    /// The session's class.
    pub class: RateClass,
    /// The Redis key of the shared quota.
    pub key: LimitKey,
    /// The quota (the same on every node).
    pub quota: Quota,
}

/// How a feeder asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeederConfig {
    /// How often an idle class is checked for new demand (the most a
    /// request of a shared class waits before its permits are asked for).
    pub idle_poll: Duration,
    /// The most permits asked for at once (`None`: the quota's burst
    /// divided by the number of nodes), so one node's backlog does not
    /// take the whole burst.
    pub max_batch: Option<u64>,
    /// The longest wait between two asks while permits are refused.
    pub max_wait: Duration,
}

impl Default for FeederConfig {
    /// Poll idle classes every 2 ms, batches of a node's share of the
    /// burst, ask again at least every 500 ms.
    fn default() -> Self {
        FeederConfig {
            idle_poll: Duration::from_millis(2),
            max_batch: None,
            max_wait: Duration::from_millis(500),
        }
    }
}

/// Feeds a client's shared classes with permits from a [`SharedLimiter`],
/// one task per class, until the client closes or the feeder is dropped.
///
/// ```no_run
/// # async fn demo(client: wsnova_tokio::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use wsnova_cluster::limits::*;
/// use wsnova_core::session::RateClass;
/// let limiter = Arc::new(SharedLimiter::new("redis://127.0.0.1:6379/", LimiterConfig { nodes: 3, ..Default::default() })?);
/// let class = SharedClass {
///     class: RateClass::DEFAULT,
///     key: LimitKey::new("deribit", Scope::Account("alice".into()), RateClass::DEFAULT),
///     quota: Quota::new(50_000, 10_000, Duration::from_secs(1))?,
/// };
/// let _feeder = PermitFeeder::start(&client, limiter, vec![class], FeederConfig::default())?;
/// // requests of the default class now leave only with permits from Redis
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PermitFeeder {
    tasks: Vec<JoinHandle<()>>,
}

impl PermitFeeder {
    /// Makes each class shared on `client` and starts feeding it. Must be
    /// called inside a tokio runtime. Fails with `Closed` if the client is.
    pub fn start(
        client: &Client,
        limiter: Arc<SharedLimiter>,
        classes: Vec<SharedClass>,
        config: FeederConfig,
    ) -> Result<Self, SessionError> {
        let mut tasks = Vec::with_capacity(classes.len());
        for shared in classes {
            client.share_rate_class(shared.class)?;
            let (client, limiter) = (client.clone(), limiter.clone());
            tasks.push(tokio::spawn(feed(client, limiter, shared, config)));
        }
        Ok(PermitFeeder { tasks })
    }

    /// Stops feeding (the classes stay shared: what waits keeps waiting).
    pub fn stop(self) {}
}

impl Drop for PermitFeeder {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One class's loop.
async fn feed(
    client: Client,
    limiter: Arc<SharedLimiter>,
    shared: SharedClass,
    config: FeederConfig,
) {
    let nodes = u64::from(limiter.config().nodes.max(1));
    let batch = config
        .max_batch
        .unwrap_or(shared.quota.capacity() / nodes)
        .max(1);
    loop {
        let Ok(demand) = client.rate_permits_wanted(shared.class) else {
            return; // closed
        };
        if demand.wanted == 0 {
            tokio::time::sleep(config.idle_poll).await;
            continue;
        }
        let at_least = demand.at_least.max(1);
        let wanted = demand.wanted.min(batch).max(at_least);
        let grant = limiter
            .acquire(&shared.key, shared.quota, at_least, wanted)
            .await;
        if grant.granted > 0 {
            if !grant.usable_after.is_zero() {
                tokio::time::sleep(grant.usable_after).await; // reserved
            }
            if client
                .grant_rate_permits(shared.class, grant.granted)
                .is_err()
            {
                return;
            }
            continue;
        }
        if grant.retry_after == Duration::MAX {
            tracing::warn!(class = %shared.class, at_least, "a request costs more than the shared burst: it never leaves");
        }
        tokio::time::sleep(
            grant
                .retry_after
                .min(config.max_wait)
                .max(Duration::from_micros(100)),
        )
        .await;
    }
}
