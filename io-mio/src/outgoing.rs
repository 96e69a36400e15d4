//! The [`Handle`](crate::Handle)'s send path: messages staged by any
//! thread into one shared batch, drained by the loop thread in one
//! wake-up, framed in order and written with one flush.
//!
//! A sender never waits for the loop, except when more than
//! [`HIGH_WATER`] bytes wait (staged plus queued for the socket): then it
//! blocks until the loop has written enough. The batch's two arenas (one
//! `String` for texts, one `Vec<u8>` for binaries) are reused from one
//! batch to the next, so a message costs one copy into the arena and its
//! framing, and no allocation once the arenas have grown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use wsnova_core::session::SessionError;

use crate::connection::Connection;
use crate::event_loop::HIGH_WATER;
use crate::resolver::lock;

/// A drained batch keeps its arenas for the next one up to this size;
/// bigger ones are freed (memory given back once a burst is over).
const KEEP: usize = 64 * 1024;
/// Fed (unflushed) messages still ask the loop to drain once this much is
/// staged: the batch stays bounded without a flush.
const FEED_LIMIT: usize = 256 * 1024;

/// A message handed to [`Outgoing::stage`].
#[derive(Clone, Copy)]
pub(crate) enum Message<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// Messages staged since the last drain, in order.
#[derive(Default)]
struct Batch {
    text: String,
    binary: Vec<u8>,
    /// Per message: text (`true`) or binary, and where it ends in its arena.
    records: Vec<(bool, usize)>,
}

impl Batch {
    fn push(&mut self, message: Message<'_>) {
        match message {
            Message::Text(text) => {
                self.text.push_str(text);
                self.records.push((true, self.text.len()));
            }
            Message::Binary(data) => {
                self.binary.extend_from_slice(data);
                self.records.push((false, self.binary.len()));
            }
        }
    }

    /// Payload bytes staged.
    fn len(&self) -> usize {
        self.text.len() + self.binary.len()
    }

    /// Frames every message into `conn`'s outgoing buffer, in order,
    /// writing nothing; the first error.
    fn feed(&self, conn: &mut Connection) -> Option<SessionError> {
        let (mut text_at, mut binary_at) = (0, 0);
        let mut first = None;
        for &(is_text, end) in &self.records {
            let result = if is_text {
                let result = conn.feed_text(&self.text[text_at..end]);
                text_at = end;
                result
            } else {
                let result = conn.feed_binary(&self.binary[binary_at..end]);
                binary_at = end;
                result
            };
            if let Err(err) = result {
                first.get_or_insert(err);
            }
        }
        first
    }

    /// Empties it for reuse, or frees arenas grown past [`KEEP`].
    fn recycle(&mut self) {
        if self.text.capacity() + self.binary.capacity() > KEEP {
            *self = Batch::default();
        } else {
            self.text.clear();
            self.binary.clear();
            self.records.clear();
        }
    }
}

/// What senders and the loop share under the lock.
#[derive(Default)]
struct Staging {
    batch: Batch,
    /// The previous batch's arenas, waiting to be reused.
    spare: Batch,
    /// A drain is on its way to the loop (the next message need not ask).
    scheduled: bool,
    /// The connection is closed or gone: nothing more is staged.
    closed: bool,
    /// What the loop met framing an earlier message, for the next caller.
    error: Option<SessionError>,
}

/// One connection's staged messages, shared by its handles and the loop.
#[derive(Default)]
pub(crate) struct Outgoing {
    staging: Mutex<Staging>,
    /// Bytes waiting for the socket, as the loop last saw them.
    backlog: AtomicUsize,
    /// Senders blocked in [`wait_room`](Self::wait_room).
    waiting: AtomicUsize,
    room: Condvar,
}

/// What [`Outgoing::stage`] asks of its caller.
pub(crate) struct Staged {
    /// Send the loop a drain (no other is on its way).
    pub(crate) schedule: bool,
    /// More than [`HIGH_WATER`] bytes wait: call [`Outgoing::wait_room`].
    pub(crate) over: bool,
}

impl Outgoing {
    fn lock(&self) -> MutexGuard<'_, Staging> {
        lock(&self.staging)
    }

    /// Appends `message` (if any) to the batch. `Err(Closed)` once the
    /// connection is closed; an error the loop met with an earlier message
    /// is returned once, by the next call, and that call stages nothing.
    /// With `wake`, or once the batch is large, the caller must schedule a
    /// drain unless one is on its way.
    pub(crate) fn stage(
        &self,
        message: Option<Message<'_>>,
        wake: bool,
    ) -> Result<Staged, SessionError> {
        let mut staging = self.lock();
        if staging.closed {
            return Err(SessionError::Closed);
        }
        if let Some(err) = staging.error.take() {
            return Err(err);
        }
        if let Some(message) = message {
            staging.batch.push(message);
        }
        let staged = staging.batch.len();
        let over = staged + self.backlog.load(Ordering::SeqCst) > HIGH_WATER;
        let wanted = !staging.batch.records.is_empty() && (wake || over || staged >= FEED_LIMIT);
        let schedule = wanted && !staging.scheduled;
        staging.scheduled |= schedule;
        Ok(Staged { schedule, over })
    }

    /// Blocks until no more than [`HIGH_WATER`] bytes wait, or the
    /// connection is closed.
    pub(crate) fn wait_room(&self) {
        // Counted before looking (the loop stores, then counts: one of the
        // two sees the other, so no wake-up is lost).
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut staging = self.lock();
        while !staging.closed
            && staging.batch.len() + self.backlog.load(Ordering::SeqCst) > HIGH_WATER
        {
            staging = self.room.wait(staging).unwrap_or_else(|e| e.into_inner());
        }
        drop(staging);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }

    // ---- the loop's side --------------------------------------------------

    /// Frames everything staged into `conn`, in order, then flushes once.
    pub(crate) fn drain_into(&self, conn: &mut Connection) {
        let mut batch = {
            let mut staging = self.lock();
            staging.scheduled = false;
            if staging.batch.records.is_empty() {
                return;
            }
            let spare = std::mem::take(&mut staging.spare);
            std::mem::replace(&mut staging.batch, spare)
        };
        let error = batch.feed(conn);
        conn.flush();
        batch.recycle();
        let mut staging = self.lock();
        staging.spare = batch;
        if let Some(err) = error {
            staging.error.get_or_insert(err);
        }
    }

    /// The loop saw `pending` bytes waiting for the socket: senders blocked
    /// on room are woken once it is at most [`HIGH_WATER`].
    pub(crate) fn set_backlog(&self, pending: usize) {
        self.backlog.store(pending, Ordering::SeqCst);
        if pending <= HIGH_WATER && self.waiting.load(Ordering::SeqCst) > 0 {
            let _staging = self.lock();
            self.room.notify_all();
        }
    }

    /// The connection is closed or gone: sends fail from now on, staged
    /// messages are dropped, blocked senders return.
    pub(crate) fn close(&self) {
        let mut staging = self.lock();
        staging.closed = true;
        staging.batch = Batch::default();
        staging.spare = Batch::default();
        self.room.notify_all();
    }
}
