//! The event loop: one thread, one `mio::Poll`, a slab of connections, a
//! heap of deadlines, a waker and a command channel.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use mio::{Poll, Registry, Token, Waker};
use slab::Slab;
use wsnova_core::session::SessionState;
use wsnova_core::wire::CloseCode;

use crate::connection::Connection;
use crate::outgoing::Outgoing;
use crate::pool_loop::PoolEntry;
use crate::pool_runner::POOL_TOKENS;
use crate::resolver::{Resolver, lock};
use crate::route::Route;

/// The waker's token; connections use their slab key.
const WAKE: Token = Token(usize::MAX);
/// Senders wait, and the connection stops reading, while more than this is
/// queued for a socket — whatever queued it (sends, pongs, replies).
pub(crate) const HIGH_WATER: usize = 4 << 20;
/// How long dropping the loop waits for close handshakes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Work for the loop thread, from a handle on any thread.
pub(crate) type Command = Box<dyn FnOnce(&mut State) + Send>;

/// What handles share with the loop: the way in.
pub(crate) struct LoopShared {
    commands: Sender<Command>,
    waker: Arc<Waker>,
    pub(crate) thread: Mutex<Option<ThreadId>>,
}

impl LoopShared {
    /// Queues `command` and wakes the loop; `false` when the loop has ended.
    pub(crate) fn send(&self, command: Command) -> bool {
        if self.commands.send(command).is_err() {
            return false;
        }
        let _ = self.waker.wake();
        true
    }

    /// Panics on the loop thread, where waiting for the loop would deadlock
    /// (e.g. a blocking call from an event callback).
    pub(crate) fn assert_off_loop(&self) {
        assert!(
            *lock(&self.thread) != Some(std::thread::current().id()),
            "wsnova-mio: a blocking call was made on the event loop thread"
        );
    }
}

/// One connection in the slab.
pub(crate) struct Entry {
    pub(crate) conn: Connection,
    pub(crate) route: Route,
    /// Tells this connection from an earlier one in the same slab slot.
    pub(crate) serial: u64,
    /// The earliest deadline in the heap for it, if any.
    armed: Option<Instant>,
    /// Messages its handles staged (made at the first send).
    outgoing: Option<Arc<Outgoing>>,
}

impl Entry {
    /// The batch its handles stage messages into.
    pub(crate) fn outgoing(&mut self) -> &Arc<Outgoing> {
        self.outgoing.get_or_insert_with(Arc::default)
    }

    /// Frames and writes what its handles staged, in order.
    pub(crate) fn drain_outgoing(&mut self) {
        if let Some(outgoing) = &self.outgoing {
            outgoing.drain_into(&mut self.conn);
        }
    }

    /// Sends through its handles fail from now on.
    pub(crate) fn close_outgoing(&mut self) {
        if let Some(outgoing) = &self.outgoing {
            outgoing.close();
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.close_outgoing(); // gone: senders learn it at once
    }
}

/// Stale timer entries tolerated beyond one per connection before the
/// heap is swept ([`State::drop_stale_timers`]).
const STALE_SLACK: usize = 256;

/// Everything the loop thread owns.
pub(crate) struct State {
    pub(crate) registry: Arc<Registry>,
    pub(crate) resolver: Resolver,
    /// Boxed: a slab of 10,000 connections grows by doubling and copies
    /// what it holds; pointers make that cheap and leave no large freed
    /// blocks behind, and each connection's entry is allocated exactly.
    entries: Slab<Box<Entry>>,
    /// Pools running on the loop.
    pub(crate) pools: Slab<PoolEntry>,
    /// Every pool socket's token (minus `POOL_TOKENS`) → its pool's key.
    pub(crate) pool_tokens: Slab<usize>,
    /// (deadline, slab key, serial); entries are checked when popped (lazy deletion).
    timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    pub(crate) next_serial: u64,
    /// Set by shutdown: leave once every connection is finished, or at this time.
    leave_at: Option<Instant>,
}

impl State {
    /// Adds a connection built for `token` and settles it; returns (key, serial).
    pub(crate) fn insert(
        &mut self,
        make: impl FnOnce(Token) -> (Connection, Route),
    ) -> (usize, u64) {
        let slot = self.entries.vacant_entry();
        let key = slot.key();
        let (conn, route) = make(Token(key));
        self.next_serial += 1;
        let serial = self.next_serial;
        slot.insert(Box::new(Entry {
            conn,
            route,
            serial,
            armed: None,
            outgoing: None,
        }));
        (key, serial)
    }

