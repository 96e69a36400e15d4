//! Stale input: what a dead socket may still deliver (late bytes, a late
//! `Connected`, refusal or close), tagged with its old generation. The
//! session must ignore all of it; [`StaleSnapshot`] is what must not change.

use wsnova_core::session::{Adapter, Input, SessionState, Stats};

use super::Sim;

/// What stale input must leave as it was.
#[derive(Debug, PartialEq)]
pub struct StaleSnapshot {
    state: SessionState,
    generation: u64,
    live: Option<u64>,
    dials: usize,
    stats: Stats,
    pending_requests: usize,
}

/// An unmasked server text frame carrying `text` (short payloads only).
fn server_text_frame(text: &str) -> Vec<u8> {
    assert!(text.len() < 126);
    let mut frame = vec![0x81, text.len() as u8];
    frame.extend_from_slice(text.as_bytes());
    frame
}

impl<A: Adapter> Sim<A> {
    /// The parts of the client's state that stale input must not change.
    pub fn stale_snapshot(&self) -> StaleSnapshot {
        StaleSnapshot {
            state: self.client.state(),
            generation: self.client.generation(),
            live: self.live_generation(),
            dials: self.dials.len(),
            stats: self.client.stats(),
            pending_requests: self.client.pending_requests(),
        }
    }

    /// Feeds every kind of input, tagged with `generation`, straight to the
    /// client: a notification, a response, a close frame, garbage, then
    /// `Connected`, `ConnectFailed` and `Closed`.
    pub fn feed_stale(&mut self, generation: u64) {
        let now = self.now;
        let notification =
            r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.A","data":1}}"#;
        let response = r#"{"jsonrpc":"2.0","id":1,"result":"stale"}"#;
        let inputs = [
            server_text_frame(notification),
            server_text_frame(response),
            vec![0x88, 0x02, 0x03, 0xE9], // close, 1001
            b"garbage that would fail any live connection".to_vec(),
        ];
        for data in &inputs {
            self.client
                .handle_input(now, Input::Bytes { generation, data });
            // A driver reading straight into the buffer gets none for a dead socket.
            let direct = self.client.read_into(now, generation, |buf| {
                buf.extend_from_slice(data);
            });
            assert!(direct.is_none(), "a stale generation was offered a buffer");
        }
        self.client
            .handle_input(now, Input::Connected { generation });
        let error = "late refusal";
        self.client
            .handle_input(now, Input::ConnectFailed { generation, error });
        let error = "Connection reset by peer (os error 104)";
        self.client
            .handle_input(now, Input::Failed { generation, error });
        self.client.handle_input(now, Input::Closed { generation });
    }
}
