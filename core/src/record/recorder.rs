//! [`Recorder`]: the [`Tap`] that writes what passes through a session as
//! JSON Lines; [`RecordingSession`]: a [`Session`] with one on.

use std::any::Any;
use std::io::{self, Write};
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use super::entry::{Command, Entry, FORMAT_VERSION, output_line};
use super::pieces::PieceStream;
use crate::session::{
    Adapter, Call, Event, Input, Output, Session, SessionConfig, SessionError, Tap,
};

/// A recorder flushes its sink at most this often on timer calls (and at
/// the session's end), so a killed process loses little of its recording.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Writes every input, command and output of the session it taps to a
/// `Write` as JSON Lines (the format [`replay`](super::replay) and
/// `wsnova replay` read), secrets redacted: auth requests' params, tokens,
/// credential headers; the secret of `authenticate` never reaches it.
///
/// Write errors do not disturb the session: the first is kept, later lines
/// are dropped, and [`finish`](Self::finish) returns it. The recorder
/// writes small pieces: give it a buffered sink (drivers wrap theirs in a
/// `BufWriter`); it flushes when the session closes and, on timer calls, at
/// most once a second.
///
/// Bytes are recorded as the HTTP head and whole frames of each direction
/// (a frame's time is when its last byte arrived); over `wss://` they are
/// ciphertext and only their lengths are recorded.
///
/// ```
/// use std::time::Instant;
/// use wsnova_core::record::Recorder;
/// use wsnova_core::session::{Plain, Session, SessionConfig};
///
/// let config = SessionConfig::new("ws://127.0.0.1:9001/")?;
/// let now = Instant::now();
/// let recorder = Recorder::new(&config, now, Vec::new());
/// let mut session = Session::new(config, Plain, now);
/// session.set_tap(Box::new(recorder));
/// session.connect(now)?;
/// while session.poll_output().is_some() {}
/// let tap = session.take_tap().unwrap().into_any();
/// let lines = tap.downcast::<Recorder<Vec<u8>>>().unwrap().finish()?;
/// assert_eq!(String::from_utf8(lines)?.lines().count(), 3, "header, connect, dial");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Recorder<W: Write> {
    epoch: Instant,
    sink: W,
    error: Option<io::Error>,
    tls: bool,
    inbound: (u64, PieceStream),
    outbound: (u64, PieceStream),
    flushed: Instant,
}

impl<W: Write> Recorder<W> {
    /// A recorder for a session of `config` started at `now` (time zero of
    /// the recording); writes the header line at once.
    pub fn new(config: &SessionConfig, now: Instant, sink: W) -> Self {
        let endpoint = config.wire.endpoint();
        let tls = endpoint.is_secure();
        let mut recorder = Recorder {
            epoch: now,
            sink,
            error: None,
            tls,
            inbound: (0, PieceStream::default()),
            outbound: (0, PieceStream::default()),
            flushed: now,
        };
        recorder.write(&Entry::Header {
            version: FORMAT_VERSION,
            endpoint: format!("{endpoint:?}"),
            seed: config.seed,
            tls,
        });
        recorder
    }

    /// Flushes and returns the sink, or the first write error.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.sink.flush()?;
        Ok(self.sink)
    }

    fn t(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    fn write(&mut self, entry: &Entry) {
        if self.error.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.sink, entry)
            .map_err(io::Error::from)
            .and_then(|()| self.sink.write_all(b"\n"));
        if let Err(error) = written {
            self.error = Some(error);
        }
    }

    fn flush(&mut self) {
        if self.error.is_none()
            && let Err(error) = self.sink.flush()
        {
            self.error = Some(error);
        }
    }
}

