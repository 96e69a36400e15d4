//! What identifies a pool's connection, and what the pool asks of its
//! driver: the session's outputs, each tagged with its connection.

use crate::session::{Event, Output};

/// Names one connection of a pool (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// What the driver must do for one connection, or an event for the application.
#[derive(Debug, Clone, PartialEq)]
pub enum PoolOutput {
    /// Open a TCP connection for `conn` (see `Output::Dial`).
    Dial {
        /// The connection.
        conn: ConnId,
        /// Tag every input about this socket with it.
        generation: u64,
        /// Host to dial.
        host: String,
        /// Port to dial.
        port: u16,
    },
    /// Bytes wait in [`Pool::pending_transmit`] for `conn`.
    Transmit {
        /// The connection.
        conn: ConnId,
        /// Its socket's generation.
        generation: u64,
    },
    /// Close `conn`'s socket after writing `flush` (see `Output::CloseTransport`).
    CloseTransport {
        /// The connection.
        conn: ConnId,
        /// Its socket's generation.
        generation: u64,
        /// Last bytes for the peer.
        flush: Vec<u8>,
    },
    /// Something for the application.
    Event {
        /// The connection it came from; `None` for the pool's own (its final `Closed`).
        conn: Option<ConnId>,
        /// The event.
        event: Event,
    },
}

impl PoolOutput {
    /// Tags a session's output with its connection.
    pub fn from_session(conn: ConnId, output: Output) -> Self {
        match output {
            Output::Dial {
                generation,
                host,
                port,
            } => PoolOutput::Dial {
                conn,
                generation,
                host,
                port,
            },
            Output::Transmit { generation } => PoolOutput::Transmit { conn, generation },
            Output::CloseTransport { generation, flush } => PoolOutput::CloseTransport {
                conn,
                generation,
                flush,
            },
            Output::Event(event) => PoolOutput::Event {
                conn: Some(conn),
                event,
            },
        }
    }
}
