//! Request ids, what each request is for, and its deadline: exactly one
//! outcome per request.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::RequestId;

/// Why the core sent a request; decides what its response means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The application's request: its response becomes an event.
    User,
    /// Authentication with credentials.
    Auth,
    /// A token refresh.
    Refresh,
    /// Subscribing to channels.
    Subscribe(Vec<String>),
    /// Ending subscriptions.
    Unsubscribe(Vec<String>),
    /// An adapter's on-connect request (e.g. heartbeat setup).
    Setup,
    /// A reply to a platform heartbeat; its response is ignored.
    Heartbeat,
}

/// A request without an outcome yet.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) purpose: Purpose,
    pub(crate) deadline: Instant,
    /// Written to a connection (so it cannot be re-sent after a loss).
    pub(crate) sent: bool,
    /// When it was last written (for round-trip times).
    pub(crate) sent_at: Option<Instant>,
    /// The request itself, kept after sending (moved, not copied) so it can
    /// be sent once more after a re-authentication or a rate-limit wait.
    pub(crate) body: Option<super::OutgoingRequest>,
    /// Already sent again after an expired token (at most once).
    pub(crate) reauth_retried: bool,
}

/// Requests waiting for their outcome, queued or sent.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    next_id: u64,
    /// The sent request that ends the session, if one was (`Adapter::is_terminal`).
    terminal: Option<RequestId>,
    pending: BTreeMap<u64, Pending>,
    deadlines: BTreeSet<(Instant, u64)>,
}

impl Requests {
    /// A fresh id, tracked until [`complete`](Self::complete), expiry or loss.
    pub(crate) fn open(&mut self, purpose: Purpose, deadline: Instant) -> RequestId {
        self.next_id += 1;
        let id = self.next_id;
        self.pending.insert(
            id,
            Pending {
                purpose,
                deadline,
                sent: false,
                sent_at: None,
                body: None,
                reauth_retried: false,
            },
        );
        self.deadlines.insert((deadline, id));
        RequestId(id)
    }

    /// Records that the request went out on the current connection.
    pub(crate) fn mark_sent(&mut self, id: RequestId, now: Instant) {
        if let Some(p) = self.pending.get_mut(&id.0) {
            p.sent = true;
            p.sent_at = Some(now);
        }
    }

    /// Keeps a sent request's body for a possible retry.
    pub(crate) fn keep_body(&mut self, id: RequestId, body: super::OutgoingRequest) {
        if let Some(p) = self.pending.get_mut(&id.0) {
            p.body = Some(body);
        }
    }

    /// Ends a request and returns everything known about it.
    pub(crate) fn take(&mut self, id: RequestId) -> Option<Pending> {
        let p = self.pending.remove(&id.0)?;
        self.deadlines.remove(&(p.deadline, id.0));
        Some(p)
    }

    /// Puts a request taken with [`take`](Self::take) back, unsent, for a retry.
    pub(crate) fn reopen(&mut self, id: RequestId, mut pending: Pending) {
        pending.sent = false;
        pending.sent_at = None;
        pending.body = None;
        self.deadlines.insert((pending.deadline, id.0));
        self.pending.insert(id.0, pending);
    }

    /// Marks a sent request as the one that ends the session.
    pub(crate) fn set_terminal(&mut self, id: RequestId) {
        self.terminal = Some(id);
    }

    /// The request that ends the session, forgotten here.
    pub(crate) fn take_terminal(&mut self) -> Option<RequestId> {
        self.terminal.take()
    }

    /// Ends a request; `None` if it was unknown or already ended.
    pub(crate) fn complete(&mut self, id: RequestId) -> Option<Purpose> {
        let p = self.pending.remove(&id.0)?;
        self.deadlines.remove(&(p.deadline, id.0));
        Some(p.purpose)
    }

    /// `true` while the request has no outcome.
    #[cfg(test)]
    pub(crate) fn is_pending(&self, id: RequestId) -> bool {
        self.pending.contains_key(&id.0)
    }

    /// Ends and returns the earliest request whose deadline has passed;
    /// with `hold_control`, only the application's requests expire (the
    /// driver does not read, so the core's own cannot be answered).
    pub(crate) fn pop_expired(
        &mut self,
        now: Instant,
        hold_control: bool,
    ) -> Option<(RequestId, Purpose)> {
        let (at, id) = self.first_deadline(hold_control)?;
        if at > now {
            return None;
        }
        let purpose = self.complete(RequestId(id))?;
        Some((RequestId(id), purpose))
    }

