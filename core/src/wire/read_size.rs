//! How much room a driver offers the next socket read ([`ReadSize`]).

/// The smallest room offered to a read: one small message per read (the
/// usual request/response traffic) then never pins more than this.
pub(super) const MIN_READ: usize = 4 * 1024;
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
/// The wire sizes its own read buffer with it ([`Wire::read_buffer`](super::Wire::read_buffer));
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

    #[test]
    fn the_room_halves_only_below_a_quarter() {
        let mut size = ReadSize::default();
        size.adapt(4096, 4096);
        size.adapt(8192, 8192);
        assert_eq!(size.next(), 16384);
        size.adapt(8192, 16384); // half: kept
        assert_eq!(size.next(), 16384);
        size.adapt(4096, 16384); // exactly a quarter: kept
        assert_eq!(size.next(), 16384);
        size.adapt(4095, 16384); // under a quarter: halved
        assert_eq!(size.next(), 8192);
    }
}
