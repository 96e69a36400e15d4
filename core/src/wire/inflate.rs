//! Inflating received messages (RFC 7692 §7.2.2), incrementally and with a
//! bounded output: a deflate bomb costs at most the message size limit.

use bytes::BytesMut;
use flate2::{Decompress, FlushDecompress, Status};

use super::WireError;

/// The empty stored block the sender removed from each message (RFC 7692
/// §7.2.1); the receiver appends it before inflating the message's end.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// The first output chunk per call is a few times the input, at least this.
const MIN_CHUNK: usize = 1024;
/// Output is grown by at most this much per step (then inflated into).
const MAX_CHUNK: usize = 64 * 1024;

/// The receiving half of permessage-deflate on one connection.
#[derive(Debug)]
pub(crate) struct Inflater {
    window_bits: u8,
    no_context_takeover: bool,
    /// zlib's state, created on the first compressed message.
    state: Option<Box<Decompress>>,
    /// The output buffer between messages, reused (its capacity comes back
    /// once the application drops the previous message).
    spare: BytesMut,
}

impl Inflater {
    /// `window_bits` as negotiated (`server_max_window_bits`); zlib needs at
    /// least 9, which decodes any 8-bit stream too.
    pub(crate) fn new(window_bits: u8, no_context_takeover: bool) -> Self {
        Inflater {
            window_bits: window_bits.clamp(9, 15),
            no_context_takeover,
            state: None,
            spare: BytesMut::new(),
        }
    }

    /// The buffer to inflate the next message into.
    pub(crate) fn take_buffer(&mut self) -> BytesMut {
        std::mem::take(&mut self.spare)
    }

    /// Returns a message's buffer after its bytes were split off.
    pub(crate) fn give_back(&mut self, buffer: BytesMut) {
        self.spare = buffer;
    }

    /// Inflates one frame's payload, appending to `out`; fails with
    /// [`WireError::MessageTooLarge`] as soon as `out` would pass `limit`.
    pub(crate) fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), WireError> {
        let bits = self.window_bits;
        let state = self
            .state
            .get_or_insert_with(|| Box::new(Decompress::new_with_window_bits(false, bits)));
        let mut chunk = input.len().saturating_mul(4).clamp(MIN_CHUNK, MAX_CHUNK);
        loop {
            // One byte past the limit is room enough to see it passed.
            let room = chunk.min(limit + 1 - out.len());
            let start = out.len();
            grow_within(out, room, limit + 1);
            out.resize(start + room, 0);
            let (in_before, out_before) = (state.total_in(), state.total_out());
            let status = state.decompress(input, &mut out[start..], FlushDecompress::Sync);
            let consumed = (state.total_in() - in_before) as usize;
            let produced = (state.total_out() - out_before) as usize;
            out.truncate(start + produced);
            input = &input[consumed..];
            if out.len() > limit {
                return Err(WireError::MessageTooLarge {
                    size: out.len() as u64,
                    limit,
                });
            }
            match status {
                Err(_) => return Err(WireError::Protocol("invalid compressed data (RFC 7692)")),
                // A block with BFINAL set ends the stream (RFC 7692 §7.2.3.3
                // allows it); whatever follows starts a new one.
                Ok(Status::StreamEnd) => {
                    state.reset(false);
                    if input.is_empty() {
                        return Ok(());
                    }
                }
                Ok(Status::Ok | Status::BufError) => {
                    if input.is_empty() && produced < room {
                        return Ok(());
                    }
                    if consumed == 0 && produced == 0 {
                        return Err(WireError::Protocol("invalid compressed data (RFC 7692)"));
                    }
                }
            }
            chunk = (chunk * 2).min(MAX_CHUNK);
        }
    }

    /// Ends a message: inflates the tail the sender removed and forgets the
    /// history when the server does not keep it (RFC 7692 §7.2.2, §7.1.1.1).
    pub(crate) fn end_message(
        &mut self,
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), WireError> {
        self.inflate(&TAIL, out, limit)?;
        if self.no_context_takeover {
            if let Some(state) = self.state.as_mut() {
                state.reset(false);
            }
        }
        Ok(())
    }

    /// Bytes held in the reused buffer (zlib's own state excluded).
    pub(crate) fn buffered(&self) -> usize {
        self.spare.capacity()
    }

    /// Frees the reused buffer.
    pub(crate) fn shrink(&mut self) {
        self.spare = BytesMut::new();
    }
}

