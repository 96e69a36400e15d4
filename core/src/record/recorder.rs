//! [`RecordingSession`]: a [`Session`] that writes every input, command and
//! output to a `Write` the caller gives, as JSON Lines.

use std::io::{self, Write};
use std::ops::Deref;
use std::time::Instant;

use data_encoding::BASE64;

use super::entry::{Command, Entry, FORMAT_VERSION, output_line};
use super::pieces::{PieceStream, redact_text};
use crate::session::{
    Adapter, Credentials, Input, Output, RequestId, Session, SessionConfig, SessionError,
};
use crate::wire::CloseCode;

/// A [`Session`] that records itself. It has the session's input, command
/// and output methods, each recording what passes; the getters come
/// through `Deref`. Secrets are redacted (auth requests' params, tokens,
/// credential headers; the secret of [`authenticate`](Self::authenticate)
/// is never written). Write errors do not disturb the session: the first
/// is kept and [`finish`](Self::finish) returns it.
///
/// Bytes are recorded as the HTTP head and whole frames of each direction
/// (a frame's time is when its last byte arrived); over `wss://` they are
/// ciphertext and only their lengths are recorded. Replay with
/// [`replay`](super::replay).
pub struct RecordingSession<A: Adapter, W: Write> {
    session: Session<A>,
    epoch: Instant,
    sink: W,
    error: Option<io::Error>,
    tls: bool,
    inbound: (u64, PieceStream),
    outbound: (u64, PieceStream),
}

impl<A: Adapter, W: Write> RecordingSession<A, W> {
    /// A new session (as [`Session::new`]) recording to `sink`; `now` is
    /// time zero of the recording.
    pub fn new(config: SessionConfig, adapter: A, now: Instant, sink: W) -> Self {
        let endpoint = format!("{:?}", config.wire.endpoint());
        let (seed, tls) = (config.seed, config.wire.endpoint().is_secure());
        let mut recording = RecordingSession {
            session: Session::new(config, adapter, now),
            epoch: now,
            sink,
            error: None,
            tls,
            inbound: (0, PieceStream::default()),
            outbound: (0, PieceStream::default()),
        };
        recording.write(&Entry::Header {
            version: FORMAT_VERSION,
            endpoint,
            seed,
            tls,
        });
        recording
    }

