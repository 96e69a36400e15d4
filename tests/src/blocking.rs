//! A minimal blocking `std::net` pump around a [`Wire`], for smoke tests and
//! the first example. Not a driver: one connection, one thread, no timers.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use wsnova_core::wire::{Wire, WireConfig, WireError, WireEvent};

/// Why [`BlockingWire::next_event`] returned without an event.
#[derive(Debug)]
pub enum PumpError {
    /// The socket failed.
    Io(io::Error),
    /// The wire ended the connection.
    Wire(WireError),
    /// Nothing arrived before the deadline.
    Timeout,
    /// The socket ended and the wire has nothing more to say.
    Eof,
}

/// A [`Wire`] over a blocking [`TcpStream`].
///
/// ```no_run
/// use wsnova_core::wire::WireConfig;
/// use wsnova_tests::blocking::BlockingWire;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = WireConfig::new("ws://127.0.0.1:9001/")?;
/// let mut ws = BlockingWire::connect(config, "127.0.0.1:9001".parse()?, 7)?;
/// ws.wire.send_text("hello")?;
/// let event = ws.next_event(std::time::Duration::from_secs(5));
/// # Ok(()) }
/// ```
pub struct BlockingWire {
    /// The socket.
    pub stream: TcpStream,
    /// The byte path.
    pub wire: Wire,
    read_buf: Box<[u8]>,
}

impl BlockingWire {
    /// Connects to `addr` and sends the upgrade request (the answer is read by
    /// [`next_event`](Self::next_event)).
    pub fn connect(config: WireConfig, addr: SocketAddr, seed: u64) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        let mut rng = StdRng::seed_from_u64(seed);
        let wire = Wire::new(Arc::new(config), &mut rng).map_err(io::Error::other)?;
        Ok(BlockingWire {
            stream,
            wire,
            read_buf: vec![0; 64 * 1024].into_boxed_slice(),
        })
    }

    /// Writes everything the wire has queued.
    pub fn flush(&mut self) -> io::Result<()> {
        loop {
            let pending = self.wire.pending_transmit();
            if pending.is_empty() {
                return Ok(());
            }
            let n = self.stream.write(pending)?;
            self.wire.advance_transmit(n);
        }
    }

    /// Flushes, then reads until the wire yields an event or `timeout` passes.
    pub fn next_event(&mut self, timeout: Duration) -> Result<WireEvent, PumpError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.flush().map_err(PumpError::Io)?;
            match self.wire.poll_event() {
                Ok(Some(event)) => {
                    self.flush().map_err(PumpError::Io)?;
                    return Ok(event);
                }
                Ok(None) => {}
                Err(err) => {
                    // Send the close frame the wire queued, best effort.
                    let _ = self.flush();
                    return Err(PumpError::Wire(err));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PumpError::Timeout);
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(PumpError::Io)?;
            match self.stream.read(&mut self.read_buf) {
                Ok(0) => {
                    self.wire.handle_eof();
                    match self.wire.poll_event() {
                        Ok(Some(event)) => return Ok(event),
                        Ok(None) => return Err(PumpError::Eof),
                        Err(err) => return Err(PumpError::Wire(err)),
                    }
                }
                Ok(n) => self.wire.handle_bytes(&self.read_buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(PumpError::Timeout);
                }
                Err(e) => return Err(PumpError::Io(e)),
            }
        }
    }

    /// The next event that is not a ping or pong.
    pub fn next_message_event(&mut self, timeout: Duration) -> Result<WireEvent, PumpError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left)? {
                WireEvent::Ping(_) | WireEvent::Pong(_) => continue,
                event => return Ok(event),
            }
        }
    }
}
