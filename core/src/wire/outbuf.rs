//! The one outgoing byte buffer a connection has: many frames, one write.

/// Bytes waiting for the socket, with partial-write support.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    bytes: Vec<u8>,
    /// How many bytes at the front were already written.
    sent: usize,
}

impl OutBuf {
    /// The bytes still to write.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.bytes[self.sent..]
    }

    /// Records that the socket took `n` more bytes.
    pub(crate) fn advance(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.bytes.len());
        if self.sent == self.bytes.len() {
            self.bytes.clear();
            self.sent = 0;
        }
    }

    /// The vector to append to; written bytes are dropped from the front first
    /// when they make up most of it, so a slow socket does not grow it forever.
    pub(crate) fn vec(&mut self) -> &mut Vec<u8> {
        if self.sent > 4096 && self.sent * 2 > self.bytes.len() {
            self.bytes.drain(..self.sent);
            self.sent = 0;
        }
        &mut self.bytes
    }

    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Frees the capacity when nothing is pending.
    pub(crate) fn shrink(&mut self) {
        if self.pending().is_empty() {
            self.bytes = Vec::new();
            self.sent = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_keep_order_and_compaction_keeps_bytes() {
        let mut out = OutBuf::default();
        out.vec().extend_from_slice(&[1; 5000]);
        out.vec().extend_from_slice(&[2; 10]);
        out.advance(4999);
        assert_eq!(out.pending().len(), 11);
        out.vec().extend_from_slice(&[3; 2]);
        assert_eq!(out.pending(), [&[1][..], &[2; 10], &[3; 2]].concat());
        out.advance(100);
        assert!(out.pending().is_empty());
        out.shrink();
        assert_eq!(out.capacity(), 0);
    }
}
