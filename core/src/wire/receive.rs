//! Reading straight into the wire's own buffer: a driver that can read
//! into spare capacity hands its socket's bytes to the decoder without the
//! copy [`Wire::handle_bytes`] makes.

use bytes::BytesMut;

use super::{State, Wire};

const MIN_READ: usize = super::read_size::MIN_READ;

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
#[path = "receive_tests.rs"]
mod tests;
