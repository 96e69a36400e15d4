//! The lifecycle as a statig hierarchical state machine. States are named for
//! what they wait for; `Connected` is the superstate of the three phases of a
//! live connection. The concerns live in `Core` (the statig context); this
//! file decides which state follows which, and its actions tell the
//! concerns the phase they enter. The state is the one record of the phase.
//!
//! ```text
//! Idle ─connect─▶ Connecting ─opened─▶ ┌ Connected ─────────────────────────────┐
//!                   ▲    │             │ Authenticating ─▶ Restoring ─▶ Ready   │
//!                   │    │ lost        └───────┬───────────────┬────────────────┘
//!          backoff  │    ▼                lost │         close │
//!          elapsed  └─ BackingOff ◀────────────┘               ▼
//!                        │ stop / exhausted                Closing ─▶ Closed
//!                        └──────────────────────────────────────────▶ Closed
//! ```
#![allow(missing_docs)] // the macro generates items from the documented handlers

use statig::prelude::*;

use super::adapter::Adapter;
use super::core::Core;
use super::event::{CloseReason, DisconnectReason, Event, Initiator};
use super::outbox::Ev;
use super::state::SessionState;

/// The public name of a state.
pub(crate) fn session_state(state: &State) -> SessionState {
    match state {
        State::Idle {} => SessionState::Idle,
        State::Connecting {} => SessionState::Connecting,
        State::Authenticating {} => SessionState::Authenticating,
        State::Restoring {} => SessionState::Restoring,
        State::Ready {} => SessionState::Ready,
        State::Closing {} => SessionState::Closing,
        State::BackingOff {} => SessionState::BackingOff,
        State::Closed {} => SessionState::Closed,
    }
}

/// The statig context: the session's data and its adapter.
pub(crate) struct Ctx<'a> {
    pub(crate) core: &'a mut Core,
    pub(crate) adapter: &'a dyn Adapter,
}

/// The state machine's shared storage: what it remembers across states
/// (all other data is in `Ctx`).
#[derive(Debug, Default)]
pub(crate) struct Fsm {
    /// `Ready` was reached at least once (`fail_before_first_ready` asks).
    reached_ready: bool,
}

#[state_machine(
    initial = "State::idle()",
    state(derive(Debug, Clone, Copy, PartialEq, Eq)),
    after_transition = "Self::after_transition"
)]
impl Fsm {
    /// Created, not connecting yet.
    #[state]
    fn idle(context: &mut Ctx<'_>, event: &Ev) -> Outcome<State> {
        match event {
            Ev::Connect => Transition(State::connecting()),
            Ev::Close { .. } => close_now(context),
            _ => Handled,
        }
    }

    /// Waiting for dial, TLS and the upgrade, under one deadline.
    #[state(entry_action = "enter_connecting")]
    fn connecting(&mut self, context: &mut Ctx<'_>, event: &Ev) -> Outcome<State> {
        match event {
            Ev::Opened => {
                if context.core.on_upgraded(context.adapter) {
                    Transition(State::authenticating())
                } else {
                    Transition(State::restoring())
                }
            }
            Ev::Lost(reason, initiator) => lost(self.reached_ready, context, reason, *initiator),
            Ev::Close { .. } => close_now(context),
            _ => Handled,
        }
    }

    #[action]
    fn enter_connecting(context: &mut Ctx<'_>) {
        let core = &mut *context.core;
        core.transport.dial(&mut core.env);
    }

    /// A live WebSocket: what all three phases share.
    #[superstate]
    fn connected(&mut self, context: &mut Ctx<'_>, event: &Ev) -> Outcome<State> {
        match event {
            Ev::Lost(reason, initiator) => lost(self.reached_ready, context, reason, *initiator),
            Ev::AuthFatal(error) => {
                tracing::error!(%error, "authentication failed for good: closing");
                let reason = DisconnectReason::AuthFailed(error.clone());
                context.core.teardown();
                context.core.env.out.emit(Event::Disconnected {
                    reason: reason.clone(),
                    initiator: Initiator::Library,
                    reconnect_in: None,
                });
                context.core.finish(CloseReason::Stopped(reason));
                Transition(State::closed())
            }
            Ev::Close { code, reason } => {
                let core = &mut *context.core;
                if core.transport.start_close(&mut core.env, *code, reason) {
                    Transition(State::closing())
                } else {
                    close_now(context)
                }
            }
            Ev::Terminal(id) => {
                // The server ends the session (e.g. a logout): its close is
                // the end we asked for, not a loss to recover from.
                context.core.await_terminal_close(*id);
                Transition(State::closing())
            }
            _ => Handled,
        }
    }

