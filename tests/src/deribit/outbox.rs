//! A connection's outgoing messages: responses (possibly delayed by a fault,
//! in order) and notifications, and the drop-after-sent fault.

use std::collections::VecDeque;
use std::time::Instant;

use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;

use super::armed::ArmedFaults;

/// What a flush did besides sending.
#[derive(Debug, Default)]
pub(crate) struct Flushed {
    /// Responses newly held back by a delay fault.
    pub delayed: usize,
    /// The drop-after-sent fault fired: drop the connection now.
    pub drop: bool,
}

/// Queued outgoing messages.
#[derive(Default)]
pub(crate) struct Outbox {
    /// (text, is a response), in order.
    queue: Vec<(String, bool)>,
    delayed: VecDeque<(Instant, String)>,
    /// Something (a pong, a close reply) waits in tungstenite's buffer.
    pub flush_needed: bool,
}

impl Outbox {
    /// Queues a response.
    pub(crate) fn response(&mut self, text: String) {
        self.queue.push((text, true));
    }

    /// Queues a notification or heartbeat.
    pub(crate) fn notification(&mut self, text: String) {
        self.queue.push((text, false));
    }

    /// When the first delayed response is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.delayed.front().map(|d| d.0)
    }

    /// Forgets what is queued (a stalled connection sends nothing).
    pub(crate) fn clear(&mut self) {
        self.queue.clear();
    }

    /// Sends what is queued and due.
    pub(crate) async fn flush(
        &mut self,
        ws: &mut WebSocketStream<TcpStream>,
        faults: &mut ArmedFaults,
    ) -> Result<Flushed, tungstenite::Error> {
        let now = Instant::now();
        let mut flushed = Flushed::default();
        let mut ready = Vec::new();
        for (text, response) in std::mem::take(&mut self.queue) {
            if response {
                if let Some(d) = faults.response_delay() {
                    let due = self.delayed.back().map_or(now + d, |b| b.0.max(now + d));
                    self.delayed.push_back((due, text));
                    flushed.delayed += 1;
                    continue;
                } else if let Some(&(due, _)) = self.delayed.back() {
                    // Behind a delayed response: keep the order.
                    self.delayed.push_back((due, text));
                    continue;
                }
            }
            ready.push(text);
        }
        while self.delayed.front().is_some_and(|d| d.0 <= now) {
            ready.extend(self.delayed.pop_front().map(|d| d.1));
        }
        if ready.is_empty() && !std::mem::take(&mut self.flush_needed) {
            return Ok(flushed);
        }
        for text in ready {
            ws.feed(Message::text(text)).await?;
            if faults.on_sent() {
                flushed.drop = true;
                break;
            }
        }
        ws.flush().await?;
        Ok(flushed)
    }
}
