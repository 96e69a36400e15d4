//! A minimal RFC 6455 frame codec: enough for a fast echo server and for a
//! raw-TCP client that writes the bytes a WebSocket client would.
//!
//! No extensions, no UTF-8 checks: the server echoes each frame as it comes
//! (same FIN bit, RSV bits and opcode), so fragmented messages come back
//! fragmented the same way.

use std::fmt;

/// The FIN bit of a frame's first byte.
pub const FIN: u8 = 0x80;
/// Opcode of a continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// Opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;
/// The largest payload the parser accepts (64 MiB).
pub const MAX_PAYLOAD: usize = 64 << 20;
/// The longest frame header: 2 bytes, 8 bytes of length, 4 bytes of mask.
pub const MAX_HEADER: usize = 14;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The first byte as sent: FIN, RSV1-3 and the opcode.
    pub first: u8,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The header's length in bytes (2 to 14).
    pub header_len: usize,
    /// The payload's length in bytes.
    pub payload_len: usize,
}

impl Header {
    /// The opcode (low nibble of the first byte).
    pub fn opcode(&self) -> u8 {
        self.first & 0x0F
    }

    /// Whether the FIN bit is set.
    pub fn fin(&self) -> bool {
        self.first & FIN != 0
    }

    /// Header plus payload, in bytes.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.payload_len
    }
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The payload length is over [`MAX_PAYLOAD`] (or has its top bit set).
    TooLarge(u64),
    /// A control frame longer than 125 bytes or without FIN.
    BadControl,
    /// An opcode RFC 6455 reserves (3-7, 0xB-0xF).
    ReservedOpcode(u8),
    /// A client frame without a mask (RFC 6455 §5.1: the server must close).
    Unmasked,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(len) => write!(f, "frame payload of {len} bytes is too large"),
            Self::BadControl => f.write_str("control frame is fragmented or longer than 125 bytes"),
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::Unmasked => f.write_str("client frame is not masked"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Parses the frame header at the start of `buf`.
///
/// `Ok(None)` means the header is not complete yet (the payload is not
/// looked at: compare [`Header::frame_len`] with what is buffered).
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, FrameError> {
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    let (len, mut pos) = match second & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => (u64::from_be_bytes(b.try_into().expect("8 bytes")), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    match first & 0x0F {
        OP_CONTINUATION | OP_TEXT | OP_BINARY => {}
        OP_CLOSE | OP_PING | OP_PONG => {
            if len > 125 || first & FIN == 0 {
                return Err(FrameError::BadControl);
            }
        }
        op => return Err(FrameError::ReservedOpcode(op)),
    }
    if len > MAX_PAYLOAD as u64 {
        return Err(FrameError::TooLarge(len));
    }
    let mask = if second & 0x80 != 0 {
        let Some(m) = buf.get(pos..pos + 4) else {
            return Ok(None);
        };
        pos += 4;
        Some([m[0], m[1], m[2], m[3]])
    } else {
        None
    };
    Ok(Some(Header {
        first,
        mask,
        header_len: pos,
        payload_len: len as usize,
    }))
}

/// XORs `data` with `mask`, as if `data` started at payload offset 0.
pub fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let [a, b, c, d] = mask;
    let wide = u64::from_ne_bytes([a, b, c, d, a, b, c, d]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes((&*chunk).try_into().expect("8 bytes")) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so the mask phase is 0 again.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
}

/// Appends a frame header to `out`.
pub fn encode_header(out: &mut Vec<u8>, first: u8, payload_len: usize, mask: Option<[u8; 4]>) {
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    out.push(first);
    if payload_len < 126 {
        out.push(mask_bit | payload_len as u8);
    } else if let Ok(len) = u16::try_from(payload_len) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(payload_len as u64).to_be_bytes());
    }
    if let Some(mask) = mask {
        out.extend_from_slice(&mask);
    }
}

/// Appends a whole frame to `out`, masking the payload if `mask` is given.
pub fn encode_frame(out: &mut Vec<u8>, first: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    encode_header(out, first, payload.len(), mask);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(mask) = mask {
        apply_mask(&mut out[start..], mask);
    }
}

