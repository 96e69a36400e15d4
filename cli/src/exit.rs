//! The documented exit codes, and how a session's end maps to one.

use std::process::ExitCode;

use wsnova_tokio::{CloseCode, CloseReason, DisconnectReason};

/// Why `wsnova` exits; the discriminant is the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A normal close: stdin's end, `--count` reached, a server's 1000 close.
    Normal = 0,
    /// An internal or I/O error (stdout closed, a metrics listener failed).
    Internal = 1,
    /// A usage error: a bad flag, URL, header or file.
    Usage = 2,
    /// The first connection failed (dial, TLS, upgrade, timeout).
    ConnectFailed = 3,
    /// The connection was lost for good (retries exhausted, abnormal close).
    ConnectionLost = 4,
    /// A `--request` or `--subscribe` failed, was refused or timed out.
    RequestFailed = 5,
    /// Authentication failed.
    AuthFailed = 6,
    /// Interrupted by Ctrl-C (after a normal close).
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

impl Exit {
    /// The exit code for a session that ended for `reason`.
    pub fn of_close(reason: &CloseReason) -> Exit {
        match reason {
            CloseReason::User => Exit::Normal,
            CloseReason::Stopped(loss) | CloseReason::RetriesExhausted(loss) => match loss {
                DisconnectReason::ServerClosed(frame) if frame.code == CloseCode::NORMAL => {
                    Exit::Normal
                }
                DisconnectReason::UserClose => Exit::Normal,
                DisconnectReason::AuthFailed(_) => Exit::AuthFailed,
                _ => Exit::ConnectionLost,
            },
            _ => Exit::ConnectionLost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_close_is_normal_and_a_lost_connection_is_not() {
        assert_eq!(Exit::of_close(&CloseReason::User), Exit::Normal);
        let lost = CloseReason::RetriesExhausted(DisconnectReason::PongTimeout);
        assert_eq!(Exit::of_close(&lost), Exit::ConnectionLost);
        let auth = CloseReason::Stopped(DisconnectReason::AuthFailed("bad".into()));
        assert_eq!(Exit::of_close(&auth), Exit::AuthFailed);
        assert_eq!(ExitCode::from(Exit::Interrupted), ExitCode::from(130));
    }
}
