//! Moving bytes for one session: its [`Link`](crate::link::Link) dials,
//! reads and writes; this applies the session's outputs and keeps reading
//! fair. Nothing else is decided here.

use wsnova_core::session::{Output, SessionState};

use super::Connection;
use crate::event_loop::HIGH_WATER;
use crate::link::{READS_PER_TURN, ReadStep, with_read_buffer};

impl Connection {
    /// A readiness event for this connection's socket (or its racing connects).
    pub(super) fn on_ready(&mut self, event: &mio::event::Event) {
        let connected = self.link.is_connected();
        if !self.link.on_ready(event, self.now, &mut self.session) {
            return; // a late event for a socket already released
        }
        // A racing connect may have told the session something; on a
        // connected socket the event only marks it, and writability matters
        // only when bytes wait (reading pumps on its own).
        if !connected || (event.is_writable() && self.session.pending_transmit_len() > 0) {
            self.pump();
        }
        self.read();
    }

    /// Reads until `WouldBlock`, EOF, a full event queue or the per-call
    /// bound, feeding the core as it goes.
    pub(super) fn read(&mut self) {
        with_read_buffer(|buf| {
            for _ in 0..READS_PER_TURN {
                if !self.wants_read() {
                    return;
                }
                match self.link.read_once(buf, self.now, &mut self.session) {
                    ReadStep::Idle => return,
                    ReadStep::Ended => {
                        self.pump();
                        return;
                    }
                    ReadStep::Data => {}
                }
                self.pump();
                if !self.link.is_readable() {
                    return; // drained (a short read): no clock read, no deadline scan
                }
                self.now = crate::now();
                if self.session.poll_timeout().is_some_and(|at| at <= self.now) {
                    // A deadline fell due while reading: back to the loop,
                    // which fires it (`poll_timeout` says to come back).
                    return;
                }
            }
        })
    }

    /// `true` when the socket may hold unread bytes and reading is allowed:
    /// not while the application is behind, nor while more than
    /// [`HIGH_WATER`] bytes wait for the socket, whatever queued them (a
    /// peer that does not read cannot grow the outgoing buffer by making
    /// the client answer it).
    pub(super) fn wants_read(&self) -> bool {
        !self.paused
            && self.events.len() < self.event_capacity
            && self.session.pending_transmit_len() <= HIGH_WATER
            && self.link.is_readable()
    }

    /// Drains the session's outputs and writes what it queued, until quiet.
    pub(super) fn pump(&mut self) {
        loop {
            while let Some(output) = self.session.poll_output() {
                self.apply(output);
            }
            if !self.link.flush(self.now, &mut self.session) {
                break;
            }
        }
        self.settle_outputs();
    }

    /// Drains the session's outputs without writing (a fed message waits
    /// for the next flush).
    pub(super) fn apply_outputs(&mut self) {
        while let Some(output) = self.session.poll_output() {
            self.apply(output);
        }
        self.settle_outputs();
    }

    fn settle_outputs(&mut self) {
        self.sync_reading_paused();
        if self.session.state() == SessionState::Closed {
            self.link.release(); // nothing can use a socket any more
        }
    }

    fn apply(&mut self, output: Output) {
        match output {
            Output::Dial {
                generation,
                host,
                port,
            } => {
                let target = self.dial_to.clone().unwrap_or((host, port));
                self.link.start_dial(
                    generation,
                    target,
                    &self.addresses,
                    self.resolver.as_ref(),
                    self.now,
                    &mut self.session,
                );
            }
            Output::CloseTransport { generation, flush } => {
                self.link.close_transport(generation, &flush);
            }
            Output::Transmit { .. } => {} // every pump ends with a flush
            Output::Event(event) => self.events.push_back(event),
        }
    }
}