    /// Waiting for the answer to the auth request.
    #[state(superstate = "connected")]
    fn authenticating(event: &Ev) -> Outcome<State> {
        match event {
            Ev::AuthOk => Transition(State::restoring()),
            _ => Super,
        }
    }

    /// Waiting for setup and resubscribe answers.
    #[state(superstate = "connected", entry_action = "enter_restoring")]
    fn restoring(event: &Ev) -> Outcome<State> {
        match event {
            Ev::Restored => Transition(State::ready()),
            _ => Super,
        }
    }

    #[action]
    fn enter_restoring(context: &mut Ctx<'_>) {
        context.core.start_restore(context.adapter);
    }

    /// Application traffic flows.
    #[state(superstate = "connected", entry_action = "enter_ready")]
    fn ready(event: &Ev) -> Outcome<State> {
        let _ = event;
        Super
    }

    #[action]
    fn enter_ready(&mut self, context: &mut Ctx<'_>) {
        self.reached_ready = true;
        context.core.enter_ready(context.adapter);
    }

    /// We sent a close frame, or a request that ends the session: waiting
    /// for the server's close, or the deadline.
    #[state]
    fn closing(context: &mut Ctx<'_>, event: &Ev) -> Outcome<State> {
        match event {
            Ev::CloseDone | Ev::Lost(..) => close_now(context),
            _ => Handled,
        }
    }

    /// Waiting out the backoff delay before the next attempt.
    #[state]
    fn backing_off(context: &mut Ctx<'_>, event: &Ev) -> Outcome<State> {
        match event {
            Ev::BackoffElapsed => {
                let core = &mut *context.core;
                core.reconnect.on_backoff_elapsed(&mut core.env);
                Transition(State::connecting())
            }
            Ev::Close { .. } => close_now(context),
            _ => Handled,
        }
    }

    /// The end. Nothing leaves this state.
    #[state]
    fn closed(event: &Ev) -> Outcome<State> {
        let _ = event;
        Handled
    }
}

impl Fsm {
    /// Every state change, for tracing: `Ready` at info (with the loss and
    /// `reconnecting` lines, the story of a reconnect; quiet in steady
    /// state), the rest at debug (the end is logged with its reason by `finish`).
    fn after_transition(&mut self, source: &State, target: &State, context: &mut Ctx<'_>) {
        let core = &*context.core;
        let generation = core.transport.generation();
        core.env
            .out
            .telemetry
            .transition(session_state(source), session_state(target));
        match target {
            State::Ready {} => tracing::info!(
                from = ?source,
                generation,
                authenticated = core.auth.is_authenticated(),
                subscriptions = core.subs.channels().confirmed().len(),
                "state transition: ready"
            ),
            _ => tracing::debug!(from = ?source, to = ?target, generation, "state transition"),
        }
    }
}

/// After any loss: reconnect later, or close for good. `reached_ready`:
/// the session was ready at least once.
fn lost(
    reached_ready: bool,
    context: &mut Ctx<'_>,
    reason: &DisconnectReason,
    initiator: Initiator,
) -> Outcome<State> {
    context.core.teardown();
    match context
        .core
        .schedule_reconnect(context.adapter, reason.clone(), initiator, reached_ready)
    {
        Ok(()) => Transition(State::backing_off()),
        Err(close_reason) => {
            context.core.finish(close_reason);
            Transition(State::closed())
        }
    }
}

/// The application's close, or the end of its close handshake.
fn close_now(context: &mut Ctx<'_>) -> Outcome<State> {
    context.core.finish(CloseReason::User);
    Transition(State::closed())
}
