//! Fault injection: the test's [`Faults`] handle, the plan for connections
//! not made yet, and each connection's armed faults.
//!
//! A fault is aimed with a [`FaultTarget`]: one live connection
//! ([`Faults::conn`]), every live connection ([`Faults::live`]), the next
//! connection to be established ([`Faults::next_connection`]) or every
//! connection established from now on ([`Faults::new_connections`], until
//! [`Faults::clear`]). Random faults come from [`Chaos`] in the config.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::armed::{Fault, FaultPlan, Refusal};
use super::state::{ConnEvent, Shared};
use super::stats::{ConnId, FaultKind, FaultRecord};

/// How new connections are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefuseMode {
    /// Accept the TCP connection, then close it before the upgrade.
    Close,
    /// Answer the upgrade request with this HTTP status (e.g. 503).
    Http(u16),
    /// Accept the TCP connection and never answer the upgrade.
    Blackhole,
    /// Stop calling `accept` (connections wait in the backlog and are served
    /// once refusing ends). With [`Faults::refuse_next`] it acts as `Blackhole`.
    NoAccept,
}

/// Controls fault injection; get it with [`MockDeribit::faults`](super::MockDeribit::faults).
///
/// Aim a fault with a [`FaultTarget`]: one live connection ([`conn`](Self::conn),
/// ids from [`Stats`](super::Stats) or
/// [`MockDeribit::connection_by_peer`](super::MockDeribit::connection_by_peer)),
/// every live connection ([`live`](Self::live)), the next connection to be
/// established ([`next_connection`](Self::next_connection)) or every one
/// established from now on ([`new_connections`](Self::new_connections), until
/// [`clear`](Self::clear)). Listener faults (refusals) and token expiry are
/// methods here. Faults are applied asynchronously but before any request
/// the client sends afterwards; each is recorded in
/// [`Stats::faults`](super::Stats::faults) when it takes effect.
/// Random faults come from [`Chaos`](super::Chaos) in the config.
#[derive(Clone)]
pub struct Faults {
    shared: Arc<Shared>,
}

#[derive(Clone, Copy)]
enum Scope {
    Conn(ConnId),
    Live,
    Next,
    New,
}

/// Where faults go (see [`Faults`]). Every method returns the number of live
/// connections it reached (0 when aimed at future connections).
#[derive(Clone)]
pub struct FaultTarget {
    shared: Arc<Shared>,
    scope: Scope,
}

impl Faults {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Faults { shared }
    }

    fn target(&self, scope: Scope) -> FaultTarget {
        let shared = Arc::clone(&self.shared);
        FaultTarget { shared, scope }
    }

    /// The live connection `id`.
    pub fn conn(&self, id: ConnId) -> FaultTarget {
        self.target(Scope::Conn(id))
    }

    /// Every connection live when a fault is applied.
    pub fn live(&self) -> FaultTarget {
        self.target(Scope::Live)
    }

    /// The next connection to be established (faults accumulate until then).
    pub fn next_connection(&self) -> FaultTarget {
        self.target(Scope::Next)
    }

    /// Every connection established from now on, until [`clear`](Self::clear).
    pub fn new_connections(&self) -> FaultTarget {
        self.target(Scope::New)
    }

    /// Forgets faults planned for future connections and ends refusals.
    pub fn clear(&self) {
        self.shared
            .with(|st| st.plan = FaultPlan::new(st.config.seed));
        self.shared.wake.notify_one();
    }

    fn set_refusal(&self, mode: RefuseMode, until: Option<Instant>, remaining: Option<usize>) {
        let refusal = Refusal {
            mode,
            until,
            remaining,
        };
        self.shared.with(|st| st.plan.refusal = Some(refusal));
        self.shared.wake.notify_one();
    }

    /// Refuses new connections in `mode` for `duration`.
    pub fn refuse_for(&self, mode: RefuseMode, duration: Duration) {
        self.set_refusal(mode, Some(Instant::now() + duration), None);
    }

    /// Refuses the next `count` connections in `mode`.
    pub fn refuse_next(&self, mode: RefuseMode, count: usize) {
        if count > 0 {
            self.set_refusal(mode, None, Some(count));
        }
    }

    /// Ends any refusal.
    pub fn accept_again(&self) {
        self.shared.with(|st| st.plan.refusal = None);
        self.shared.wake.notify_one();
    }

    /// Expires every access token issued so far (refresh tokens stay valid);
    /// returns how many were valid.
    pub fn expire_all_tokens(&self) -> usize {
        self.shared.with(|st| {
            let n = st.auth.expire_all(Instant::now());
            if n > 0 {
                st.record_fault(None, FaultKind::ExpireToken);
            }
            n
        })
    }

    /// The faults that took effect so far.
    pub fn injected(&self) -> Vec<FaultRecord> {
        self.shared.with(|st| st.stats.faults.clone())
    }

    /// How many faults took effect so far.
    pub fn injected_count(&self) -> usize {
        self.shared.with(|st| st.stats.faults.len())
    }
}

