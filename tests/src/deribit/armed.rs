//! Armed faults: the plan for connections not established yet (and listener
//! refusals), and the faults armed on each connection, explicit and random
//! ([`Chaos`]).

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::config::Chaos;
use super::faults::RefuseMode;
use super::stats::{ConnId, FaultKind};

/// A fault armed on a connection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fault {
    DropNow,
    DropAfter(Duration),
    DropWithin(Duration),
    DropOnReceived(u64),
    DropAfterSent(u64),
    Stall,
    Resume,
    Delay(Duration),
    BookGap,
    Fail {
        method: Option<String>,
        count: u32,
        code: i64,
    },
    ExpireToken,
    Close(u16, String),
}

/// A refusal of new connections in force.
pub(crate) struct Refusal {
    pub mode: RefuseMode,
    pub until: Option<Instant>,
    pub remaining: Option<usize>,
}

/// Faults for connections not established yet, and listener refusals.
pub(crate) struct FaultPlan {
    pub next: Vec<Fault>,
    pub sticky: Vec<Fault>,
    pub refusal: Option<Refusal>,
    rng: StdRng,
}

impl FaultPlan {
    pub(crate) fn new(seed: u64) -> Self {
        FaultPlan {
            next: Vec::new(),
            sticky: Vec::new(),
            refusal: None,
            rng: StdRng::seed_from_u64(seed ^ 0x0ac_ce97),
        }
    }

    /// While accepting is paused (`NoAccept` for a duration): until when.
    pub(crate) fn paused_until(&mut self, now: Instant) -> Option<Instant> {
        match &self.refusal {
            Some(r) if r.until.is_some_and(|u| u <= now) => {
                self.refusal = None;
                None
            }
            Some(r) if r.mode == RefuseMode::NoAccept && r.remaining.is_none() => r.until,
            _ => None,
        }
    }

    /// How to refuse a connection just accepted, if it is to be refused.
    pub(crate) fn refuse(&mut self, now: Instant, chaos: &Chaos) -> Option<RefuseMode> {
        if let Some(r) = &mut self.refusal {
            if r.until.is_some_and(|u| u <= now) {
                self.refusal = None;
            } else {
                let mode = if r.mode == RefuseMode::NoAccept {
                    RefuseMode::Blackhole
                } else {
                    r.mode
                };
                if let Some(n) = &mut r.remaining {
                    *n -= 1;
                    if *n == 0 {
                        self.refusal = None;
                    }
                }
                return Some(mode);
            }
        }
        let p = chaos.refuse_per_connection;
        (p > 0.0 && self.rng.random_bool(p.min(1.0))).then_some(RefuseMode::Close)
    }

    /// The faults a newly established connection starts with.
    pub(crate) fn for_new_connection(&mut self) -> Vec<Fault> {
        let mut faults = std::mem::take(&mut self.next);
        faults.extend(self.sticky.iter().cloned());
        faults
    }
}

/// What applying a fault asks the connection to do at once.
#[derive(Debug, PartialEq)]
pub(crate) enum Effect {
    None,
    Drop,
    Close(u16, String),
    Stall,
    ExpireToken,
}

struct Failure {
    method: Option<String>,
    remaining: u32,
    code: i64,
}

/// One connection's armed faults.
pub(crate) struct ArmedFaults {
    pub stalled: bool,
    pub drop_at: Option<Instant>,
    drop_on_received: Option<u64>,
    drop_after_sent: Option<u64>,
    delay: Duration,
    gaps: u32,
    failures: Vec<Failure>,
    rng: StdRng,
    chaos: Chaos,
}

impl ArmedFaults {
    pub(crate) fn new(seed: u64, id: ConnId, chaos: &Chaos, now: Instant) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ id.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let drop_at = chaos
            .drop_within
            .map(|w| now + w.mul_f64(rng.random::<f64>()));
        ArmedFaults {
            stalled: false,
            drop_at,
            drop_on_received: None,
            drop_after_sent: None,
            delay: Duration::ZERO,
            gaps: 0,
            failures: Vec::new(),
            rng,
            chaos: chaos.clone(),
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random_bool(p.min(1.0))
    }

    /// Arms `fault`.
    pub(crate) fn apply(&mut self, fault: Fault, now: Instant) -> Effect {
        match fault {
            Fault::DropNow => return Effect::Drop,
            Fault::Close(code, reason) => return Effect::Close(code, reason),
            Fault::ExpireToken => return Effect::ExpireToken,
            Fault::Stall => {
                self.stalled = true;
                return Effect::Stall;
            }
            Fault::Resume => self.stalled = false,
            Fault::DropAfter(d) => self.drop_at = Some(now + d),
            Fault::DropWithin(w) => self.drop_at = Some(now + w.mul_f64(self.rng.random::<f64>())),
            Fault::DropOnReceived(n) => self.drop_on_received = Some(n),
            Fault::DropAfterSent(n) => self.drop_after_sent = Some(n),
            Fault::Delay(d) => self.delay = d,
            Fault::BookGap => self.gaps += 1,
            Fault::Fail {
                method,
                count,
                code,
            } => {
                if count > 0 {
                    self.failures.push(Failure {
                        method,
                        remaining: count,
                        code,
                    });
                }
            }
        }
        Effect::None
    }

    /// A message arrived: `Drop` or `Stall` if it is to be lost that way.
    pub(crate) fn on_received(&mut self) -> Option<FaultKind> {
        if let Some(n) = &mut self.drop_on_received {
            *n -= 1;
            if *n == 0 {
                self.drop_on_received = None;
                return Some(FaultKind::Drop);
            }
        }
        if self.chance(self.chaos.drop_per_message) {
            return Some(FaultKind::Drop);
        }
        if self.chance(self.chaos.stall_per_message) {
            self.stalled = true;
            return Some(FaultKind::Stall);
        }
        None
    }

    /// A message was sent: whether to drop the connection now.
    pub(crate) fn on_sent(&mut self) -> bool {
        let Some(n) = &mut self.drop_after_sent else {
            return false;
        };
        *n -= 1;
        if *n == 0 {
            self.drop_after_sent = None;
            return true;
        }
        false
    }

    /// The error code to answer a `method` request with, if any.
    pub(crate) fn failure(&mut self, method: &str) -> Option<i64> {
        let hit = self
            .failures
            .iter_mut()
            .find(|f| f.method.as_deref().is_none_or(|m| m == method));
        if let Some(f) = hit {
            f.remaining -= 1;
            let code = f.code;
            self.failures.retain(|f| f.remaining > 0);
            return Some(code);
        }
        self.chance(self.chaos.error_per_request)
            .then_some(self.chaos.error_code)
    }

    /// Whether to lose the book change about to be sent.
    pub(crate) fn lose_change(&mut self) -> bool {
        if self.gaps > 0 {
            self.gaps -= 1;
            return true;
        }
        self.chance(self.chaos.gap_per_change)
    }

    /// How long to hold the response about to be sent, if at all.
    pub(crate) fn response_delay(&mut self) -> Option<Duration> {
        if !self.delay.is_zero() {
            return Some(self.delay);
        }
        let max = self.chaos.max_delay;
        (!max.is_zero() && self.chance(self.chaos.delay_per_request))
            .then(|| max.mul_f64(self.rng.random::<f64>()))
    }
}
