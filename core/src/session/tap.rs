//! A [`Tap`] on a [`Session`](super::Session): something told every input, command and
//! output as it passes, in the session's own order — the hook that
//! recording ([`crate::record`]) is built on, so that a session recorded by
//! a driver and one recorded by hand go through the same code.

use std::any::Any;
use std::time::Instant;

use super::config::HeartbeatConfig;
use super::error::SessionError;
use super::io::{Input, Output};
use super::rate_classes::RateLimits;

/// A command given to a session, as a [`Tap`] sees it (borrowed: nothing
/// is copied unless the tap copies it). The secret of `authenticate` is
/// not in it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Call<'a> {
    /// [`Session::connect`](super::Session::connect).
    Connect,
    /// [`Session::send_text`](super::Session::send_text).
    SendText(&'a str),
    /// [`Session::send_binary`](super::Session::send_binary).
    SendBinary(&'a [u8]),
    /// [`Session::request`](super::Session::request) (and `request_json`): method and params text.
    Request {
        /// The method.
        method: &'a str,
        /// The params as JSON text.
        params: &'a str,
    },
    /// [`Session::subscribe`](super::Session::subscribe).
    Subscribe(&'a [&'a str]),
    /// [`Session::unsubscribe`](super::Session::unsubscribe).
    Unsubscribe(&'a [&'a str]),
    /// [`Session::authenticate`](super::Session::authenticate): only the public part of the credentials.
    Authenticate {
        /// The client id.
        client_id: &'a str,
    },
    /// [`Session::ping`](super::Session::ping).
    Ping,
    /// [`Session::close`](super::Session::close).
    Close {
        /// The close code.
        code: u16,
        /// The reason.
        reason: &'a str,
    },
    /// [`Session::set_unix_time`](super::Session::set_unix_time).
    UnixTime(u64),
    /// [`Session::set_reading_paused`](super::Session::set_reading_paused).
    ReadingPaused(bool),
    /// [`Session::set_heartbeat`](super::Session::set_heartbeat).
    Heartbeat(&'a HeartbeatConfig),
    /// [`Session::set_rate_limits`](super::Session::set_rate_limits).
    RateLimits(&'a RateLimits),
}

/// Told everything that passes through a [`Session`](super::Session), in order: inputs
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
    /// The tap itself, to downcast after [`Session::take_tap`](super::Session::take_tap).
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}