    /// The earliest deadline (of the application's requests only, with `hold_control`).
    pub(crate) fn next_deadline(&self, hold_control: bool) -> Option<Instant> {
        self.first_deadline(hold_control).map(|(at, _)| at)
    }

    fn first_deadline(&self, hold_control: bool) -> Option<(Instant, u64)> {
        let is_user = |id: &u64| {
            self.pending
                .get(id)
                .is_some_and(|p| p.purpose == Purpose::User)
        };
        self.deadlines
            .iter()
            .find(|(_, id)| !hold_control || is_user(id))
            .copied()
    }

    /// Moves the deadlines of the core's own requests on by `by` (the time
    /// reading was paused, when they could not be answered), but not past
    /// `cap`: a request opened late in the pause waited less than all of it.
    pub(crate) fn postpone_control(&mut self, by: std::time::Duration, cap: Instant) {
        if by.is_zero() {
            return;
        }
        for (id, pending) in &mut self.pending {
            if pending.purpose != Purpose::User {
                self.deadlines.remove(&(pending.deadline, *id));
                pending.deadline = (pending.deadline + by).min(cap.max(pending.deadline));
                self.deadlines.insert((pending.deadline, *id));
            }
        }
    }

    /// Ends every request that was sent on the lost connection (in id order).
    /// Unsent requests stay: they go out on the next connection.
    pub(crate) fn take_sent(&mut self) -> Vec<(RequestId, Purpose)> {
        let sent: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.sent)
            .map(|(id, _)| *id)
            .collect();
        sent.into_iter()
            .filter_map(|id| Some((RequestId(id), self.complete(RequestId(id))?)))
            .collect()
    }

    /// Ends every request (in id order).
    pub(crate) fn take_all(&mut self) -> Vec<(RequestId, Purpose)> {
        let ids: Vec<u64> = self.pending.keys().copied().collect();
        ids.into_iter()
            .filter_map(|id| Some((RequestId(id), self.complete(RequestId(id))?)))
            .collect()
    }

    /// Requests without an outcome.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn held_control_requests_do_not_expire_and_move_on_afterwards() {
        let t0 = Instant::now();
        let mut r = Requests::default();
        let auth = r.open(Purpose::Auth, t0 + Duration::from_secs(1));
        let user = r.open(Purpose::User, t0 + Duration::from_secs(2));
        let late = t0 + Duration::from_secs(5);
        assert_eq!(r.next_deadline(true), Some(t0 + Duration::from_secs(2)));
        assert_eq!(r.pop_expired(late, true), Some((user, Purpose::User)));
        assert_eq!(r.pop_expired(late, true), None, "the auth request is held");
        let fresh = r.open(Purpose::Refresh, late + Duration::from_secs(1));
        r.postpone_control(Duration::from_secs(5), late + Duration::from_secs(3));
        assert_eq!(r.next_deadline(false), Some(t0 + Duration::from_secs(6)));
        assert_eq!(r.pop_expired(late, false), None);
        assert!(r.is_pending(auth));
        // Opened late in the pause: moved on, but only up to the cap.
        let _ = r.pop_expired(t0 + Duration::from_secs(6), false);
        assert_eq!(r.next_deadline(false), Some(late + Duration::from_secs(3)));
        assert!(r.is_pending(fresh));
    }

    #[test]
    fn each_request_ends_exactly_once() {
        let t0 = Instant::now();
        let mut r = Requests::default();
        let a = r.open(Purpose::User, t0 + Duration::from_secs(1));
        let b = r.open(Purpose::Auth, t0 + Duration::from_secs(2));
        let c = r.open(Purpose::User, t0 + Duration::from_secs(3));
        assert_ne!(a, b);
        r.mark_sent(a, t0);
        r.mark_sent(b, t0);
        assert_eq!(r.complete(b), Some(Purpose::Auth));
        assert_eq!(r.complete(b), None);
        assert_eq!(r.take_sent(), [(a, Purpose::User)]);
        assert!(r.is_pending(c), "unsent requests survive a loss");
        assert_eq!(r.pop_expired(t0 + Duration::from_secs(2), false), None);
        assert_eq!(
            r.pop_expired(t0 + Duration::from_secs(3), false),
            Some((c, Purpose::User))
        );
        assert_eq!(r.len(), 0);
        assert_eq!(r.next_deadline(false), None);
    }
}