    /// Runs `f` on the connection `(key, serial)` if it still exists, then settles it.
    pub(crate) fn with(&mut self, key: usize, serial: u64, f: impl FnOnce(&mut Entry)) {
        match self.entries.get_mut(key) {
            Some(entry) if entry.serial == serial => f(entry),
            _ => return,
        }
        self.settle(key);
    }

    /// After anything happened to a connection: route its events, apply
    /// backpressure, wake drained senders, arm its deadline, drop it when done.
    fn settle(&mut self, key: usize) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        while let Some(event) = entry.conn.poll_event() {
            entry.route.route(event);
        }
        entry.conn.pause_reading(entry.route.is_backpressured());
        if let Some(outgoing) = &entry.outgoing {
            if entry.conn.state() == SessionState::Closed {
                outgoing.close();
            }
            outgoing.set_backlog(entry.conn.pending_bytes());
        }
        if !entry.route.drain_waiters.is_empty() && entry.conn.pending_bytes() <= HIGH_WATER {
            for waiter in entry.route.drain_waiters.drain(..) {
                let _ = waiter.send(Ok(()));
            }
        }
        if entry.conn.is_finished() {
            let entry = self.entries.remove(key);
            *lock(&entry.route.final_status) = Some(Box::new(entry.conn.status()));
            return; // dropping the route ends its consumers and waiters
        }
        if let Some(at) = entry.conn.poll_timeout()
            && entry.armed.is_none_or(|armed| at < armed)
        {
            // A later deadline keeps the earlier entry: it fires early,
            // does nothing, and re-arms. An earlier one leaves the old
            // entry stale until its time.
            entry.armed = Some(at);
            self.timers.push(Reverse((at, key, entry.serial)));
            self.drop_stale_timers();
        }
    }

    /// Drops the heap's stale entries once they outnumber the live ones by
    /// [`STALE_SLACK`] (each connection has at most one live entry): opening
    /// thousands of connections arms two deadlines each (connect, then
    /// stable), and the heap would hold both for seconds. Amortized over
    /// the pushes that made them stale.
    fn drop_stale_timers(&mut self) {
        if self.timers.len() <= self.entries.len() + STALE_SLACK {
            return;
        }
        let entries = &self.entries;
        self.timers.retain(|Reverse((at, key, serial))| {
            entries
                .get(*key)
                .is_some_and(|e| e.serial == *serial && e.armed == Some(*at))
        });
    }

    /// `true` when the heap entry is the connection's armed deadline.
    fn is_live(&self, (at, key, serial): (Instant, usize, u64)) -> bool {
        self.entries
            .get(key)
            .is_some_and(|e| e.serial == serial && e.armed == Some(at))
    }

