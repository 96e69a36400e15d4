//! The send queues: the core's own requests first, then the application's
//! requests and messages in one lane per rate-limit class, each lane with
//! its own token bucket. A lane waiting for tokens never holds up another.

use std::collections::VecDeque;
use std::time::Instant;

use super::event::RequestId;
use super::messages::OutgoingRequest;
use super::rate_classes::RateClass;
use super::ratelimit::{RateLimitConfig, TokenBucket};
use super::shared_budget::SharedBudget;

/// Something waiting to be written.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) kind: Payload,
    pub(crate) cost: u64,
    /// The rate-limit class it is charged to (and, for the application's
    /// items, the lane it waits in).
    pub(crate) class: RateClass,
    /// The core's own request (goes back to the control queue on a retry).
    pub(crate) control: bool,
}

/// What a queued item writes.
#[derive(Debug)]
pub(crate) enum Payload {
    /// A request, encoded fresh when it leaves (so a reconnect re-encodes it).
    Request {
        id: RequestId,
        request: OutgoingRequest,
    },
    /// A raw application message.
    Text(String),
    /// A raw application binary message.
    Binary(Vec<u8>),
}

impl Queued {
    /// Whether this is the request `id`.
    pub(crate) fn is_request(&self, id: RequestId) -> bool {
        matches!(self.kind, Payload::Request { id: qid, .. } if qid == id)
    }
}

/// One rate-limit class: its bucket (if limited) and the application's
/// items waiting in it.
#[derive(Debug)]
pub(crate) struct Lane {
    pub(crate) class: RateClass,
    /// `None`: the class is not limited.
    pub(crate) bucket: Option<TokenBucket>,
    /// `Some` when the class is shared: permits granted by the driver.
    pub(crate) shared: Option<SharedBudget>,
    pub(crate) items: VecDeque<Queued>,
}

impl Lane {
    fn new(class: RateClass, limit: Option<RateLimitConfig>, now: Instant) -> Self {
        Lane {
            class,
            bucket: limit.map(|l| TokenBucket::new(l, now)),
            shared: None,
            items: VecDeque::new(),
        }
    }

    /// Takes `cost` tokens at `now` if the class has them (always, when unlimited).
    pub(crate) fn try_take(&mut self, now: Instant, cost: u64) -> bool {
        if !self.shared_covers(cost) {
            return false;
        }
        let taken = match self.bucket.as_mut() {
            Some(bucket) if cost > 0 => bucket.try_take(now, cost),
            _ => true,
        };
        if taken {
            self.shared_spend(cost);
        }
        taken
    }

    /// When `cost` tokens will be there; `None` when never.
    pub(crate) fn ready_at(&mut self, now: Instant, cost: u64) -> Option<Instant> {
        if !self.shared_covers(cost) {
            return None; // only the driver's grant moves a shared class on
        }
        match self.bucket.as_mut() {
            Some(bucket) => bucket.ready_at(now, cost),
            None => Some(now),
        }
    }
}

/// The queues.
#[derive(Debug)]
pub(crate) struct Queues {
    /// The core's own requests (auth, subscriptions, setup): leave as soon
    /// as connected, in order, each charged to its class.
    pub(crate) control: VecDeque<Queued>,
    /// The application's requests and messages, one lane per class, made
    /// when the class is first limited or used (a session that never
    /// queued anything holds none); [`RateClass::DEFAULT`]'s, where raw
    /// messages wait, is always the first.
    pub(crate) lanes: Vec<Lane>,
}

impl Queues {
    /// Empty queues, a lane per limited class.
    pub(crate) fn new(limits: &[(RateClass, RateLimitConfig)], now: Instant) -> Self {
        let mut queues = Queues {
            control: VecDeque::new(),
            lanes: Vec::new(),
        };
        queues.set_limits(limits, now);
        queues
    }

    /// Applies new limits: a class keeps its queue and, when still limited,
    /// its tokens (capped at the new capacity, see
    /// [`TokenBucket::reconfigure`]); a class no longer listed is unlimited.
    /// Lanes are never removed (items may wait in them).
    pub(crate) fn set_limits(&mut self, limits: &[(RateClass, RateLimitConfig)], now: Instant) {
        for lane in &mut self.lanes {
            if !limits.iter().any(|(c, _)| *c == lane.class) {
                lane.bucket = None;
            }
        }
        for &(class, limit) in limits {
            let lane = self.lane_mut(class, now);
            match lane.bucket.as_mut() {
                Some(bucket) if *bucket.config() != limit => bucket.reconfigure(now, limit),
                Some(_) => {}
                None => lane.bucket = Some(TokenBucket::new(limit, now)),
            }
        }
    }

