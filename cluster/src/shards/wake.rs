//! Being woken by other nodes (a release, a join) through Redis pub/sub, so
//! shards change hands at once rather than at the next round; optionally
//! also by Redis itself when a lease expires (keyspace notifications).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The keyspace-notification channels of expired keys, in any database.
const EXPIRED: &str = "__keyevent@*__:expired";

/// What the listener listens for.
pub(crate) struct Listen {
    /// The wake channel.
    pub channel: String,
    /// This node's id: its own wake messages are ignored.
    pub me: String,
    /// With expiry events: the lease-key prefix (`{prefix}:shard:`).
    pub expired_prefix: Option<String>,
}

/// Listens and notifies `wake` for every message not sent by this node
/// (and every expired lease key); reconnects every `retry` while Redis is
/// away.
pub(crate) fn spawn(
    client: redis::Client,
    listen: Listen,
    wake: Arc<Notify>,
    retry: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Ok(mut pubsub) = client.get_async_pubsub().await {
                let mut ok = pubsub.subscribe(&listen.channel).await.is_ok();
                if listen.expired_prefix.is_some() {
                    ok = ok && pubsub.psubscribe(EXPIRED).await.is_ok();
                }
                if ok {
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let payload: String = msg.get_payload().unwrap_or_default();
                        let wanted = if msg.get_channel_name() == listen.channel {
                            payload != listen.me
                        } else {
                            listen
                                .expired_prefix
                                .as_deref()
                                .is_some_and(|p| payload.starts_with(p))
                        };
                        if wanted {
                            wake.notify_one();
                        }
                    }
                }
            }
            tokio::time::sleep(retry).await;
        }
    })
}

/// Turns on Redis's expired-key events (`notify-keyspace-events` gains
/// `E` and `x`, keeping the flags already set). Fails where `CONFIG` is
/// not allowed.
pub(crate) async fn enable_expiry_events(
    con: &mut redis::aio::ConnectionManager,
) -> redis::RedisResult<()> {
    let (_, flags): (String, String) = redis::cmd("CONFIG")
        .arg("GET")
        .arg("notify-keyspace-events")
        .query_async(con)
        .await?;
    let has_expired = flags.contains('x') || flags.contains('A');
    if flags.contains('E') && has_expired {
        return Ok(());
    }
    let mut wanted = flags;
    for flag in ['E', 'x'] {
        if !wanted.contains(flag) {
            wanted.push(flag);
        }
    }
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("notify-keyspace-events")
        .arg(wanted)
        .exec_async(con)
        .await
}