/// What [`echo_frames`] did with a buffer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Echoed {
    /// Bytes of whole frames consumed from the front of the input.
    pub consumed: usize,
    /// Frames consumed.
    pub frames: usize,
    /// A close frame was consumed (and echoed): the connection is done.
    pub closed: bool,
}

/// The echo server's core: consumes every whole client frame at the front of
/// `input` and appends the replies to `out`, unmasked.
///
/// Data and continuation frames and close frames are echoed with the same
/// first byte; a ping is answered with a pong carrying its payload; a pong is
/// dropped. Processing stops after a close frame. An incomplete frame at the
/// end is left for the next read (`consumed` stops before it).
pub fn echo_frames(input: &[u8], out: &mut Vec<u8>) -> Result<Echoed, FrameError> {
    let mut done = Echoed::default();
    while let Some(header) = parse_header(&input[done.consumed..])? {
        let start = done.consumed + header.header_len;
        let end = start + header.payload_len;
        if end > input.len() {
            break;
        }
        let mask = header.mask.ok_or(FrameError::Unmasked)?;
        done.consumed = end;
        done.frames += 1;
        let reply_first = match header.opcode() {
            OP_PONG => continue,
            OP_PING => FIN | OP_PONG,
            _ => header.first,
        };
        encode_header(out, reply_first, header.payload_len, None);
        let at = out.len();
        out.extend_from_slice(&input[start..end]);
        apply_mask(&mut out[at..], mask);
        if header.opcode() == OP_CLOSE {
            done.closed = true;
            break;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(&mut out, first, payload, Some(MASK));
        out
    }

    fn unmasked(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(&mut out, first, payload, None);
        out
    }

    fn payload(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn rfc6455_examples() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let frame = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(frame.to_vec(), masked(FIN | OP_TEXT, b"Hello"));
        let header = parse_header(&frame).unwrap().unwrap();
        assert_eq!(header.opcode(), OP_TEXT);
        assert!(header.fin());
        assert_eq!(header.mask, Some(MASK));
        assert_eq!((header.header_len, header.payload_len), (6, 5));
        let mut out = Vec::new();
        let done = echo_frames(&frame, &mut out).unwrap();
        assert_eq!(
            done,
            Echoed {
                consumed: 11,
                frames: 1,
                closed: false
            }
        );
        assert_eq!(out, [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
    }

    #[test]
    fn length_encodings() {
        for len in [0, 1, 125, 126, 127, 0xFFFF, 0x1_0000, 16 * 1024, 300_000] {
            let frame = masked(FIN | OP_BINARY, &payload(len));
            let header = parse_header(&frame).unwrap().unwrap();
            let expected_header = match len {
                0..=125 => 6,
                126..=0xFFFF => 8,
                _ => 14,
            };
            assert_eq!(
                (header.header_len, header.payload_len),
                (expected_header, len)
            );
            assert_eq!(header.frame_len(), frame.len());
            let mut out = Vec::new();
            let done = echo_frames(&frame, &mut out).unwrap();
            assert_eq!(done.consumed, frame.len());
            assert_eq!(out, unmasked(FIN | OP_BINARY, &payload(len)), "len {len}");
        }
    }

    #[test]
    fn incomplete_header_and_payload_wait_for_more() {
        let frame = masked(FIN | OP_BINARY, &payload(16 * 1024));
        for cut in [0, 1, 2, 3, 4, 7, 8, 9, 100, frame.len() - 1] {
            let mut out = Vec::new();
            let done = echo_frames(&frame[..cut], &mut out).unwrap();
            assert_eq!(done, Echoed::default(), "cut at {cut}");
            assert!(out.is_empty());
        }
        assert_eq!(parse_header(&frame[..7]).unwrap(), None);
        assert!(parse_header(&frame[..8]).unwrap().is_some());
    }

    #[test]
    fn split_across_reads_like_the_server() {
        // Many frames of mixed sizes, fed in awkward chunk sizes through a
        // buffer handled the way the server handles its read buffer.
        let sizes = [64, 0, 125, 126, 16 * 1024, 3, 70_000, 64];
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (i, &len) in sizes.iter().enumerate() {
            let op = if i % 2 == 0 { OP_BINARY } else { OP_TEXT };
            stream.extend(masked(FIN | op, &payload(len)));
            expected.extend(unmasked(FIN | op, &payload(len)));
        }
        for chunk in [1, 2, 5, 13, 64, 1000, 4096, 65_536] {
            let (mut buf, mut out, mut frames) = (Vec::new(), Vec::new(), 0);
            for piece in stream.chunks(chunk) {
                buf.extend_from_slice(piece);
                let done = echo_frames(&buf, &mut out).unwrap();
                buf.drain(..done.consumed);
                frames += done.frames;
            }
            assert!(buf.is_empty(), "chunk {chunk}");
            assert_eq!(frames, sizes.len());
            assert_eq!(out, expected, "chunk {chunk}");
        }
    }

    #[test]
    fn control_frames() {
        let mut input = masked(FIN | OP_PING, b"are you there");
        input.extend(masked(FIN | OP_PONG, b"ignored"));
        input.extend(masked(FIN | OP_BINARY, b"data"));
        input.extend(masked(FIN | OP_CLOSE, &[0x03, 0xe8, b'b', b'y', b'e']));
        input.extend(masked(FIN | OP_BINARY, b"after close"));
        let mut out = Vec::new();
        let done = echo_frames(&input, &mut out).unwrap();
        assert!(done.closed);
        assert_eq!(done.frames, 4);
        assert_eq!(
            done.consumed,
            input.len() - masked(FIN | OP_BINARY, b"after close").len()
        );
        let mut expected = unmasked(FIN | OP_PONG, b"are you there");
        expected.extend(unmasked(FIN | OP_BINARY, b"data"));
        expected.extend(unmasked(FIN | OP_CLOSE, &[0x03, 0xe8, b'b', b'y', b'e']));
        assert_eq!(out, expected);
    }

    #[test]
    fn fragments_are_echoed_as_fragments() {
        let mut input = masked(OP_TEXT, b"frag");
        input.extend(masked(FIN | OP_PING, b"p"));
        input.extend(masked(OP_CONTINUATION, b"men"));
        input.extend(masked(FIN | OP_CONTINUATION, b"ted"));
        let mut out = Vec::new();
        echo_frames(&input, &mut out).unwrap();
        let mut expected = unmasked(OP_TEXT, b"frag");
        expected.extend(unmasked(FIN | OP_PONG, b"p"));
        expected.extend(unmasked(OP_CONTINUATION, b"men"));
        expected.extend(unmasked(FIN | OP_CONTINUATION, b"ted"));
        assert_eq!(out, expected);
    }

    #[test]
    fn protocol_errors() {
        let mut out = Vec::new();
        let err = |bytes: &[u8]| echo_frames(bytes, &mut Vec::new()).unwrap_err();
        assert_eq!(err(&unmasked(FIN | OP_BINARY, b"x")), FrameError::Unmasked);
        assert_eq!(err(&masked(OP_PING, b"x")), FrameError::BadControl);
        assert_eq!(
            err(&masked(FIN | OP_CLOSE, &[0; 126])),
            FrameError::BadControl
        );
        assert_eq!(err(&masked(FIN | 0x3, b"x")), FrameError::ReservedOpcode(3));
        assert_eq!(
            err(&masked(FIN | 0xB, b"x")),
            FrameError::ReservedOpcode(0xB)
        );
        let mut huge = vec![FIN | OP_BINARY, 0x80 | 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(err(&huge), FrameError::TooLarge(u64::MAX));
        // A valid frame before the bad one is still consumed first.
        let mut input = masked(FIN | OP_BINARY, b"ok");
        input.extend(unmasked(FIN | OP_BINARY, b"bad"));
        assert_eq!(echo_frames(&input, &mut out), Err(FrameError::Unmasked));
    }

    #[test]
    fn mask_matches_bytewise_xor() {
        for len in 0..40 {
            let data = payload(len);
            let mut fast = data.clone();
            apply_mask(&mut fast, MASK);
            let slow: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ MASK[i % 4])
                .collect();
            assert_eq!(fast, slow, "len {len}");
        }
    }
}
