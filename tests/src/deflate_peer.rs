//! A scripted permessage-deflate server in memory (RFC 7692), for tests and
//! fuzz targets of the wire's compression: it answers the upgrade with the
//! extension parameters a test chooses, compresses and fragments messages
//! the way a server may, and reads (and inflates) what the client sent.
//!
//! ```
//! use wsnova_core::wire::{Message, WireConfig, WireEvent};
//! use wsnova_tests::deflate_peer::{DeflatePeer, open_wire};
//!
//! let config = WireConfig::new("ws://localhost/")?;
//! let mut wire = open_wire(config, Some("permessage-deflate"), 1);
//! assert!(wire.compression().is_some());
//! let mut server = DeflatePeer::new(15, false);
//! wire.handle_bytes(&server.message(true, b"hello hello hello", usize::MAX));
//! assert_eq!(wire.poll_event()?, Some(WireEvent::Message(Message::text("hello hello hello"))));
//! // Messages of 1 KiB and more go out compressed by default.
//! wire.send_text(&"echo ".repeat(300))?;
//! let sent = server.read_client(wire.pending_transmit());
//! assert_eq!(sent, [(true, 0x1, "echo ".repeat(300).into_bytes())]);
//! # Ok::<(), wsnova_core::wire::WireError>(())
//! ```

use std::sync::Arc;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use rand::SeedableRng;
use wsnova_core::wire::{Wire, WireConfig, WireEvent};

/// The empty stored block a sender strips and a receiver appends (RFC 7692 §7.2.1).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// A wire past a `101` whose `Sec-WebSocket-Extensions` is `extensions`
/// (none when `None`); panics if the upgrade fails.
pub fn open_wire(config: WireConfig, extensions: Option<&str>, seed: u64) -> Wire {
    try_open_wire(config, extensions, seed).expect("the upgrade succeeds")
}

/// Like [`open_wire`], returning the upgrade's error instead.
pub fn try_open_wire(
    config: WireConfig,
    extensions: Option<&str>,
    seed: u64,
) -> Result<Wire, wsnova_core::wire::WireError> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut wire = Wire::new(Arc::new(config), &mut rng)?;
    let request = String::from_utf8_lossy(wire.pending_transmit()).into_owned();
    wire.advance_transmit(request.len());
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("a key in the request");
    let extensions = extensions
        .map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n"))
        .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extensions}\r\n",
        tungstenite::handshake::derive_accept_key(key.as_bytes())
    );
    wire.handle_bytes(response.as_bytes());
    match wire.poll_event()? {
        Some(WireEvent::Open { .. }) => Ok(wire),
        other => panic!("expected the upgrade, got {other:?}"),
    }
}

/// An unmasked server frame: `first` is the FIN/RSV/opcode byte.
pub fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        n @ 0..=125 => out.push(n as u8),
        n @ 126..=65535 => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// Raw deflate of `data` with a sync flush, the tail removed (one message,
/// no history): what a deflate bomb or a hostile payload is made of.
pub fn deflate_once(data: &[u8]) -> Vec<u8> {
    DeflatePeer::new(15, true).compress(data)
}

/// The server's two compression contexts.
pub struct DeflatePeer {
    compress: Compress,
    inflate: Decompress,
    no_context_takeover: bool,
}

impl DeflatePeer {
    /// A server compressing with a 2^`window_bits` window (9–15), resetting
    /// its compressor per message when `no_context_takeover`.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Self {
        DeflatePeer {
            compress: Compress::new_with_window_bits(Compression::default(), false, window_bits),
            inflate: Decompress::new_with_window_bits(false, 15),
            no_context_takeover,
        }
    }

    /// Compresses one message (RFC 7692 §7.2.1): sync flush, tail removed.
    pub fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start = self.compress.total_in();
        loop {
            let done = (self.compress.total_in() - start) as usize;
            self.compress
                .compress_vec(&data[done..], &mut out, FlushCompress::Sync)
                .expect("deflate");
            if (self.compress.total_in() - start) as usize == data.len()
                && out.len() < out.capacity()
            {
                break;
            }
            out.reserve(out.capacity().max(64));
        }
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
        if self.no_context_takeover {
            self.compress.reset();
        }
        out
    }

    /// One compressed message as frames of at most `fragment` payload bytes,
    /// RSV1 on the first only (RFC 7692 §6.1).
    pub fn message(&mut self, text: bool, data: &[u8], fragment: usize) -> Vec<u8> {
        let compressed = self.compress(data);
        fragments(text, true, &compressed, fragment)
    }

    /// What the client sent: `(compressed, opcode, payload)` per message,
    /// compressed ones inflated. Panics on a malformed frame sequence.
    pub fn read_client(&mut self, mut bytes: &[u8]) -> Vec<(bool, u8, Vec<u8>)> {
        let mut messages = Vec::new();
        let mut current: Option<(bool, u8, Vec<u8>)> = None;
        while !bytes.is_empty() {
            let (fin, rsv1, opcode, payload, used) = parse_client_frame(bytes);
            bytes = &bytes[used..];
            if opcode >= 0x8 {
                assert!(!rsv1, "a compressed control frame");
                messages.push((false, opcode, payload));
                continue;
            }
            let entry = current.get_or_insert((rsv1, opcode, Vec::new()));
            assert!(!rsv1 || opcode != 0, "RSV1 on a continuation frame");
            entry.2.extend_from_slice(&payload);
            if fin {
                let (compressed, opcode, mut data) = current.take().expect("a message");
                if compressed {
                    data.extend_from_slice(&TAIL);
                    data = self.inflate_all(&data);
                }
                messages.push((compressed, opcode, data));
            }
        }
        messages
    }

    fn inflate_all(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() * 4 + 64);
        let start = self.inflate.total_in();
        loop {
            let done = (self.inflate.total_in() - start) as usize;
            self.inflate
                .decompress_vec(&input[done..], &mut out, FlushDecompress::Sync)
                .expect("the client's compressed data inflates");
            if (self.inflate.total_in() - start) as usize == input.len()
                && out.len() < out.capacity()
            {
                return out;
            }
            out.reserve(out.capacity());
        }
    }
}

/// `data` as a message in frames of at most `fragment` bytes; RSV1 on the
/// first frame when `rsv1`.
pub fn fragments(text: bool, rsv1: bool, data: &[u8], fragment: usize) -> Vec<u8> {
    let fragment = fragment.max(1);
    let pieces: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(fragment).collect()
    };
    let mut out = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let mut first = if i == 0 {
            if text { 0x1 } else { 0x2 }
        } else {
            0x0
        };
        if i == 0 && rsv1 {
            first |= 0x40;
        }
        if i + 1 == pieces.len() {
            first |= 0x80;
        }
        out.extend(server_frame(first, piece));
    }
    out
}

/// `(fin, rsv1, opcode, unmasked payload, bytes used)` of the frame at the
/// front of `b`.
fn parse_client_frame(b: &[u8]) -> (bool, bool, u8, Vec<u8>, usize) {
    let (b0, b1) = (b[0], b[1]);
    assert!(b1 & 0x80 != 0, "client frames are masked");
    let (len, mut at) = match b1 & 0x7f {
        126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
        127 => (
            u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask = &b[at..at + 4];
    at += 4;
    let payload = b[at..at + len]
        .iter()
        .zip(mask.iter().cycle())
        .map(|(x, m)| x ^ m)
        .collect();
    (b0 & 0x80 != 0, b0 & 0x40 != 0, b0 & 0x0f, payload, at + len)
}