    /// The lane of `class`, made (unlimited) if the class is new: an
    /// allocation once per class, never per request. Lanes are served in
    /// order at each pump: the default class's first, then the others as
    /// they were made (the adapter's declared classes in its order).
    pub(crate) fn lane_mut(&mut self, class: RateClass, now: Instant) -> &mut Lane {
        let index = match self.lanes.iter().position(|l| l.class == class) {
            Some(i) => i,
            None if class == RateClass::DEFAULT => {
                self.lanes.insert(0, Lane::new(class, None, now));
                0
            }
            None => {
                self.lanes.push(Lane::new(class, None, now));
                self.lanes.len() - 1
            }
        };
        &mut self.lanes[index]
    }

    /// The lane of `class`, if it has one.
    pub(crate) fn lane(&self, class: RateClass) -> Option<&Lane> {
        self.lanes.iter().find(|l| l.class == class)
    }

    /// Removes a request that expired or was cancelled before it left.
    pub(crate) fn remove(&mut self, id: RequestId) {
        self.control.retain(|q| !q.is_request(id));
        for lane in &mut self.lanes {
            lane.items.retain(|q| !q.is_request(id));
        }
    }

    /// Puts requests back at the head of their queues, in order.
    pub(crate) fn requeue_front(
        &mut self,
        now: Instant,
        items: impl DoubleEndedIterator<Item = Queued>,
    ) {
        for item in items.rev() {
            if item.control {
                self.control.push_front(item);
            } else {
                self.lane_mut(item.class, now).items.push_front(item);
            }
        }
    }

    /// The server said we went too fast: spend every token of every class,
    /// so nothing more leaves until the buckets refill.
    pub(crate) fn drain_tokens(&mut self, now: Instant) {
        for bucket in self.lanes.iter_mut().filter_map(|l| l.bucket.as_mut()) {
            let all = bucket.available(now);
            bucket.try_take(now, all);
        }
    }

    /// The application's items waiting, in every lane.
    pub(crate) fn user_len(&self) -> usize {
        self.lanes.iter().map(|l| l.items.len()).sum()
    }

    /// Drops every application item (the session closed).
    pub(crate) fn clear_user(&mut self) {
        for lane in &mut self.lanes {
            lane.items.clear();
        }
    }

    /// Items waiting in all queues.
    pub(crate) fn len(&self) -> usize {
        self.user_len() + self.control.len()
    }
}

impl Lane {
    /// Whether the lane's shared budget (if the class is shared) covers `cost`.
    pub(crate) fn shared_covers(&self, cost: u64) -> bool {
        self.shared.is_none_or(|s| cost == 0 || s.covers(cost))
    }

    /// Spends `cost` permits of the shared budget, if the class is shared.
    pub(crate) fn shared_spend(&mut self, cost: u64) {
        if let Some(shared) = self.shared.as_mut() {
            shared.spend(cost);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::OutgoingRequest;

    fn request(id: u64, control: bool) -> Queued {
        Queued {
            kind: Payload::Request {
                id: RequestId(id),
                request: OutgoingRequest::new("m", "{}"),
            },
            cost: 1,
            class: RateClass::DEFAULT,
            control,
        }
    }

    #[test]
    fn removing_a_request_takes_only_it_from_every_queue() {
        let now = Instant::now();
        let mut queues = Queues::new(&[], now);
        queues.control.extend([request(1, true), request(2, true)]);
        let lane = queues.lane_mut(RateClass::DEFAULT, now);
        lane.items.extend([request(3, false), request(4, false)]);
        queues.remove(RequestId(1));
        queues.remove(RequestId(4));
        let ids = |q: &VecDeque<Queued>| -> Vec<bool> {
            (1..=4)
                .map(|id| q.iter().any(|item| item.is_request(RequestId(id))))
                .collect()
        };
        assert_eq!(ids(&queues.control), [false, true, false, false]);
        let lane = queues.lane(RateClass::DEFAULT).unwrap();
        assert_eq!(ids(&lane.items), [false, false, true, false]);
    }
}
