//! Starting a connection on an [`EventLoop`]: [`EventLoop::connect`], or a
//! [`Builder`] and [`ConnectOn`].

use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use wsnova_core::driver::{Builder, ConnectError};
use wsnova_core::session::{Adapter, Event};

use crate::connection::Connection;
use crate::event_loop::{EventLoop, State};
use crate::events::Events;
use crate::handle::{Handle, subscribe};
use crate::route::{Callback, FirstOutcome, Route, SyncReplySender};

/// `builder.connect(&event_loop, adapter)` and friends: the
/// [`EventLoop`]'s ways to start a connection as methods of the
/// [`Builder`] (in the [`prelude`](crate::prelude)).
///
/// ```no_run
/// # fn demo(event_loop: &wsnova_mio::EventLoop) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use wsnova_mio::prelude::*;
/// let (handle, events) = Builder::new("wss://example.com/ws")?
///     .header("X-Api-Key", "k")?
///     .request_timeout(Duration::from_secs(5))
///     .connect(event_loop, Plain)?;
/// # Ok(()) }
/// ```
pub trait ConnectOn {
    /// See [`EventLoop::connect`].
    fn connect<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
    ) -> Result<(Handle, Events), ConnectError>;

    /// See [`EventLoop::spawn_without_waiting`].
    fn spawn_without_waiting<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
    ) -> Result<(Handle, Events), ConnectError>;

    /// See [`EventLoop::connect_with_callback`].
    fn connect_with_callback<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
        callback: impl FnMut(&Event) + Send + 'static,
    ) -> Result<Handle, ConnectError>;
}

impl ConnectOn for Builder {
    fn connect<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
    ) -> Result<(Handle, Events), ConnectError> {
        event_loop.connect(self, adapter)
    }

    fn spawn_without_waiting<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
    ) -> Result<(Handle, Events), ConnectError> {
        event_loop.spawn_without_waiting(self, adapter)
    }

    fn connect_with_callback<A: Adapter>(
        self,
        event_loop: &EventLoop,
        adapter: A,
        callback: impl FnMut(&Event) + Send + 'static,
    ) -> Result<Handle, ConnectError> {
        event_loop.connect_with_callback(self, adapter, callback)
    }
}

impl EventLoop {
    /// Connects on this loop and waits until the session is `Ready`, or
    /// fails with the first attempt's error (see
    /// [`Builder::retry_initial_connect`]). Later losses reconnect on
    /// their own. `options` is a URL's [`Builder`] or a `SessionConfig`.
    ///
    /// The [`Events`] returned tell the whole story from the start, as
    /// those of [`spawn_without_waiting`](Self::spawn_without_waiting) do:
    /// the first events are the first connection's `Connected`, then
    /// `Authenticated` (with credentials) and `Ready`, which `connect` has
    /// already waited for (after a retried first attempt, its
    /// `Disconnected` and `Reconnecting` come before). Consumers added
    /// later with [`Handle::events`] see what happens after they were added.
    pub fn connect<A: Adapter>(
        &self,
        options: impl Into<Builder>,
        adapter: A,
    ) -> Result<(Handle, Events), ConnectError> {
        let (handle, events, first) = self.spawn(options.into(), adapter, None)?;
        wait_ready(first)?;
        Ok((handle, events.expect("a queue without a callback")))
    }

    /// Adds the connection without waiting: its events tell how it goes,
    /// from the first `Connected` on.
    pub fn spawn_without_waiting<A: Adapter>(
        &self,
        options: impl Into<Builder>,
        adapter: A,
    ) -> Result<(Handle, Events), ConnectError> {
        let (handle, events, _) = self.spawn(options.into(), adapter, None)?;
        Ok((handle, events.expect("a queue without a callback")))
    }

    /// Like [`connect`](Self::connect), but every event goes to `callback`
    /// on the loop thread instead of a queue (no lag, no policy). It must
    /// return quickly and must not call the [`Handle`] (that would block
    /// the loop on itself; it panics instead).
    pub fn connect_with_callback<A: Adapter>(
        &self,
        options: impl Into<Builder>,
        adapter: A,
        callback: impl FnMut(&Event) + Send + 'static,
    ) -> Result<Handle, ConnectError> {
        let callback: Callback = Box::new(callback);
        let (handle, _, first) = self.spawn(options.into(), adapter, Some(callback))?;
        wait_ready(first)?;
        Ok(handle)
    }

    fn spawn<A: Adapter>(
        &self,
        options: Builder,
        adapter: A,
        callback: Option<Callback>,
    ) -> Result<(Handle, Option<Events>, Receiver<FirstOutcome>), ConnectError> {
        options.validate()?;
        let shared = self.shared().clone();
        shared.assert_off_loop();
        let (first_tx, first_rx) = mpsc::sync_channel(1);
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        let final_status = Arc::new(Mutex::new(None));
        let status = final_status.clone();
        let loop_shared = shared.clone();
        let (capacity, policy) = (options.capacity(), options.policy());
        let fail_fast = !options.retries_initial();
        shared.send(Box::new(move |state: &mut State| {
            let (registry, resolver) = (state.registry.clone(), state.resolver.clone());
            let with_queue = callback.is_none();
            let (key, serial) = state.insert(|token| {
                let conn =
                    Connection::new(options, adapter, registry, token).with_resolver(resolver);
                let mut route = Route::new(fail_fast, status, capacity, policy);
                route.waiters.wait_ready(SyncReplySender(first_tx));
                route.callback = callback;
                (conn, route)
            });
            state.with(key, serial, |entry| {
                let events =
                    with_queue.then(|| subscribe(entry, loop_shared, key, capacity, policy));
                let outcome = entry.conn.connect().map(|()| (key, serial, events));
                let _ = reply_tx.send(outcome);
            });
        }));
        let (key, serial, events) = reply_rx.recv().map_err(|_| ConnectError::LoopStopped)??;
        let handle = Handle::new(shared, key, serial, final_status);
        Ok((handle, events, first_rx))
    }
}

fn wait_ready(first: Receiver<FirstOutcome>) -> Result<(), ConnectError> {
    match first.recv() {
        Ok(outcome) => outcome.map_err(ConnectError::from),
        Err(_) => Err(ConnectError::LoopStopped),
    }
}