    /// Flushes and returns the sink, or the first write error.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.sink.flush()?;
        Ok(self.sink)
    }

    /// The session inside, to read (mutating it directly would not be recorded).
    pub fn session(&self) -> &Session<A> {
        &self.session
    }

    // ---- input --------------------------------------------------------

    /// [`Session::handle_input`], recorded.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        let t = self.t(now);
        match input {
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
        self.session.handle_input(now, input);
    }

    /// [`Session::handle_timeout`], recorded when something is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.session.poll_timeout().is_some_and(|due| due <= now) {
            let t = self.t(now);
            self.write(&Entry::Timeout { t });
        }
        self.session.handle_timeout(now);
    }

    // ---- commands -----------------------------------------------------

    /// [`Session::connect`], recorded.
    pub fn connect(&mut self, now: Instant) -> Result<(), SessionError> {
        let result = self.session.connect(now);
        self.command(now, Command::Connect, &result)
    }

    /// [`Session::set_unix_time`], recorded.
    pub fn set_unix_time(&mut self, now: Instant, unix_ms: u64) {
        self.session.set_unix_time(now, unix_ms);
        self.command(now, Command::UnixTime { ms: unix_ms }, &Ok(()))
            .unwrap_or(());
    }

    /// [`Session::send_text`], recorded.
    pub fn send_text(&mut self, now: Instant, text: &str) -> Result<(), SessionError> {
        let result = self.session.send_text(now, text);
        let text = redact_text(text);
        self.command(now, Command::SendText { text }, &result)
    }

    /// [`Session::send_binary`], recorded.
    pub fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), SessionError> {
        let result = self.session.send_binary(now, data);
        let base64 = BASE64.encode(data);
        self.command(now, Command::SendBinary { base64 }, &result)
    }

    /// [`Session::request`], recorded.
    pub fn request(
        &mut self,
        now: Instant,
        method: &str,
        params: &str,
    ) -> Result<RequestId, SessionError> {
        let result = self.session.request(now, method, params);
        let recorded = result.as_ref().map(|_| ()).map_err(Clone::clone);
        self.command(now, Command::request(method, params), &recorded)?;
        result
    }

    /// [`Session::subscribe`], recorded.
    pub fn subscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        let result = self.session.subscribe(now, channels);
        let channels = channels.iter().map(|c| c.to_string()).collect();
        self.command(now, Command::Subscribe { channels }, &result)
    }

    /// [`Session::unsubscribe`], recorded.
    pub fn unsubscribe(&mut self, now: Instant, channels: &[&str]) -> Result<(), SessionError> {
        let result = self.session.unsubscribe(now, channels);
        let channels = channels.iter().map(|c| c.to_string()).collect();
        self.command(now, Command::Unsubscribe { channels }, &result)
    }

    /// [`Session::authenticate`], recorded without the secret.
    pub fn authenticate(
        &mut self,
        now: Instant,
        credentials: Credentials,
    ) -> Result<(), SessionError> {
        let client_id = credentials.client_id.clone();
        let result = self.session.authenticate(now, credentials);
        self.command(now, Command::Authenticate { client_id }, &result)
    }

    /// [`Session::ping`], recorded.
    pub fn ping(&mut self, now: Instant) -> Result<(), SessionError> {
        let result = self.session.ping(now);
        self.command(now, Command::Ping, &result)
    }

    /// [`Session::close`], recorded.
    pub fn close(
        &mut self,
        now: Instant,
        code: CloseCode,
        reason: &str,
    ) -> Result<(), SessionError> {
        let result = self.session.close(now, code, reason);
        let (code, reason) = (u16::from(code), reason.to_owned());
        self.command(now, Command::Close { code, reason }, &result)
    }

    /// [`Session::set_reading_paused`], recorded.
    pub fn set_reading_paused(&mut self, now: Instant, paused: bool) {
        self.session.set_reading_paused(now, paused);
        self.command(now, Command::ReadingPaused { paused }, &Ok(()))
            .unwrap_or(());
    }

    // ---- output -------------------------------------------------------

    /// [`Session::poll_output`], recorded.
    pub fn poll_output(&mut self) -> Option<Output> {
        let output = self.session.poll_output()?;
        if let Some(line) = output_line(&output, self.epoch) {
            self.write(&Entry::Output { line });
        }
        Some(output)
    }

    /// [`Session::pending_transmit`].
    pub fn pending_transmit(&mut self) -> &[u8] {
        self.session.pending_transmit()
    }

    /// [`Session::advance_transmit`], recording the `n` bytes written.
    pub fn advance_transmit(&mut self, n: usize) {
        let g = self.session.generation();
        if self.tls {
            self.write(&Entry::OutRaw { g, len: n });
        } else {
            let sent = self.session.pending_transmit()[..n].to_vec();
            if self.outbound.0 != g {
                self.outbound = (g, PieceStream::default());
            }
            for piece in self.outbound.1.feed(&sent) {
                self.write(&Entry::Out { g, piece });
            }
        }
        self.session.advance_transmit(n);
    }

    // ---- inside -------------------------------------------------------

    fn t(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_micros() as u64
    }

    fn command(
        &mut self,
        now: Instant,
        command: Command,
        result: &Result<(), SessionError>,
    ) -> Result<(), SessionError> {
        let t = self.t(now);
        let text = match result {
            Ok(()) => "ok".to_owned(),
            Err(error) => error.to_string(),
        };
        self.write(&Entry::Command {
            t,
            command,
            result: text,
        });
        result.clone()
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
}

impl<A: Adapter, W: Write> Deref for RecordingSession<A, W> {
    type Target = Session<A>;

    fn deref(&self) -> &Session<A> {
        &self.session
    }
}