    /// How long `poll` may sleep.
    fn poll_timeout(&mut self, now: Instant) -> Option<Duration> {
        while let Some(&Reverse(top)) = self.timers.peek() {
            if self.is_live(top) {
                break;
            }
            self.timers.pop();
        }
        let next = self.timers.peek().map(|Reverse((at, _, _))| *at);
        let next = next.into_iter().chain(self.pools_timeout()).min();
        let next = match (next, self.leave_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        next.map(|at| at.saturating_duration_since(now))
    }

    /// Fires the deadlines due at `now` (not those armed while firing:
    /// they wait for the next turn, after the sockets were polled).
    fn fire_timers(&mut self, now: Instant) {
        let mut due = Vec::new();
        while let Some(&Reverse(top)) = self.timers.peek() {
            if top.0 > now {
                break;
            }
            self.timers.pop();
            if self.is_live(top) {
                due.push(top);
            }
        }
        for (_, key, serial) in due {
            self.with(key, serial, |entry| {
                entry.armed = None;
                entry.conn.handle_timeout(now);
            });
        }
        self.fire_pools(now);
    }

    /// Closes every connection; the loop ends when they are finished.
    pub(crate) fn shutdown(&mut self, now: Instant) {
        self.leave_at = Some(now + SHUTDOWN_GRACE);
        let keys: Vec<(usize, u64)> = self.entries.iter().map(|(k, e)| (k, e.serial)).collect();
        for (key, serial) in keys {
            self.with(key, serial, |entry| {
                let _ = entry.conn.close(CloseCode::GOING_AWAY, "");
            });
        }
        self.close_pools(now);
    }

    /// Number of connections in the slab.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// One thread and one `mio::Poll` serving many connections. Cheap to share
/// by reference; [`Handle`](crate::Handle)s keep working from any thread until the loop is
/// dropped, which closes every connection (waiting a bounded time for the
/// close handshakes) and joins the thread.
///
/// ```no_run
/// use wsnova_mio::prelude::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let event_loop = EventLoop::new()?;
/// let (handle, events) = event_loop.connect(Builder::new("ws://127.0.0.1:9001/")?, Plain)?;
/// handle.send_text("hello")?;
/// for event in events {
///     if let Event::Message(m) = event {
///         println!("{m:?}");
///         break;
///     }
/// }
/// handle.close()?;
/// # Ok(()) }
/// ```
pub struct EventLoop {
    shared: Arc<LoopShared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop").finish_non_exhaustive()
    }
}

impl EventLoop {
    /// Starts the loop on a new thread.
    pub fn new() -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        let registry = Arc::new(poll.registry().try_clone()?);
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        let (sender, receiver) = mpsc::channel();
        let shared = Arc::new(LoopShared {
            commands: sender,
            waker: waker.clone(),
            thread: Mutex::new(None),
        });
        let state = State {
            registry,
            resolver: Resolver::new(waker),
            entries: Slab::new(),
            pools: Slab::new(),
            pool_tokens: Slab::new(),
            timers: BinaryHeap::new(),
            next_serial: 0,
            leave_at: None,
        };
        let thread = std::thread::Builder::new()
            .name("wsnova-mio".into())
            .spawn(move || run(poll, receiver, state))?;
        *lock(&shared.thread) = Some(thread.thread().id());
        Ok(EventLoop {
            shared,
            thread: Some(thread),
        })
    }

    /// The number of single connections on the loop (closed ones leave
    /// it); a pool's are listed by [`PoolHandle::connections`](crate::PoolHandle::connections).
    pub fn connections(&self) -> usize {
        self.shared.assert_off_loop();
        let (tx, rx) = mpsc::sync_channel(1);
        self.shared.send(Box::new(move |state: &mut State| {
            let _ = tx.send(state.len());
        }));
        rx.recv().unwrap_or(0)
    }

    pub(crate) fn shared(&self) -> &Arc<LoopShared> {
        &self.shared
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        self.shared
            .send(Box::new(|state: &mut State| state.shutdown(crate::now())));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join(); // bounded by SHUTDOWN_GRACE
        }
    }
}

/// The loop: poll, hand events to their connections, run commands and
/// resolver answers, fire due deadlines.
fn run(mut poll: Poll, commands: Receiver<Command>, mut state: State) {
    let mut events = mio::Events::with_capacity(1024);
    loop {
        let timeout = state.poll_timeout(crate::now());
        if let Err(err) = poll.poll(&mut events, timeout) {
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return; // the poller itself failed: nothing can be driven
        }
        for event in events.iter() {
            let key = event.token().0;
            if event.token() == WAKE {
                continue; // commands and answers are checked below anyway
            }
            if key >= POOL_TOKENS {
                state.pool_event(event);
                continue;
            }
            let serial = match state.entries.get(key) {
                Some(entry) => entry.serial,
                None => continue,
            };
            state.with(key, serial, |entry| entry.conn.handle_event(event));
        }
        while let Ok(command) = commands.try_recv() {
            command(&mut state);
        }
        for token in state.resolver.finished() {
            let key = token.0;
            if key >= POOL_TOKENS {
                state.pool_resolved(token);
                continue;
            }
            if let Some(serial) = state.entries.get(key).map(|e| e.serial) {
                state.with(key, serial, |entry| entry.conn.handle_resolved());
            }
        }
        let now = crate::now();
        state.fire_timers(now);
        if let Some(leave_at) = state.leave_at
            && ((state.entries.is_empty() && state.pools.is_empty()) || now >= leave_at)
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Entry;
    use crate::connection::Connection;

    /// Issue #18's idle memory: the loop holds every connection as a boxed
    /// entry; rare parts (a refusal reason, a racing dial, the resolver's
    /// slot, the waiting callers) are boxed or made on first use. Each bound
    /// fails if one of those is inlined again.
    #[test]
    fn an_entry_stays_small() {
        let sizes = (size_of::<Entry>(), size_of::<Connection>());
        assert!(sizes.1 <= 216, "{sizes:?}"); // 360 before
        assert!(sizes.0 <= 368, "{sizes:?}"); // 632 before
    }
}
