//! Subscription batching: every (un)subscribe request split to fit the
//! service's limits, and paced.
//!
//! The rules, in order:
//!
//! 1. **Everything goes through here**: the application's first
//!    subscriptions, the replay after every reconnect, a resubscription after
//!    a sequence gap, and every unsubscribe.
//! 2. **Private and public channels are never mixed**: each set is split on
//!    its own, private first (they follow authentication).
//! 3. **Packing**: channels keep their order and are packed into requests of
//!    at most [`SubscribeLimits::max_channels_per_request`] channels whose
//!    *encoded* frame — the adapter's
//!    [`encode_request`](super::Adapter::encode_request) output with id,
//!    method and envelope, through its [`codec`](super::Adapter::codec), with
//!    the longest id the session can give — is at most
//!    [`SubscribeLimits::max_frame_bytes`].
//! 4. **A channel that cannot fit alone is refused** at once with
//!    `Event::SubscriptionFailed` naming its size and the limit: it is never
//!    sent, never retried, and never blocks the others.
//! 5. **Pacing**: at most [`SubscribeLimits::max_requests_per_second`]
//!    batches leave in any one-second window, measured on the `now` the
//!    driver passes in (the core reads no clock). The others wait in order;
//!    a timer sends them. The window is kept across reconnects: services
//!    count these limits per account, not per connection.
//!    Channels asked for while a batch of their kind waits its turn join
//!    it (and are split again with it), so many small requests — one per
//!    channel after a burst of sequence gaps — do not each wait for a turn.
//! 6. **Each batch is its own request** with its own confirmation; the
//!    restore after a (re)connect ends — and `Ready` follows — only when
//!    every batch, sent or still waiting, is answered.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::adapter::Adapter;
use super::codec::Encoded;
use super::event::RequestId;
use super::messages::OutgoingRequest;
use super::subscribe_limits::SubscribeLimits;

/// Subscribing or ending subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Subscribe,
    Unsubscribe,
}

/// One request's worth of channels, built and measured, waiting to leave.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) kind: Kind,
    pub(crate) private: bool,
    pub(crate) channels: Vec<String>,
    pub(crate) request: OutgoingRequest,
}

/// A channel set split by [`plan`].
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// The requests, in order; every one fits.
    pub(crate) batches: Vec<Batch>,
    /// Channels whose request alone is too large, with that request's size.
    pub(crate) too_large: Vec<(String, usize)>,
    /// Channels the adapter builds no request for (it has no subscriptions).
    pub(crate) unsupported: Vec<String>,
}

/// The size of `request` on the wire: the adapter's encoding with the
/// longest id the session can give, through its codec.
pub(crate) fn encoded_len(adapter: &dyn Adapter, request: &OutgoingRequest) -> usize {
    let mut text = String::new();
    let id = RequestId(u64::MAX);
    adapter.encode_request(id, &request.method, &request.params, &mut text);
    match adapter.codec().encode(&text) {
        Ok(Encoded::Text(t)) => t.len(),
        Ok(Encoded::Binary(b)) => b.len(),
        Err(_) => text.len(), // not sendable anyway; its deadline ends it
    }
}

