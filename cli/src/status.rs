//! The one-line status on stderr, drawn only when stderr is a terminal
//! (and not `--quiet`): state, messages in and out, reconnects, last RTT.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use wsnova_tokio::Status;

/// A status line that is either live (stderr is a terminal) or inert.
#[derive(Debug, Clone)]
pub struct StatusLine {
    /// `None` when inert; else whether a line is on screen now.
    drawn: Option<Arc<AtomicBool>>,
}

impl StatusLine {
    /// Live when stderr is a terminal and `quiet` is off.
    pub fn new(quiet: bool) -> Self {
        let live = !quiet && std::io::stderr().is_terminal();
        StatusLine {
            drawn: live.then(|| Arc::new(AtomicBool::new(false))),
        }
    }

    /// Whether anything is ever drawn.
    pub fn is_live(&self) -> bool {
        self.drawn.is_some()
    }

    /// Redraws the line from `status`.
    pub fn draw(&self, status: &Status) {
        let Some(drawn) = &self.drawn else { return };
        let stats = &status.stats;
        let rtt = stats
            .last_rtt
            .map(|d| format!(" · rtt {:.1}ms", d.as_secs_f64() * 1e3))
            .unwrap_or_default();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{:?} · {} in · {} out · {} reconnects · {} subscriptions{rtt}",
            status.state,
            stats.messages_in,
            stats.messages_out,
            stats.reconnects,
            status.subscriptions.len(),
        );
        let _ = err.flush();
        drawn.store(true, Ordering::Relaxed);
    }

    /// Erases the line, if one is on screen.
    pub fn clear(&self) {
        let Some(drawn) = &self.drawn else { return };
        if drawn.swap(false, Ordering::Relaxed) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
