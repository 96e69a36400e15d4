//! Compressing sent messages (RFC 7692 §7.2.1) into one reused buffer.

use flate2::{Compress, Compression, FlushCompress};

use super::{DeflateConfig, PerMessageDeflate};

/// The sending half of permessage-deflate on one connection.
#[derive(Debug)]
pub(crate) struct Deflater {
    /// `None` when the server demanded 8 bits, which zlib cannot produce:
    /// every message then goes out uncompressed (RFC 7692 §6 allows it).
    window_bits: Option<u8>,
    no_context_takeover: bool,
    min_size: usize,
    level: u32,
    /// zlib's state, created on the first message sent compressed.
    state: Option<Box<Compress>>,
    /// The compressed payload of the message being framed, reused.
    scratch: Vec<u8>,
}

/// The tail a sync flush ends with, removed from each message (RFC 7692 §7.2.1).
const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

impl Deflater {
    pub(crate) fn new(config: &DeflateConfig, agreed: &PerMessageDeflate) -> Self {
        let bits = agreed.client_max_window_bits;
        Deflater {
            window_bits: (bits >= 9).then_some(bits.min(15)),
            no_context_takeover: agreed.client_no_context_takeover,
            min_size: config.min_compress_size,
            level: config.level,
            state: None,
            scratch: Vec::new(),
        }
    }

    /// Compresses `payload` as one message, without the final `00 00 ff ff`
    /// (RFC 7692 §7.2.1); `None` when it goes out uncompressed (below the
    /// size threshold, or no usable window).
    pub(crate) fn compress(&mut self, payload: &[u8]) -> Option<&[u8]> {
        let bits = self
            .window_bits
            .filter(|_| payload.len() >= self.min_size)?;
        let level = Compression::new(self.level);
        let state = self
            .state
            .get_or_insert_with(|| Box::new(Compress::new_with_window_bits(level, false, bits)));
        let out = &mut self.scratch;
        out.clear();
        out.reserve(payload.len() / 2 + 64);
        let start = state.total_in();
        loop {
            let done = (state.total_in() - start) as usize;
            state
                .compress_vec(&payload[done..], out, FlushCompress::Sync)
                .expect("deflate with a valid state and a sync flush cannot fail");
            // The sync flush is complete once all input is in and zlib left
            // output space unused. Its empty stored block (§7.2.1) ends the
            // output, unless there was nothing to flush at all (an empty
            // message right after a flush: zlib adds no second block).
            let consumed = (state.total_in() - start) as usize == payload.len();
            if consumed
                && out.len() < out.capacity()
                && (out.is_empty() || out.ends_with(&SYNC_TAIL))
            {
                break;
            }
            out.reserve(out.capacity().max(1024));
        }
        if out.ends_with(&SYNC_TAIL) {
            out.truncate(out.len() - SYNC_TAIL.len());
        } else {
            // §7.2.3.6: an empty message is the single byte 0x00, the header
            // of the empty stored block whose LEN/NLEN the tail supplies.
            out.push(0x00);
        }
        if self.no_context_takeover {
            state.reset();
        }
        Some(&self.scratch)
    }

    /// Bytes held in the reused buffer (zlib's own state excluded).
    pub(crate) fn buffered(&self) -> usize {
        self.scratch.capacity()
    }

