//! The network between client and server: two timed byte queues.

use std::collections::VecDeque;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// What travels on a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Bytes.
    Data(Vec<u8>),
    /// The sender closed its side.
    Eof,
}

/// One direction: packets with their arrival times, in order.
#[derive(Debug, Default)]
pub struct Queue(VecDeque<(Instant, Packet)>);

impl Queue {
    /// Sends a packet arriving at `at`.
    pub fn push(&mut self, at: Instant, packet: Packet) {
        // Order is kept: a packet never overtakes an earlier one.
        let at = self.0.back().map_or(at, |(last, _)| at.max(*last));
        self.0.push_back((at, packet));
    }

    /// The next packet that has arrived by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Packet> {
        if self.0.front()?.0 <= now {
            self.0.pop_front().map(|(_, p)| p)
        } else {
            None
        }
    }

    /// When the next packet arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.0.front().map(|(at, _)| *at)
    }
}

/// Both directions of one TCP connection.
#[derive(Debug)]
pub struct Link {
    /// The client's dial generation.
    pub generation: u64,
    /// Client → server.
    pub to_server: Queue,
    /// Server → client.
    pub to_client: Queue,
    /// Everything is silently lost, both ways (half-open).
    pub stalled: bool,
    /// The server accepted TCP but ignores everything.
    pub blackhole: bool,
    /// The server closed its side.
    pub server_gone: bool,
    /// The client closed the socket.
    pub closed: bool,
}

impl Link {
    /// A fresh link.
    pub fn new(generation: u64) -> Self {
        Link {
            generation,
            to_server: Queue::default(),
            to_client: Queue::default(),
            stalled: false,
            blackhole: false,
            server_gone: false,
            closed: false,
        }
    }

    /// The next arrival either way.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.to_server
            .next_arrival()
            .into_iter()
            .chain(self.to_client.next_arrival())
            .min()
    }
}

/// How a transmission is cut into the reads the other side sees.
#[derive(Debug)]
pub enum Chunking {
    /// As written.
    Whole,
    /// Pieces of at most this many bytes.
    Every(usize),
    /// Random piece sizes from 1 to `max`; see [`Chunking::random`].
    Random {
        /// The generator.
        rng: Box<StdRng>,
        /// Largest piece.
        max: usize,
    },
}

impl Chunking {
    /// Piece sizes from 1 to `max` drawn from `seed`: the same seed cuts
    /// the same bytes the same way.
    pub fn random(seed: u64, max: usize) -> Self {
        Chunking::Random {
            rng: Box::new(StdRng::seed_from_u64(seed)),
            max,
        }
    }

    /// Cuts `bytes` into pieces.
    pub fn split(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        match self {
            Chunking::Whole => vec![bytes.to_vec()],
            Chunking::Every(n) => bytes.chunks((*n).max(1)).map(<[u8]>::to_vec).collect(),
            Chunking::Random { rng, max } => {
                let mut pieces = Vec::new();
                let mut rest = bytes;
                while !rest.is_empty() {
                    let n = rng.random_range(1..=(*max).max(1));
                    let (piece, tail) = rest.split_at(n.min(rest.len()));
                    pieces.push(piece.to_vec());
                    rest = tail;
                }
                pieces
            }
        }
    }
}
