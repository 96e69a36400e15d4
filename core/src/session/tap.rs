//! A [`Tap`] on a [`Session`]: something told every input, command and
//! output as it passes, in the session's own order — the hook that
//! recording ([`crate::record`]) is built on, so that a session recorded by
//! a driver and one recorded by hand go through the same code.

use std::any::Any;
use std::time::Instant;

use super::adapter::Adapter;
use super::config::HeartbeatConfig;
use super::error::SessionError;
use super::handle::Session;
use super::io::{Input, Output};

/// A command given to a session, as a [`Tap`] sees it (borrowed: nothing
/// is copied unless the tap copies it). The secret of `authenticate` is
/// not in it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Call<'a> {
    /// [`Session::connect`].
    Connect,
    /// [`Session::send_text`].
    SendText(&'a str),
    /// [`Session::send_binary`].
    SendBinary(&'a [u8]),
    /// [`Session::request`] (and `request_json`): method and params text.
    Request {
        /// The method.
        method: &'a str,
        /// The params as JSON text.
        params: &'a str,
    },
    /// [`Session::subscribe`].
    Subscribe(&'a [&'a str]),
    /// [`Session::unsubscribe`].
    Unsubscribe(&'a [&'a str]),
    /// [`Session::authenticate`]: only the public part of the credentials.
    Authenticate {
        /// The client id.
        client_id: &'a str,
    },
    /// [`Session::ping`].
    Ping,
    /// [`Session::close`].
    Close {
        /// The close code.
        code: u16,
        /// The reason.
        reason: &'a str,
    },
    /// [`Session::set_unix_time`].
    UnixTime(u64),
    /// [`Session::set_reading_paused`].
    ReadingPaused(bool),
    /// [`Session::set_heartbeat`].
    Heartbeat(&'a HeartbeatConfig),
}

/// Told everything that passes through a [`Session`], in order: inputs
/// (before the session acts on them), timer calls that had something due,
/// commands with their results, outputs as they are polled, and the bytes
/// the driver wrote (before the session forgets them). It runs on the
/// session's hot path: keep it cheap (buffer, do not block).
///
/// ```
/// use std::time::Instant;
/// use wsnova_core::session::{Call, Input, Output, Plain, Session, SessionConfig, SessionError, Tap};
///
/// #[derive(Default)]
/// struct Count(usize);
/// impl Tap for Count {
///     fn input(&mut self, _: Instant, _: &Input<'_>) { self.0 += 1 }
///     fn timeout(&mut self, _: Instant) {}
///     fn command(&mut self, _: Instant, _: &Call<'_>, _: Result<(), &SessionError>) { self.0 += 1 }
///     fn output(&mut self, _: &Output) { self.0 += 1 }
///     fn written(&mut self, _: u64, _: &[u8]) {}
///     fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> { self }
/// }
///
/// let now = Instant::now();
/// let mut session = Session::new(SessionConfig::new("ws://127.0.0.1:9001/")?, Plain, now);
/// session.set_tap(Box::new(Count::default()));
/// session.connect(now)?;
/// while session.poll_output().is_some() {}
/// let count = session.take_tap().unwrap().into_any().downcast::<Count>().unwrap();
/// assert_eq!(count.0, 2, "the connect and its dial");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Tap: Send {
    /// An input, before the session acts on it.
    fn input(&mut self, now: Instant, input: &Input<'_>);
    /// `handle_timeout` at `now`, with a timer or deadline due.
    fn timeout(&mut self, now: Instant);
    /// A command and its result, after it ran.
    fn command(&mut self, now: Instant, call: &Call<'_>, result: Result<(), &SessionError>);
    /// An output, as `poll_output` returns it.
    fn output(&mut self, output: &Output);
    /// `bytes` of the connection `generation` were written to the socket.
    fn written(&mut self, generation: u64, bytes: &[u8]);
    /// The tap itself, to downcast after [`Session::take_tap`].
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<A: Adapter + ?Sized> Session<A> {
    /// Puts `tap` on the session (replacing any other): from now on it is
    /// told every input, command and output. Drivers put a recorder
    /// ([`crate::record::Recorder`]) here when asked to record.
    pub fn set_tap(&mut self, tap: Box<dyn Tap>) {
        self.tap = Some(tap);
    }

    /// Takes the tap off the session.
    pub fn take_tap(&mut self) -> Option<Box<dyn Tap>> {
        self.tap.take()
    }

    /// Whether a tap is on.
    pub fn is_tapped(&self) -> bool {
        self.tap.is_some()
    }

    /// Tells the tap (if any) about a command and its result.
    pub(super) fn tell<T>(
        &mut self,
        now: Instant,
        call: Call<'_>,
        result: &Result<T, SessionError>,
    ) {
        if let Some(tap) = self.tap.as_mut() {
            tap.command(now, &call, result.as_ref().map(|_| ()));
        }
    }
}
