//! The outbox: where the concerns put what they produce while the core
//! handles one input — outputs for the driver, events for the application,
//! lifecycle events for the state machine — and the meters that count it.
//! It sits below every concern: each may use it, none needs the hub for it.

use std::collections::VecDeque;

use super::event::{DisconnectReason, Event, Initiator};
use super::io::Output;
use super::stats::Meters;
use super::telemetry::Telemetry;

/// What moves the lifecycle state machine. Concerns raise these; the
/// machine handles them once the current input is done.
#[derive(Debug)]
pub(crate) enum Ev {
    /// The application asked to connect.
    Connect,
    /// The WebSocket upgrade succeeded.
    Opened,
    /// The current connection (or attempt) is lost.
    Lost(DisconnectReason, Initiator),
    /// Authentication succeeded.
    AuthOk,
    /// Authentication failed in a way retrying cannot fix.
    AuthFatal(String),
    /// Setup and resubscriptions are all answered.
    Restored,
    /// The backoff delay is over.
    BackoffElapsed,
    /// The application asked to close.
    Close {
        /// The close code (RFC 6455 §7.4).
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The close handshake finished (or timed out).
    CloseDone,
    /// A request that ends the session (`Adapter::is_terminal`) was written:
    /// the server is expected to close.
    Terminal(super::event::RequestId),
}

/// Outputs, lifecycle events and meters of one session.
///
/// Its two queues give their memory back when they empty at a quiet
/// moment, so an idle session holds none: `followups` (lifecycle only)
/// whenever it empties, `outputs` when the driver has drained it after a
/// lifecycle event ([`Event::is_lifecycle`]). A stream of messages keeps
/// the outputs' capacity: no allocation per message.
pub(crate) struct Outbox {
    outputs: VecDeque<Output>,
    /// A lifecycle event was emitted since `outputs` last gave its memory back.
    settling: bool,
    /// Lifecycle events for the state machine, raised by concerns.
    followups: VecDeque<Ev>,
    /// Metric handles (no-ops without a recorder).
    pub(crate) telemetry: Telemetry,
    /// Counters and round-trip windows.
    pub(crate) meters: Meters,
}

impl Outbox {
    /// An empty outbox reporting metrics through `telemetry`.
    pub(crate) fn new(telemetry: Telemetry) -> Self {
        Outbox {
            outputs: VecDeque::new(),
            settling: false,
            followups: VecDeque::new(),
            telemetry,
            meters: Meters::default(),
        }
    }

    /// Hands an event to the application.
    pub(crate) fn emit(&mut self, event: Event) {
        // Every application request's one outcome passes here.
        match &event {
            Event::Response { id, .. } => self.telemetry.outcome(*id, Ok(())),
            Event::RequestFailed { id, error } => self.telemetry.outcome(*id, Err(error)),
            _ => {}
        }
        self.settling |= event.is_lifecycle();
        self.outputs.push_back(Output::Event(event));
    }

    /// Asks the driver to do something.
    pub(crate) fn push(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    /// The next output for the driver; once drained after a lifecycle
    /// event, the queue's memory goes back.
    pub(crate) fn pop_output(&mut self) -> Option<Output> {
        let output = self.outputs.pop_front();
        if output.is_none() && self.settling {
            self.settling = false;
            self.outputs = VecDeque::new();
        }
        output
    }

    /// Raises a lifecycle event for the state machine.
    pub(crate) fn raise(&mut self, ev: Ev) {
        self.followups.push_back(ev);
    }

    /// Raises the loss of the current connection.
    pub(crate) fn lose(&mut self, reason: DisconnectReason, initiator: Initiator) {
        self.raise(Ev::Lost(reason, initiator));
    }

    /// The next lifecycle event for the state machine; the queue's memory
    /// goes back once it is empty (lifecycle events are rare).
    pub(crate) fn pop_followup(&mut self) -> Option<Ev> {
        let ev = self.followups.pop_front();
        if ev.is_none() && self.followups.capacity() > 0 {
            self.followups = VecDeque::new();
        }
        ev
    }

    /// Memory its queues hold (capacity in bytes), for tests.
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        self.outputs.capacity() * size_of::<Output>() + self.followups.capacity() * size_of::<Ev>()
    }

    /// Whether lifecycle events wait for the state machine.
    pub(crate) fn has_followups(&self) -> bool {
        !self.followups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_events_come_out_in_order_then_their_memory_goes_back() {
        let mut out = Outbox::new(Telemetry::new("test"));
        out.raise(Ev::AuthOk);
        out.raise(Ev::Restored);
        assert!(out.has_followups());
        assert!(matches!(out.pop_followup(), Some(Ev::AuthOk)));
        assert!(matches!(out.pop_followup(), Some(Ev::Restored)));
        assert!(!out.has_followups());
        assert!(out.pop_followup().is_none());
        assert_eq!(out.held_bytes(), 0);
    }
}