impl FaultTarget {
    fn apply(&self, fault: Fault) -> usize {
        let send = |tx: &tokio::sync::mpsc::UnboundedSender<ConnEvent>| {
            tx.send(ConnEvent::Fault(fault.clone())).is_ok()
        };
        self.shared.with(|st| match self.scope {
            Scope::Conn(id) => st.conns.get(&id).map_or(0, |tx| usize::from(send(tx))),
            Scope::Live => st.conns.values().filter(|tx| send(tx)).count(),
            Scope::Next => {
                st.plan.next.push(fault.clone());
                0
            }
            Scope::New => {
                st.plan.sticky.push(fault.clone());
                0
            }
        })
    }

    /// Drops the TCP connection now (no close frame).
    pub fn drop_now(&self) -> usize {
        self.apply(Fault::DropNow)
    }

    /// Drops the connection `after` from now (from establishment for future
    /// connections).
    pub fn drop_after(&self, after: Duration) -> usize {
        self.apply(Fault::DropAfter(after))
    }

    /// Drops the connection at a random time within `window` (seeded).
    pub fn drop_randomly_within(&self, window: Duration) -> usize {
        self.apply(Fault::DropWithin(window))
    }

    /// Drops the connection when the `n`th message from now arrives, without
    /// handling it (`n` ≥ 1): a request lost with the connection.
    pub fn drop_on_received(&self, n: u64) -> usize {
        self.apply(Fault::DropOnReceived(n.max(1)))
    }

    /// Drops the connection right after the server sent `n` more messages
    /// (responses, notifications, heartbeats).
    pub fn drop_after_sent(&self, n: u64) -> usize {
        self.apply(Fault::DropAfterSent(n.max(1)))
    }

    /// Stalls the connection: it stops reading and sending (no responses,
    /// notifications or heartbeats) but stays open, like a half-open peer.
    pub fn stall(&self) -> usize {
        self.apply(Fault::Stall)
    }

    /// Ends a stall.
    pub fn resume(&self) -> usize {
        self.apply(Fault::Resume)
    }

    /// Delays every response by `delay` (order kept; notifications are not
    /// delayed). `Duration::ZERO` ends the delay.
    pub fn delay_responses(&self, delay: Duration) -> usize {
        self.apply(Fault::Delay(delay))
    }

    /// Loses the next book `change` notification (on any book channel of the
    /// connection), so the following one's `prev_change_id` is unknown to the
    /// client.
    pub fn book_gap(&self) -> usize {
        self.apply(Fault::BookGap)
    }

    /// Answers the next `count` requests with error `code` (Deribit's
    /// message for it) instead of handling them.
    pub fn fail_next(&self, count: u32, code: i64) -> usize {
        self.apply(Fault::Fail {
            method: None,
            count,
            code,
        })
    }

    /// Like [`fail_next`](Self::fail_next), counting only requests for `method`.
    pub fn fail_next_method(&self, method: &str, count: u32, code: i64) -> usize {
        let method = Some(method.to_owned());
        self.apply(Fault::Fail {
            method,
            count,
            code,
        })
    }

    /// Expires the connection's access token now (private calls then get
    /// 13009 "token has expired"; a refresh still works).
    pub fn expire_token(&self) -> usize {
        self.apply(Fault::ExpireToken)
    }

    /// Starts a close handshake with `code` and `reason`.
    pub fn close(&self, code: u16, reason: &str) -> usize {
        self.apply(Fault::Close(code, reason.to_owned()))
    }
}