/// Makes room for `more` bytes without the buffer's usual doubling passing
/// `cap`: near the limit it is allocated at exactly `cap` bytes, so a bomb
/// costs the limit, not twice the limit.
fn grow_within(out: &mut BytesMut, more: usize, cap: usize) {
    let needed = out.len() + more;
    if needed <= out.capacity() || out.capacity().saturating_mul(2) <= cap {
        return; // fits, or ordinary doubling stays under the cap
    }
    let mut exact = BytesMut::with_capacity(cap.max(needed));
    exact.extend_from_slice(out);
    *out = exact;
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    fn deflate_raw(data: &[u8]) -> Vec<u8> {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() / 100 + 1024);
        loop {
            let before = c.total_in() as usize;
            c.compress_vec(&data[before..], &mut out, FlushCompress::Sync)
                .unwrap();
            if c.total_in() as usize == data.len() && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity());
        }
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
        out
    }

    #[test]
    fn a_bomb_stops_at_the_limit_with_bounded_memory() {
        let bomb = deflate_raw(&vec![0u8; 64 << 20]); // 64 MiB of zeros
        assert!(bomb.len() < 100 << 10, "{}", bomb.len());
        let limit = 1 << 20;
        let mut inflater = Inflater::new(15, false);
        let mut out = BytesMut::new();
        let err = inflater.inflate(&bomb, &mut out, limit).unwrap_err();
        assert!(matches!(err, WireError::MessageTooLarge { size, .. } if size == limit as u64 + 1));
        assert!(out.capacity() <= limit + 1, "{}", out.capacity());
    }

    #[test]
    fn the_buffer_given_back_is_the_one_taken_for_the_next_message() {
        let mut inflater = Inflater::new(15, false);
        assert_eq!(inflater.buffered(), 0);
        let mut out = inflater.take_buffer();
        inflater
            .inflate(
                &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                &mut out,
                1 << 20,
            )
            .unwrap();
        inflater.end_message(&mut out, 1 << 20).unwrap();
        assert_eq!(&out.split()[..], b"Hello");
        inflater.give_back(out);
        let held = inflater.buffered();
        assert!(held >= MIN_CHUNK - 5, "{held}");
        assert_eq!(inflater.take_buffer().capacity(), held);
        assert_eq!(inflater.buffered(), 0);
        inflater.give_back(BytesMut::with_capacity(4096));
        assert_eq!(inflater.buffered(), 4096);
        inflater.shrink();
        assert_eq!(inflater.buffered(), 0);
    }

    #[test]
    fn near_the_cap_the_buffer_grows_to_exactly_the_cap() {
        // Doubling 600 would give 1,200, past the cap of 1,000.
        let mut near = BytesMut::with_capacity(600);
        near.extend_from_slice(&[1; 600]);
        grow_within(&mut near, 300, 1000);
        assert_eq!((near.capacity(), &near[..]), (1000, &[1; 600][..]));
        // Room that fits is left alone: same allocation.
        let mut fits = BytesMut::with_capacity(600);
        fits.extend_from_slice(&[2; 100]);
        let at = fits.as_ptr();
        grow_within(&mut fits, 500, 1000);
        assert_eq!((fits.as_ptr(), fits.capacity()), (at, 600));
        // Far below the cap, the caller's ordinary doubling is kept.
        let mut far = BytesMut::with_capacity(100);
        far.extend_from_slice(&[3; 100]);
        grow_within(&mut far, 50, 1000);
        assert_eq!(far.capacity(), 100);
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        let mut inflater = Inflater::new(15, false);
        let mut out = BytesMut::new();
        let err = inflater
            .inflate(&[0xff; 32], &mut out, 1 << 20)
            .unwrap_err();
        assert_eq!(
            err,
            WireError::Protocol("invalid compressed data (RFC 7692)")
        );
    }

    #[test]
    fn the_rfc_7692_examples_inflate() {
        // §7.2.3.1: "Hello" compressed, then (with takeover) the same again.
        let mut inflater = Inflater::new(15, false);
        let mut out = BytesMut::new();
        inflater
            .inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        inflater.end_message(&mut out, 100).unwrap();
        assert_eq!(&out[..], b"Hello");
        out.clear();
        inflater
            .inflate(&[0xf2, 0x00, 0x11, 0x00, 0x00], &mut out, 100)
            .unwrap();
        inflater.end_message(&mut out, 100).unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.3: a BFINAL block, no tail needed.
        let mut inflater = Inflater::new(15, true);
        out.clear();
        inflater
            .inflate(&[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        inflater.end_message(&mut out, 100).unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.4: two blocks in one message.
        let two = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        out.clear();
        inflater.inflate(&two, &mut out, 100).unwrap();
        inflater.end_message(&mut out, 100).unwrap();
        assert_eq!(&out[..], b"Hello");
    }
}
