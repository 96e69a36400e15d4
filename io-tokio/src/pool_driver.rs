//! The task that runs a [`Pool`]: one socket per connection, each read by
//! its own small task and written by another, all bytes and time handed to
//! the pool under one lock. Everything else is decided by the core.
//!
//! Backpressure (`LagPolicy::Backpressure`): the reader tasks hand their
//! bytes over a bounded queue; while a consumer is full the task stops
//! taking from it, so the readers stop reading and TCP pushes back on the
//! server, and the pool is told (its sessions suspend the deadlines only
//! reading can meet). A consumer that makes room wakes the task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::{BufMut as _, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use wsnova_core::driver::{LagPolicy, Waiters};
use wsnova_core::pool::{ConnId, Pool, PoolOutput};
use wsnova_core::session::{Adapter, Event, Input};
use wsnova_core::wire::ReadSize;

use crate::driver::now;
use crate::events::Subscriber;
use crate::shared::Oneshot;

/// Socket reports waiting for the pool task (each up to 64 kB of bytes):
/// while it does not take them, the readers stop reading.
const SOCKET_QUEUE: usize = 16;
/// A reader reserves more room when less than this is left.
const MIN_ROOM: usize = 1024;

/// What the socket tasks report.
enum SocketEvent {
    Dialled(ConnId, u64, std::io::Result<TcpStream>),
    Data(ConnId, u64, Bytes),
    Eof(ConnId, u64),
    Failed(ConnId, u64, String),
}

/// One connection's socket: its writer's queue and its reader task.
struct Socket {
    generation: u64,
    writer: mpsc::UnboundedSender<Vec<u8>>,
    reader: JoinHandle<()>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.reader.abort(); // the writer ends when its queue is dropped
    }
}

/// The pool and who waits for what; locked briefly, never across an `.await`.
pub(crate) struct PoolInner<A: Adapter + Clone> {
    pub(crate) pool: Pool<A>,
    pub(crate) waiters: Waiters<Oneshot>,
    pub(crate) subscribers: Vec<Arc<Subscriber>>,
    pub(crate) capacity: usize,
    pub(crate) policy: LagPolicy,
    pub(crate) dropped_total: metrics::Counter,
}

impl<A: Adapter + Clone> PoolInner<A> {
    /// A consumer under `LagPolicy::Backpressure` is full: stop reading.
    fn is_backpressured(&self) -> bool {
        self.policy == LagPolicy::Backpressure
            && self
                .subscribers
                .iter()
                .any(|s| !s.is_abandoned() && s.is_full())
    }

    /// Events to waiters and consumers; socket actions returned.
    fn drain(&mut self) -> Vec<PoolOutput> {
        let mut actions = Vec::new();
        let mut routed = Vec::new();
        while let Some(output) = self.pool.poll_output() {
            match output {
                PoolOutput::Event { event, .. } => {
                    if let Some(event) = self.waiters.route(event) {
                        routed.push(event);
                    }
                }
                PoolOutput::Transmit { .. } => {}
                other => actions.push(other),
            }
        }
        if !routed.is_empty() {
            let closed = routed.iter().any(|e| matches!(e, Event::Closed { .. }));
            self.subscribers.retain(|s| !s.is_abandoned());
            for sub in &self.subscribers {
                sub.push_all(routed.iter().cloned());
            }
            if closed {
                for sub in &self.subscribers {
                    sub.close();
                }
                self.waiters.release_close_waiters();
            }
        }
        actions
    }
}

/// The lock plus the task's wake-up.
pub(crate) struct PoolShared<A: Adapter + Clone> {
    inner: Mutex<PoolInner<A>>,
    pub(crate) wake: Arc<Notify>,
}

