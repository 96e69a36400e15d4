//! Reading straight into the wire's own buffer: a driver that can read
//! into spare capacity hands its socket's bytes to the decoder without the
//! copy [`Wire::handle_bytes`] makes.

use bytes::BytesMut;

use super::{State, Wire};

/// The smallest room offered to a read: one small message per read (the
/// usual request/response traffic) then never pins more than this.
const MIN_READ: usize = 4 * 1024;
/// The largest room offered to a read, reached by doubling while reads
/// fill what they are offered (a flood); the same bound as the drivers'
/// own read buffers, so the inbound buffer's documented bound (one frame
/// plus one read) holds.
const MAX_READ: usize = 64 * 1024;

/// How much room a driver offers the next socket read: 4 KiB at first,
/// doubling while reads fill what they are offered (a flood) up to 64 KiB,
/// halving back when reads use under a quarter of it. Small messages then
/// never hold a large buffer, and a flood is read in few syscalls.
///
/// The wire sizes its own read buffer with it ([`Wire::read_buffer`]);
/// drivers that keep a read buffer of their own use it too.
///
/// ```
/// use wsnova_core::wire::ReadSize;
/// let mut size = ReadSize::default();
/// assert_eq!(size.next(), 4096);
/// size.adapt(4096, 4096); // the read filled all it was offered
/// assert_eq!(size.next(), 8192);
/// size.adapt(100, 8192); // under a quarter
/// assert_eq!(size.next(), 4096);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ReadSize {
    next: u32,
}

impl Default for ReadSize {
    fn default() -> Self {
        ReadSize {
            next: MIN_READ as u32,
        }
    }
}

impl ReadSize {
    /// The room to reserve for the next read.
    pub fn next(&self) -> usize {
        self.next as usize
    }

    /// A read took `read` bytes of the `offered` room.
    pub fn adapt(&mut self, read: usize, offered: usize) {
        let next = self.next();
        let next = if read >= offered {
            (next * 2).min(MAX_READ)
        } else if read < next / 4 {
            (next / 2).max(MIN_READ)
        } else {
            next
        };
        self.next = next as u32;
    }
}

impl Wire {
    /// The buffer a driver may read plaintext socket bytes straight into,
    /// appending after what it holds, with room for at least one read;
    /// report what was appended with [`bytes_read`](Self::bytes_read).
    /// Saves the copy [`handle_bytes`](Self::handle_bytes) makes.
    ///
    /// `None` when bytes must go through `handle_bytes` instead: over TLS
    /// (they must be decrypted), while a proxy tunnel opens, and once the
    /// connection has failed or closed (they are dropped there).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rand::SeedableRng;
    /// use wsnova_core::wire::{Wire, WireConfig};
    ///
    /// let config = Arc::new(WireConfig::new("ws://127.0.0.1:9001/")?);
    /// let mut wire = Wire::new(config, &mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// let reply = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    /// let buf = wire.read_buffer().expect("plaintext");
    /// assert!(buf.capacity() - buf.len() >= 4096);
    /// buf.extend_from_slice(reply); // what a socket read would append
    /// wire.bytes_read(reply.len());
    /// assert!(wire.poll_event().unwrap_err().to_string().contains("403"));
    /// assert!(wire.read_buffer().is_none()); // failed: input is dropped
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn read_buffer(&mut self) -> Option<&mut BytesMut> {
        let takes_plaintext = matches!(
            self.state,
            State::Handshaking(_) | State::Open | State::Closing
        );
        if !takes_plaintext
            || self.tls.is_some()
            || self.input_error.is_some()
            || self.violation.is_some()
        {
            return None;
        }
        let room = self.inbound.capacity() - self.inbound.len();
        if room < MIN_READ {
            // Reclaims the front when no message still holds it, else
            // allocates afresh (BytesMut::reserve).
            self.inbound.reserve(self.read_size.next());
        }
        self.read_offered = (self.inbound.capacity() - self.inbound.len()) as u32;
        Some(&mut self.inbound)
    }

    /// Records that a read appended `n` bytes to [`read_buffer`](Self::read_buffer);
    /// they are decoded by the next [`poll_event`](Self::poll_event).
    pub fn bytes_read(&mut self, n: usize) {
        self.read_size.adapt(n, self.read_offered as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_grows_under_a_flood_and_shrinks_back_for_small_reads() {
        let mut size = ReadSize::default();
        assert_eq!(size.next(), 4096);
        for expected in [8192, 16384, 32768, 65536, 65536] {
            size.adapt(size.next(), size.next()); // filled what it was offered
            assert_eq!(size.next(), expected);
        }
        for expected in [32768, 16384, 8192, 4096, 4096] {
            size.adapt(100, size.next());
            assert_eq!(size.next(), expected);
        }
        size.adapt(2048, 65536); // half of 4096: neither filled nor under a quarter
        assert_eq!(size.next(), 4096);
    }
}