impl<W: Write + Send + 'static> Tap for Recorder<W> {
    fn input(&mut self, now: Instant, input: &Input<'_>) {
        let t = self.t(now);
        match *input {
            Input::Connected { generation: g } => self.write(&Entry::Connected { t, g }),
            Input::ConnectFailed {
                generation: g,
                error,
            } => self.write(&Entry::ConnectFailed {
                t,
                g,
                error: error.to_owned(),
            }),
            Input::Closed { generation: g } => self.write(&Entry::Closed { t, g }),
            Input::Failed {
                generation: g,
                error,
            } => self.write(&Entry::Failed {
                t,
                g,
                error: error.to_owned(),
            }),
            Input::Bytes {
                generation: g,
                data,
            } if self.tls => self.write(&Entry::InRaw {
                t,
                g,
                len: data.len(),
            }),
            Input::Bytes {
                generation: g,
                data,
            } => {
                if self.inbound.0 != g {
                    self.inbound = (g, PieceStream::default());
                }
                for piece in self.inbound.1.feed(data) {
                    self.write(&Entry::In { t, g, piece });
                }
            }
        }
    }

    fn timeout(&mut self, now: Instant) {
        let t = self.t(now);
        self.write(&Entry::Timeout { t });
        if now.saturating_duration_since(self.flushed) >= FLUSH_EVERY {
            self.flushed = now;
            self.flush();
        }
    }

    fn command(&mut self, now: Instant, call: &Call<'_>, result: Result<(), &SessionError>) {
        let t = self.t(now);
        let result = match result {
            Ok(()) => "ok".to_owned(),
            Err(error) => error.to_string(),
        };
        self.write(&Entry::Command {
            t,
            command: Command::from_call(call),
            result,
        });
    }

    fn output(&mut self, output: &Output) {
        if let Some(line) = output_line(output, self.epoch) {
            self.write(&Entry::Output { line });
        }
        if let Output::Event(Event::Closed { .. }) = output {
            self.flush();
        }
    }

    fn written(&mut self, g: u64, bytes: &[u8]) {
        if self.tls {
            self.write(&Entry::OutRaw {
                g,
                len: bytes.len(),
            });
            return;
        }
        if self.outbound.0 != g {
            self.outbound = (g, PieceStream::default());
        }
        for piece in self.outbound.1.feed(bytes) {
            self.write(&Entry::Out { g, piece });
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

impl<W: Write> std::fmt::Debug for Recorder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("tls", &self.tls)
            .field("failed", &self.error.is_some())
            .finish_non_exhaustive()
    }
}

/// A [`Session`] with a [`Recorder`] on: every method of the session (it
/// derefs to one) is recorded; [`finish`](Self::finish) gives the sink
/// back. Drivers record the same way when their builder is given
/// `record` (`wsnova_core::driver::Builder::record`).
pub struct RecordingSession<A: Adapter, W: Write + Send + 'static> {
    session: Session<A>,
    _sink: std::marker::PhantomData<fn() -> W>,
}

impl<A: Adapter, W: Write + Send + 'static> RecordingSession<A, W> {
    /// A new session (as [`Session::new`]) recording to `sink`; `now` is
    /// time zero of the recording.
    pub fn new(config: SessionConfig, adapter: A, now: Instant, sink: W) -> Self {
        let recorder = Recorder::new(&config, now, sink);
        let mut session = Session::new(config, adapter, now);
        session.set_tap(Box::new(recorder));
        RecordingSession {
            session,
            _sink: std::marker::PhantomData,
        }
    }

    /// Flushes and returns the sink, or the first write error.
    pub fn finish(mut self) -> io::Result<W> {
        let recorder = self
            .session
            .take_tap()
            .and_then(|tap| tap.into_any().downcast::<Recorder<W>>().ok())
            .ok_or_else(|| io::Error::other("the session's recorder was taken off"))?;
        recorder.finish()
    }

    /// The session inside, to read.
    pub fn session(&self) -> &Session<A> {
        &self.session
    }
}

impl<A: Adapter, W: Write + Send + 'static> Deref for RecordingSession<A, W> {
    type Target = Session<A>;

    fn deref(&self) -> &Session<A> {
        &self.session
    }
}

impl<A: Adapter, W: Write + Send + 'static> DerefMut for RecordingSession<A, W> {
    fn deref_mut(&mut self) -> &mut Session<A> {
        &mut self.session
    }
}

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
