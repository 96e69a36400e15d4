//! Being woken by other nodes (a release, a join) through Redis pub/sub, so
//! shards change hands at once rather than at the next round.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Listens on `channel` and notifies `wake` for every message not sent by
/// `me`; reconnects every `retry` while Redis is away.
pub(crate) fn spawn(
    client: redis::Client,
    channel: String,
    me: String,
    wake: Arc<Notify>,
    retry: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Ok(mut pubsub) = client.get_async_pubsub().await {
                if pubsub.subscribe(&channel).await.is_ok() {
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let from: String = msg.get_payload().unwrap_or_default();
                        if from != me {
                            wake.notify_one();
                        }
                    }
                }
            }
            tokio::time::sleep(retry).await;
        }
    })
}