impl<A: Adapter + Clone> PoolShared<A> {
    pub(crate) fn new(inner: PoolInner<A>, wake: Arc<Notify>) -> Arc<Self> {
        Arc::new(PoolShared {
            inner: Mutex::new(inner),
            wake,
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, PoolInner<A>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs the pool until it is closed.
pub(crate) async fn run<A: Adapter + Clone>(shared: Arc<PoolShared<A>>) {
    let (tx, mut rx) = mpsc::channel::<SocketEvent>(SOCKET_QUEUE);
    let mut sockets: HashMap<ConnId, Socket> = HashMap::new();
    let sleep = tokio::time::sleep(std::time::Duration::ZERO);
    tokio::pin!(sleep);
    loop {
        let (deadline, closed, paused) = {
            let mut inner = shared.lock();
            if inner.pool.poll_timeout().is_some_and(|at| at <= now()) {
                inner.pool.handle_timeout(now());
            }
            for action in inner.drain() {
                act(action, &mut sockets, &tx);
            }
            let paused = inner.is_backpressured();
            inner.pool.set_reading_paused(now(), paused);
            for action in inner.drain() {
                act(action, &mut sockets, &tx);
            }
            for (conn, socket) in &sockets {
                let bytes = inner.pool.pending_transmit(*conn);
                if !bytes.is_empty() {
                    let bytes = bytes.to_vec();
                    inner.pool.advance_transmit(*conn, bytes.len());
                    let _ = socket.writer.send(bytes);
                }
            }
            (inner.pool.poll_timeout(), inner.pool.is_closed(), paused)
        };
        if closed {
            return; // dropping the sockets flushes their writers and ends them
        }
        if let Some(at) = deadline {
            sleep.as_mut().reset(tokio::time::Instant::from_std(at));
        }
        tokio::select! {
            biased;
            () = &mut sleep, if deadline.is_some() => {
                shared.lock().pool.handle_timeout(now());
            }
            () = shared.wake.notified() => {}
            Some(event) = rx.recv(), if !paused => {
                let mut inner = shared.lock();
                let pool = &mut inner.pool;
                on_socket_event(pool, event, &mut sockets, &tx);
                // Take whatever else is ready under the same lock.
                while let Ok(event) = rx.try_recv() {
                    on_socket_event(pool, event, &mut sockets, &tx);
                }
            }
        }
    }
}

fn act(action: PoolOutput, sockets: &mut HashMap<ConnId, Socket>, tx: &mpsc::Sender<SocketEvent>) {
    match action {
        PoolOutput::Dial {
            conn,
            generation,
            host,
            port,
        } => {
            sockets.remove(&conn);
            let tx = tx.clone();
            tokio::spawn(async move {
                let result = crate::dial::dial(&host, port, Vec::new()).await;
                let _ = tx
                    .send(SocketEvent::Dialled(conn, generation, result))
                    .await;
            });
        }
        PoolOutput::CloseTransport {
            conn,
            generation,
            flush,
        } => {
            if sockets
                .get(&conn)
                .is_some_and(|s| s.generation == generation)
                && let Some(socket) = sockets.remove(&conn)
            {
                // Best effort: the writer sends it, then ends with its queue.
                let _ = socket.writer.send(flush);
            }
        }
        PoolOutput::Transmit { .. } | PoolOutput::Event { .. } => {}
    }
}

fn on_socket_event<A: Adapter + Clone>(
    pool: &mut Pool<A>,
    event: SocketEvent,
    sockets: &mut HashMap<ConnId, Socket>,
    tx: &mpsc::Sender<SocketEvent>,
) {
    match event {
        SocketEvent::Dialled(conn, generation, Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            let (mut read, mut write) = stream.into_split();
            let (writer, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
            tokio::spawn(async move {
                while let Some(bytes) = queue.recv().await {
                    if write.write_all(&bytes).await.is_err() {
                        return; // the reader reports the failure
                    }
                }
                let _ = write.shutdown().await;
            });
            let events = tx.clone();
            let reader = tokio::spawn(async move {
                // Read into spare room (no zero-fill), sized to the traffic;
                // each read's bytes go to the pool without a copy, and the
                // next read takes the rest of the same allocation. An idle
                // connection holds at most 4 KiB here.
                let mut size = ReadSize::default();
                let mut buf = BytesMut::new();
                loop {
                    if buf.capacity() < MIN_ROOM {
                        buf.reserve(size.next());
                    }
                    // At most `size.next()` (≤ 64 KiB) per read.
                    let offered = buf.capacity().min(size.next());
                    let event = match read.read_buf(&mut (&mut buf).limit(offered)).await {
                        Ok(0) => SocketEvent::Eof(conn, generation),
                        Ok(n) => {
                            size.adapt(n, offered);
                            SocketEvent::Data(conn, generation, buf.split().freeze())
                        }
                        Err(e) => SocketEvent::Failed(conn, generation, e.to_string()),
                    };
                    let last = !matches!(event, SocketEvent::Data(..));
                    if events.send(event).await.is_err() || last {
                        return;
                    }
                }
            });
            sockets.insert(
                conn,
                Socket {
                    generation,
                    writer,
                    reader,
                },
            );
            pool.handle_input(now(), conn, Input::Connected { generation });
        }
        SocketEvent::Dialled(conn, generation, Err(err)) => {
            let error = err.to_string();
            pool.handle_input(
                now(),
                conn,
                Input::ConnectFailed {
                    generation,
                    error: &error,
                },
            );
        }
        SocketEvent::Data(conn, generation, data) => {
            pool.handle_input(
                now(),
                conn,
                Input::Bytes {
                    generation,
                    data: &data,
                },
            );
        }
        SocketEvent::Eof(conn, generation) => {
            pool.handle_input(now(), conn, Input::Closed { generation });
        }
        SocketEvent::Failed(conn, generation, error) => {
            pool.handle_input(
                now(),
                conn,
                Input::Failed {
                    generation,
                    error: &error,
                },
            );
        }
    }
}