    /// Frees the reused buffer.
    pub(crate) fn shrink(&mut self) {
        self.scratch = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use proptest::prelude::*;

    use super::super::inflate::Inflater;
    use super::*;

    fn pair(bits: u8, no_context: bool) -> (Deflater, Inflater) {
        let agreed = PerMessageDeflate {
            client_max_window_bits: bits,
            client_no_context_takeover: no_context,
            ..PerMessageDeflate::default()
        };
        let config = DeflateConfig {
            min_compress_size: 0,
            ..DeflateConfig::default()
        };
        (
            Deflater::new(&config, &agreed),
            Inflater::new(bits, no_context),
        )
    }

    #[test]
    fn the_rfc_7692_hello_example_comes_out() {
        let (mut d, _) = pair(15, false);
        // §7.2.3.2: with context takeover the second "Hello" is a back-reference.
        assert_eq!(
            d.compress(b"Hello").unwrap(),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        assert_eq!(
            d.compress(b"Hello").unwrap(),
            [0xf2, 0x00, 0x11, 0x00, 0x00]
        );
        let (mut d, _) = pair(15, true);
        let first = d.compress(b"Hello").unwrap().to_vec();
        assert_eq!(d.compress(b"Hello").unwrap(), first);
    }

    #[test]
    fn small_messages_and_8_bit_windows_go_out_plain() {
        let config = DeflateConfig::default();
        let mut d = Deflater::new(&config, &PerMessageDeflate::default());
        assert!(d.compress(&[b'a'; 1023]).is_none());
        assert!(d.state.is_none(), "no compressor for small messages");
        assert!(d.compress(&[b'a'; 1024]).is_some());
        let eight = PerMessageDeflate {
            client_max_window_bits: 8,
            ..PerMessageDeflate::default()
        };
        assert!(
            Deflater::new(&config, &eight)
                .compress(&[b'a'; 5000])
                .is_none()
        );
    }

    /// Found by the property test: an empty message after a flush has
    /// nothing to flush; its payload is empty and inflates to nothing.
    #[test]
    fn empty_messages_in_a_row_round_trip() {
        for no_context in [false, true] {
            let (mut d, mut i) = pair(9, no_context);
            for message in [&b""[..], b"", b"x", b""] {
                let compressed = d.compress(message).unwrap().to_vec();
                let mut out = BytesMut::new();
                i.inflate(&compressed, &mut out, 1 << 20).unwrap();
                i.end_message(&mut out, 1 << 20).unwrap();
                assert_eq!(&out[..], message);
            }
        }
    }

    #[test]
    fn the_scratch_buffer_is_reused() {
        let (mut d, _) = pair(15, false);
        let message = br#"{"channel":"ticker.BTC-PERPETUAL","price":65000.5}"#.repeat(20);
        d.compress(&message).unwrap();
        let capacity = d.buffered();
        for _ in 0..100 {
            d.compress(&message).unwrap();
        }
        assert_eq!(d.buffered(), capacity);
    }

    /// A deflater for the given level, window 15, context takeover.
    fn at_level(level: u32) -> (Deflater, Inflater) {
        let config = DeflateConfig {
            min_compress_size: 0,
            level,
            ..DeflateConfig::default()
        };
        (
            Deflater::new(&config, &PerMessageDeflate::default()),
            Inflater::new(15, false),
        )
    }

    /// At level 0 the message's bytes are copied into stored blocks, so a
    /// message made of `00 00 ff ff` puts that pattern wherever zlib's
    /// output stops. Only the real sync flush's tail may end the message
    /// (RFC 7692 §7.2.1); each one must inflate to itself, also when zlib
    /// fills the buffer with the pattern before its flush is complete.
    #[test]
    fn a_stored_message_made_of_sync_tails_round_trips() {
        for len in 200..700 {
            // A new deflater each time: its buffer starts small.
            let (mut d, mut i) = at_level(0);
            let message: Vec<u8> = [0x00, 0x00, 0xff, 0xff]
                .iter()
                .copied()
                .cycle()
                .take(len)
                .collect();
            let compressed = d.compress(&message).unwrap().to_vec();
            let mut out = BytesMut::new();
            i.inflate(&compressed, &mut out, 1 << 20).unwrap();
            i.end_message(&mut out, 1 << 20).unwrap();
            assert_eq!(out.len(), len, "message of {len} bytes");
            assert_eq!(&out[..], &message[..]);
        }
    }

    #[test]
    fn buffered_counts_the_scratch_buffer_and_shrink_frees_it() {
        let (mut d, _) = at_level(0);
        assert_eq!(d.buffered(), 0, "nothing compressed yet");
        // Stored blocks: at least the 10,000 bytes themselves.
        d.compress(&[b'x'; 10_000]).unwrap();
        assert!(d.buffered() >= 10_000, "{}", d.buffered());
        d.shrink();
        assert_eq!(d.buffered(), 0);
        assert_eq!(d.compress(b"").unwrap(), [0x00]);
    }

    /// A message that compresses well does not make the buffer as large as
    /// the message itself.
    #[test]
    fn a_compressible_message_keeps_the_buffer_below_its_size() {
        let (mut d, _) = at_level(6);
        let compressed = d.compress(&[b'a'; 65_536]).unwrap().len();
        assert!(compressed < 1_000, "{compressed} bytes");
        assert!(d.buffered() < 65_536, "{}", d.buffered());
    }

    /// `len` bytes drawn from `seed`: any byte (`alphabet` 256) or the
    /// letters from `a` (`alphabet` up to 26).
    fn seeded_bytes(seed: u64, len: usize, alphabet: u16) -> Vec<u8> {
        use rand::{Rng, RngExt, SeedableRng, rngs::StdRng};
        let mut rng = StdRng::seed_from_u64(seed);
        match u8::try_from(alphabet) {
            Ok(letters) => (0..len)
                .map(|_| b'a' + rng.random_range(0..letters))
                .collect(),
            Err(_) => {
                let mut bytes = vec![0; len];
                rng.fill_bytes(&mut bytes);
                bytes
            }
        }
    }

    proptest! {
        #[test]
        fn messages_round_trip_with_and_without_context_takeover(
            messages in proptest::collection::vec(
                // Noise (incompressible) or text of four letters (which
                // compresses well), from a seed: generating 20,000 bytes
                // one by one takes proptest seconds in a debug build.
                (any::<u64>(), 0usize..20_000, any::<bool>()).prop_map(|(seed, len, noise)| {
                    if noise { seeded_bytes(seed, len % 3_000, 256) } else { seeded_bytes(seed, len, 4) }
                }),
                1..12,
            ),
            bits in 9u8..=15,
            no_context in any::<bool>(),
            cut in 1usize..50,
        ) {
            let (mut d, mut i) = pair(bits, no_context);
            let mut out = BytesMut::new();
            for message in &messages {
                let compressed = d.compress(message).unwrap().to_vec();
                out.clear();
                // Inflate in pieces, as fragments would arrive.
                for piece in compressed.chunks(cut) {
                    i.inflate(piece, &mut out, 1 << 20).unwrap();
                }
                i.end_message(&mut out, 1 << 20).unwrap();
                prop_assert_eq!(&out[..], &message[..]);
            }
        }
    }
}
