//! Control frames and violations on an open connection: pings answered
//! with bounded pongs (RFC 6455 §5.5.2–§5.5.3), the close frame (§5.5.1),
//! and a peer's violation deferred while replies to what came before it
//! may still leave.

use bytes::BytesMut;
use tungstenite::protocol::frame::coding::{Control, OpCode};

use super::frames::Frame;
use super::{CloseCode, CloseFrame, MAX_UNSENT_PONGS, State, Text, Wire, WireError, WireEvent};

impl Wire {
    /// With `true`, a peer's violation after the upgrade does not fail the
    /// connection at once: input stops, what was decoded before it is
    /// delivered, sending still works, and [`fail_deferred`](Self::fail_deferred)
    /// fails it later (RFC 6455 §7.1.7 sets no deadline; Autobahn 3.2, 4.x
    /// and 5.15 expect the echo of the message before it to leave first).
    pub fn set_linger(&mut self, linger: bool) {
        self.linger = linger;
    }

    /// Whether a violation waits for [`fail_deferred`](Self::fail_deferred).
    pub fn violation_pending(&self) -> bool {
        self.violation.is_some()
    }

    /// Fails the connection for the violation found while lingering: queues
    /// its close frame and returns it; `None` when there is none.
    pub fn fail_deferred(&mut self) -> Option<WireError> {
        let err = self.violation.take()?;
        Some(self.fail(err))
    }

    pub(super) fn on_frame(&mut self, frame: Frame) -> Option<WireEvent> {
        match frame {
            Frame::Message(message) => Some(WireEvent::Message(message)),
            Frame::Ping(payload) => {
                // §5.5.2: answer with the same payload; not after our close (§5.5.1).
                if matches!(self.state, State::Open) {
                    self.pong = Some(payload.clone());
                    self.flush_pong();
                }
                Some(WireEvent::Ping(payload))
            }
            Frame::Pong(payload) => Some(WireEvent::Pong(payload)),
            Frame::Close(frame) => {
                let by_peer = matches!(self.state, State::Open);
                if by_peer {
                    // §5.5.1: echo the status code back to complete the handshake.
                    let code = frame.as_ref().map_or(1005, |f| u16::from(f.code));
                    self.queue_close(code, "");
                }
                self.state = State::Closed;
                self.inbound = BytesMut::new();
                let frame = frame.unwrap_or(CloseFrame {
                    code: CloseCode::NO_STATUS,
                    reason: Text::from_static(""),
                });
                Some(WireEvent::Closed { frame, by_peer })
            }
        }
    }

    /// Frames the waiting pong unless [`MAX_UNSENT_PONGS`] are still unsent.
    pub(super) fn flush_pong(&mut self) {
        if self.pong.is_none() && self.pong_ends.is_empty() {
            return; // the common case, at every write: nothing to do
        }
        let sent = self.out.sent_total();
        while self.pong_ends.front().is_some_and(|&end| end <= sent) {
            self.pong_ends.pop_front();
        }
        if self.pong_ends.len() >= MAX_UNSENT_PONGS {
            return; // the socket takes nothing: the waiting one may be replaced
        }
        let Some(payload) = self.pong.take() else {
            return;
        };
        self.write_frame(OpCode::Control(Control::Pong), &payload);
        if let Some(tls) = self.tls.as_mut() {
            tls.seal(self.out.vec());
        }
        self.pong_ends.push_back(self.out.queued_total());
    }
}
