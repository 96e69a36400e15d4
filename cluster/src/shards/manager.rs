//! The background task that keeps a node's leases: a round every
//! `renew_every` (sooner when woken), local expiry when Redis cannot be
//! reached, and a graceful hand-over on shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;

use super::round::{preference, round};
use super::store::{LeaseStore, Ownership};
use super::{Keys, ShardConfig, ShardError, wake};

/// Starts the lease-keeping task of a node.
#[derive(Debug)]
pub struct ShardManager;

/// A running node's leases: watch them, shut down gracefully, or abort (as
/// a crash would).
#[derive(Debug)]
pub struct ShardHandle {
    node: String,
    ownership: watch::Receiver<Ownership>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    waker: JoinHandle<()>,
}

/// A Redis connection whose commands fail within `timeout` (and reconnects
/// in the background), for lease keeping: an answer that comes later than a
/// renewal period is no use.
pub async fn connection(
    client: redis::Client,
    timeout: Duration,
) -> Result<ConnectionManager, ShardError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_max_delay(timeout);
    Ok(ConnectionManager::new_with_config(client, config).await?)
}

impl ShardManager {
    /// Connects (failing if Redis cannot be reached now) and starts keeping
    /// leases as `node`, an id unique to this process (see
    /// [`unique_node_id`]).
    pub async fn start(
        client: redis::Client,
        config: ShardConfig,
        node: &str,
    ) -> Result<ShardHandle, ShardError> {
        let mut con = connection(client.clone(), config.renew_every).await?;
        let keys = Keys::new(&config.prefix);
        let mut expired_prefix = None;
        if config.expiry_wake {
            match wake::enable_expiry_events(&mut con).await {
                Ok(()) => expired_prefix = Some(format!("{}:shard:", config.prefix)),
                Err(e) => tracing::warn!("no expiry events (failover at the next round): {e}"),
            }
        }
        let store = LeaseStore::new(con, keys.clone(), node, config.lease);
        let wake = Arc::new(Notify::new());
        let listen = wake::Listen {
            channel: keys.wake(),
            me: node.to_owned(),
            expired_prefix,
        };
        let waker = wake::spawn(client, listen, Arc::clone(&wake), config.renew_every);
        let (tx, rx) = watch::channel(Ownership::new());
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(run(store, config, tx, wake, stop_rx));
        Ok(ShardHandle {
            node: node.to_owned(),
            ownership: rx,
            stop: Some(stop_tx),
            task,
            waker,
        })
    }
}

/// `name:pid:nanos`: an id no other process (and no earlier run of this
/// one) has, so a restarted node never mistakes an old fence for its own.
pub fn unique_node_id(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{name}:{}:{nanos:x}", std::process::id())
}

impl ShardHandle {
    /// This node's id.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The shards held, updated when the set of shards or a token changes.
    pub fn ownership(&self) -> watch::Receiver<Ownership> {
        self.ownership.clone()
    }

    /// The shards held now.
    pub fn owned(&self) -> Ownership {
        self.ownership.borrow().clone()
    }

    /// Releases every lease that is still ours, leaves the live set and
    /// wakes the other nodes, who take the shards at once (bounded by
    /// `renew_every` when Redis does not answer).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        self.waker.abort();
    }

    /// Stops at once without releasing anything, as a crash would: the
    /// leases run out on their own. The last ownership stays readable from
    /// earlier [`ownership`](Self::ownership) receivers.
    pub fn abort(self) {
        self.task.abort();
        self.waker.abort();
    }
}

impl Drop for ShardHandle {
    fn drop(&mut self) {
        self.task.abort();
        self.waker.abort();
    }
}

/// Whether two ownerships hold the same shards under the same tokens.
fn same(a: &Ownership, b: &Ownership) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((s, l), (t, m))| s == t && l.token == m.token)
}

async fn run(
    mut store: LeaseStore,
    config: ShardConfig,
    tx: watch::Sender<Ownership>,
    wake: Arc<Notify>,
    mut stop: oneshot::Receiver<()>,
) {
    let order = preference(store.node(), config.shards);
    let mut owned = Ownership::new();
    let mut joined = false;
    loop {
        let started = Instant::now();
        // A round may not outlast the earliest lease: by then it is dropped.
        let deadline = owned
            .values()
            .map(|l| l.valid_until)
            .fold(started + config.renew_every, Instant::min);
        let work = round(&mut store, &mut owned, &order);
        match tokio::time::timeout_at(deadline.into(), work).await {
            Ok(Ok(released)) => {
                if released || !joined {
                    joined = true;
                    let _ = store.wake_others().await;
                }
            }
            Ok(Err(e)) => tracing::warn!(node = store.node(), "shard round failed: {e}"),
            Err(_) => tracing::warn!(node = store.node(), "shard round timed out"),
        }
        // Leases we could not renew in time are no longer ours to use.
        let now = Instant::now();
        owned.retain(|_, lease| lease.valid_until > now);
        tx.send_if_modified(|current| {
            let changed = !same(current, &owned);
            *current = owned.clone();
            changed
        });
        let next = owned
            .values()
            .map(|l| l.valid_until)
            .fold(started + config.renew_every, Instant::min);
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = wake.notified() => {}
            _ = &mut stop => break,
        }
    }
    // Graceful: hand everything over now.
    let leave = async {
        for lease in owned.values() {
            let _ = store.release(lease).await;
        }
        let _ = store.leave().await;
        let _ = store.wake_others().await;
    };
    let _ = tokio::time::timeout(config.renew_every, leave).await;
    tx.send_replace(Ownership::new());
}
