//! The one outgoing byte buffer a connection has: many frames, one write.

/// Bytes waiting for the socket, with partial-write support.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    bytes: Vec<u8>,
    /// How many bytes at the front were already written.
    sent: usize,
    /// Bytes written to the socket over the buffer's life: with
    /// [`queued_total`](Self::queued_total), tells whether a given byte left.
    sent_total: u64,
}

impl OutBuf {
    /// The bytes still to write.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.bytes[self.sent..]
    }

    /// Records that the socket took `n` more bytes.
    pub(crate) fn advance(&mut self, n: usize) {
        let n = n.min(self.bytes.len() - self.sent);
        self.sent_total += n as u64;
        self.sent += n;
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

    /// Bytes written to the socket so far, over the buffer's life.
    pub(crate) fn sent_total(&self) -> u64 {
        self.sent_total
    }

    /// Bytes ever queued: a byte queued when this was `q` has left once
    /// [`sent_total`](Self::sent_total) reaches `q`.
    pub(crate) fn queued_total(&self) -> u64 {
        self.sent_total + self.pending().len() as u64
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

    #[test]
    fn a_written_batch_leaves_its_capacity_for_the_next() {
        let mut out = OutBuf::default();
        out.vec().extend_from_slice(&[1; 70_000]);
        let (ptr, capacity) = (out.pending().as_ptr(), out.capacity());
        out.advance(70_000);
        out.vec().extend_from_slice(&[2; 70_000]);
        // No allocation and no growth copy: the same buffer, from its start.
        assert_eq!((out.pending().as_ptr(), out.capacity()), (ptr, capacity));
        assert_eq!(out.queued_total(), 140_000);
    }

    #[test]
    fn written_bytes_are_dropped_only_past_4096_and_half_the_buffer() {
        // Compaction is seen in where the pending bytes start: at the
        // buffer's start once the written front was dropped.
        let compacts = |len: usize, sent: usize| {
            let mut out = OutBuf::default();
            out.vec().extend_from_slice(&vec![7; len]);
            let start = out.pending().as_ptr();
            out.advance(sent);
            out.vec();
            assert_eq!(out.pending(), vec![7; len - sent], "{len} {sent}");
            out.pending().as_ptr() == start
        };
        assert!(compacts(5000, 4097));
        assert!(!compacts(5000, 4096), "not past 4096");
        assert!(!compacts(10_000, 5000), "not more than half");
        assert!(compacts(10_000, 5001));
    }

    #[test]
    fn totals_count_every_byte_written_and_queued() {
        let mut out = OutBuf::default();
        out.vec().extend_from_slice(&[1; 10]);
        assert_eq!((out.sent_total(), out.queued_total()), (0, 10));
        out.advance(3);
        assert_eq!((out.sent_total(), out.queued_total()), (3, 10));
        out.advance(100); // more than pending: only the 7 left count
        assert_eq!((out.sent_total(), out.queued_total()), (10, 10));
        out.vec().extend_from_slice(&[2; 5]);
        assert_eq!((out.sent_total(), out.queued_total()), (10, 15));
        assert_eq!(out.pending(), [2; 5]);
        assert!(out.capacity() >= 10, "holds what was queued");
    }
}
