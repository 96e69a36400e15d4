//! An in-memory, non-blocking duplex byte stream.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// An in-memory duplex stream: `Read` drains the *inbound* queue, `Write`
/// appends to the *outbound* queue.
///
/// `read` returns [`io::ErrorKind::WouldBlock`] while the inbound queue is
/// empty — like a non-blocking socket with nothing to read — and `Ok(0)`
/// (end of stream) once [`close_inbound`](Self::close_inbound) was called and
/// the queue is drained. Writes never block.
///
/// Clones share the same queues, so one clone can be handed to a protocol
/// implementation as its "socket" while the test keeps another to feed and
/// drain it.
///
/// ```
/// use std::io::{ErrorKind, Read, Write};
/// use wsnova_tests::MemDuplex;
///
/// let mut sock = MemDuplex::new();
/// let test_side = sock.clone();
/// let mut buf = [0u8; 8];
/// assert_eq!(sock.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
/// test_side.push_inbound(b"hi");
/// assert_eq!(sock.read(&mut buf).unwrap(), 2);
/// sock.write_all(b"yo").unwrap();
/// assert_eq!(test_side.take_outbound(), b"yo");
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemDuplex {
    queues: Arc<Mutex<Queues>>,
}

#[derive(Debug, Default)]
struct Queues {
    inbound: VecDeque<u8>,
    outbound: Vec<u8>,
    inbound_closed: bool,
}

impl MemDuplex {
    /// Creates a duplex with both queues empty.
    pub fn new() -> MemDuplex {
        MemDuplex::default()
    }

    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends bytes for the reader to consume.
    pub fn push_inbound(&self, bytes: &[u8]) {
        self.lock().inbound.extend(bytes);
    }

    /// Marks the inbound direction as finished: once the queued bytes are
    /// consumed, `read` returns `Ok(0)` instead of `WouldBlock`.
    pub fn close_inbound(&self) {
        self.lock().inbound_closed = true;
    }

    /// Number of inbound bytes not yet read.
    pub fn inbound_len(&self) -> usize {
        self.lock().inbound.len()
    }

    /// Takes (and clears) everything written so far.
    pub fn take_outbound(&self) -> Vec<u8> {
        std::mem::take(&mut self.lock().outbound)
    }

    /// Number of written bytes not yet taken.
    pub fn outbound_len(&self) -> usize {
        self.lock().outbound.len()
    }
}

impl Read for MemDuplex {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut q = self.lock();
        if q.inbound.is_empty() && !buf.is_empty() {
            return if q.inbound_closed {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        q.inbound.read(buf)
    }
}

impl Write for MemDuplex {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().outbound.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_would_block_until_bytes_arrive() {
        let mut d = MemDuplex::new();
        let mut buf = [0u8; 4];
        let err = d.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        d.push_inbound(b"abcdef");
        assert_eq!(d.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf, b"abcd");
        assert_eq!(d.inbound_len(), 2);
        assert_eq!(d.read(&mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"ef");
        assert_eq!(
            d.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    }

    #[test]
    fn close_inbound_gives_eof_after_the_queue_drains() {
        let mut d = MemDuplex::new();
        d.push_inbound(b"x");
        d.close_inbound();
        let mut buf = [0u8; 4];
        assert_eq!(d.read(&mut buf).unwrap(), 1);
        assert_eq!(d.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn clones_share_queues_and_take_clears_output() {
        let mut a = MemDuplex::new();
        let b = a.clone();
        a.write_all(b"one").unwrap();
        a.write_all(b"two").unwrap();
        assert_eq!(b.outbound_len(), 6);
        assert_eq!(b.take_outbound(), b"onetwo");
        assert!(b.take_outbound().is_empty());
    }
}