/// Splits `channels` (all private or all public) into requests that fit
/// `limits` (rules 3 and 4 of the [module docs](self)).
///
/// A prefix is measured by building and encoding it; the longest prefix that
/// fits is found by bisection between one channel and the most that could
/// fit (each name appears at least once in its request, so the names'
/// lengths bound it), so a replay costs a few encodes per batch, not one per
/// channel. Every batch is checked: it fits even for an adapter whose
/// requests do not grow with their channels.
pub(crate) fn plan(
    adapter: &dyn Adapter,
    limits: &SubscribeLimits,
    kind: Kind,
    private: bool,
    channels: &[String],
) -> Plan {
    let build = |set: &[String]| match kind {
        Kind::Subscribe => adapter.subscribe_request(set, private),
        Kind::Unsubscribe => adapter.unsubscribe_request(set, private),
    };
    let max_channels = limits
        .max_channels_per_request
        .map_or(usize::MAX, |n| n.max(1));
    let mut plan = Plan::default();
    let mut rest = channels;
    while !rest.is_empty() {
        let mut cap = rest.len().min(max_channels);
        let Some(max_bytes) = limits.max_frame_bytes else {
            let Some(request) = build(&rest[..cap]) else {
                plan.unsupported.extend_from_slice(rest);
                break;
            };
            plan.batches
                .push(batch(kind, private, &rest[..cap], request));
            rest = &rest[cap..];
            continue;
        };
        // The most channels whose names alone fit (at least one).
        let mut names = 0;
        let by_names = rest[..cap]
            .iter()
            .take_while(|c| {
                names += c.len();
                names <= max_bytes
            })
            .count();
        cap = cap.min(by_names.max(1));
        let measure = |n: usize| build(&rest[..n]).map(|r| (encoded_len(adapter, &r), r));
        let Some((size, request)) = measure(cap) else {
            plan.unsupported.extend_from_slice(rest);
            break;
        };
        if size <= max_bytes {
            plan.batches
                .push(batch(kind, private, &rest[..cap], request));
            rest = &rest[cap..];
            continue;
        }
        let Some((one, request)) = measure(1) else {
            plan.unsupported.extend_from_slice(rest);
            break;
        };
        if one > max_bytes {
            plan.too_large.push((rest[0].clone(), one));
            rest = &rest[1..];
            continue;
        }
        // Invariant: `fits` fits, `over` does not.
        let (mut fits, mut over, mut best) = (1, cap, request);
        while over - fits > 1 {
            let mid = fits + (over - fits) / 2;
            match measure(mid) {
                Some((size, request)) if size <= max_bytes => (fits, best) = (mid, request),
                _ => over = mid,
            }
        }
        plan.batches.push(batch(kind, private, &rest[..fits], best));
        rest = &rest[fits..];
    }
    plan
}

fn batch(kind: Kind, private: bool, channels: &[String], request: OutgoingRequest) -> Batch {
    Batch {
        kind,
        private,
        channels: channels.to_vec(),
        request,
    }
}

/// The window [`SubscribeLimits::max_requests_per_second`] counts in.
const WINDOW: Duration = Duration::from_secs(1);

/// Batches waiting to leave, and when the last ones left (rule 5).
#[derive(Debug, Default)]
pub(crate) struct Batches {
    queue: VecDeque<Batch>,
    /// When recent batches left, oldest first (at most the limit's count).
    sent: VecDeque<Instant>,
}

impl Batches {
    /// Queues a batch behind the others.
    pub(crate) fn push(&mut self, batch: Batch) {
        self.queue.push_back(batch);
    }

    /// Takes back the last waiting batch if it is of this kind and privacy,
    /// so that new channels join it instead of queueing a request of their
    /// own (many small requests — e.g. one per channel after many gaps —
    /// would each wait for a turn).
    pub(crate) fn take_tail(&mut self, kind: Kind, private: bool) -> Option<Batch> {
        let tail = self.queue.back()?;
        if tail.kind == kind && tail.private == private {
            self.queue.pop_back()
        } else {
            None
        }
    }

    /// No batch waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The connection is gone: waiting batches are dropped (the next restore
    /// builds them afresh); the pacing window stays.
    pub(crate) fn clear(&mut self) {
        self.queue.clear();
    }

    /// When the next batch may leave: `now` if it may, `None` if none waits.
    pub(crate) fn next_at(&self, now: Instant, per_second: Option<u32>) -> Option<Instant> {
        self.queue.front()?;
        let Some(n) = per_second.map(|n| n.max(1) as usize) else {
            return Some(now);
        };
        match self.sent.len().checked_sub(n) {
            // The n-th most recent send must be a full window old.
            Some(i) => Some((self.sent[i] + WINDOW).max(now)),
            None => Some(now),
        }
    }

    /// The next batch, if it may leave at `now` (and records that it left).
    pub(crate) fn pop_due(&mut self, now: Instant, per_second: Option<u32>) -> Option<Batch> {
        if self.next_at(now, per_second)? > now {
            return None;
        }
        let batch = self.queue.pop_front()?;
        if let Some(n) = per_second.map(|n| n.max(1) as usize) {
            self.sent.push_back(now);
            while self.sent.len() > n {
                self.sent.pop_front();
            }
        }
        Some(batch)
    }
}

#[cfg(test)]
#[path = "batches_tests.rs"]
mod tests;
