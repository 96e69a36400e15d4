//! [`PoolStatus`]: what both drivers report about a pool — every
//! connection's [`Status`] with its part in the pool, and the totals a user
//! checks first (how many connections are up, how many channels are live).

use crate::driver::Status;
use crate::session::SessionState;

use super::conn::Role;
use super::output::ConnId;

/// One connection of a pool: its id, its part and its [`Status`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConnStatus {
    /// The pool's id of the connection.
    pub conn: ConnId,
    /// Its part (serving, replacing, retiring, being closed).
    pub role: Role,
    /// Its session's state, subscriptions and counters.
    pub status: Status,
}

/// A snapshot of a pool.
///
/// ```
/// use std::time::Instant;
/// use wsnova_core::pool::{Pool, PoolLimits};
/// use wsnova_core::session::{Plain, SessionConfig};
/// let now = Instant::now();
/// let mut pool = Pool::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, PoolLimits::default(), now);
/// pool.connect(now)?;
/// let status = pool.status();
/// assert_eq!((status.ready(), status.total()), (0, 1)); // dialling
/// assert!(!status.closed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PoolStatus {
    /// Every connection, in id order (those being closed included).
    pub connections: Vec<ConnStatus>,
    /// Channels the application wants.
    pub desired: Vec<String>,
    /// Channels confirmed for the application (on whichever connection).
    pub confirmed: Vec<String>,
    /// Updates dropped as already delivered by another connection
    /// (rotation overlaps).
    pub duplicates_dropped: u64,
    /// Whether the pool has ended.
    pub closed: bool,
}

impl PoolStatus {
    /// Connections that are `Ready`.
    pub fn ready(&self) -> usize {
        let ready = |c: &&ConnStatus| c.status.state == SessionState::Ready;
        self.connections.iter().filter(ready).count()
    }

    /// Connections the pool has, whatever their state.
    pub fn total(&self) -> usize {
        self.connections.len()
    }

    /// The status of one connection.
    pub fn of(&self, conn: ConnId) -> Option<&ConnStatus> {
        self.connections.iter().find(|c| c.conn == conn)
    }

    /// The status of a pool that is gone.
    pub fn closed() -> PoolStatus {
        PoolStatus {
            connections: Vec::new(),
            desired: Vec::new(),
            confirmed: Vec::new(),
            duplicates_dropped: 0,
            closed: true,
        }
    }
}
