//! Batching in the mio driver, on real sockets: the embedding
//! `Connection`'s `feed_*` frame without writing and `flush` writes them
//! in one go; the blocking `Handle` stages sends without a round trip to
//! the loop. A raw server (tungstenite's handshake, then plain reads of
//! the socket) sees exactly what the client wrote, and when.

use std::io::{ErrorKind, Read};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wsnova_core::session::{Event, Plain, SessionConfig, SessionError, SessionState};
use wsnova_core::wire::{CloseCode, Message};
use wsnova_mio::mio::{Events, Poll, Token};
use wsnova_mio::{Connection, EventLoop, Handle};
use wsnova_tests::EchoServer;
use wsnova_tests::bad_server::{ClientFrame, parse_client_frames};

const STEP: Duration = Duration::from_secs(10);

/// A server for one client: it answers the upgrade, then hands the raw
/// socket to the test, which reads the client's frames itself.
struct RawServer {
    url: String,
    accepted: mpsc::Receiver<TcpStream>,
}

impl RawServer {
    fn start() -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let (tx, accepted) = mpsc::channel();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            // The client writes nothing after its request until it has the
            // answer: tungstenite has read no frame bytes.
            let ws = tungstenite::accept(stream).unwrap();
            let _ = tx.send(ws.get_ref().try_clone().unwrap());
        });
        RawServer { url, accepted }
    }

    fn socket(&self) -> TcpStream {
        let socket = self
            .accepted
            .recv_timeout(STEP)
            .expect("the upgrade in time");
        socket.set_read_timeout(Some(STEP)).unwrap();
        socket
    }
}

/// Reads from `socket` until `count` data frames (text or binary) came;
/// also returns how many `read`s that took.
fn read_frames(socket: &mut TcpStream, count: usize, chunk: usize) -> (Vec<ClientFrame>, usize) {
    let deadline = Instant::now() + STEP;
    let (mut bytes, mut frames, mut reads) = (Vec::new(), Vec::new(), 0);
    let mut buf = vec![0; chunk];
    while frames.len() < count {
        assert!(
            Instant::now() < deadline,
            "{} of {count} frames",
            frames.len()
        );
        let n = socket.read(&mut buf).expect("client bytes in time");
        assert!(n > 0, "the client closed after {} frames", frames.len());
        reads += 1;
        bytes.extend_from_slice(&buf[..n]);
        let (parsed, used) = parse_client_frames(&bytes);
        bytes.drain(..used);
        frames.extend(parsed.into_iter().filter(|f| matches!(f.opcode, 1 | 2)));
    }
    assert!(bytes.is_empty(), "no partial frame after the last one");
    (frames, reads)
}

/// One embedded connection and the mio loop that drives it.
struct Loop {
    poll: Poll,
    events: Events,
    conn: Connection,
}

impl Loop {
    fn connect(url: &str) -> Loop {
        let poll = Poll::new().unwrap();
        let registry = Arc::new(poll.registry().try_clone().unwrap());
        let config = SessionConfig::new(url).unwrap();
        let mut conn = Connection::new(config, Plain, registry, Token(3));
        conn.connect().unwrap();
        let mut l = Loop {
            poll,
            events: Events::with_capacity(64),
            conn,
        };
        l.until(|_, e| e == Some(&Event::Ready));
        l
    }

    /// One turn: waits for readiness (at most `wait`), handles it and due timers.
    fn turn(&mut self, wait: Duration) -> Option<Event> {
        if let Some(event) = self.conn.poll_event() {
            return Some(event);
        }
        let now = Instant::now();
        let wait = self
            .conn
            .poll_timeout()
            .map_or(wait, |at| at.saturating_duration_since(now).min(wait));
        self.poll.poll(&mut self.events, Some(wait)).unwrap();
        for event in self.events.iter() {
            self.conn.handle_event(event);
        }
        let now = Instant::now();
        if self.conn.poll_timeout().is_some_and(|at| at <= now) {
            self.conn.handle_timeout(now);
        }
        self.conn.poll_event()
    }

    /// Turns until `done` (given the connection and the latest event, if any) says so.
    fn until(&mut self, done: impl Fn(&Connection, Option<&Event>) -> bool) {
        let deadline = Instant::now() + STEP;
        loop {
            let event = self.turn(Duration::from_millis(50));
            if done(&self.conn, event.as_ref()) {
                return;
            }
            assert!(Instant::now() < deadline, "not done in time");
        }
    }
}

/// `text` framed by a client: 2 header bytes, a 4-byte mask, the payload.
fn small_frame_len(payload: usize) -> usize {
    assert!(payload < 126);
    2 + 4 + payload
}

#[test]
fn connection_feed_writes_nothing_until_flush_writes_all_in_one_go() {
    let server = RawServer::start();
    let mut l = Loop::connect(&server.url);
    let mut socket = server.socket();
    let texts: Vec<String> = (0..50).map(|i| format!("{i:064}")).collect();
    for text in &texts {
        l.conn.feed_text(text).unwrap();
    }
    assert_eq!(
        l.conn.pending_bytes(),
        texts.len() * small_frame_len(64),
        "fed frames wait in the outgoing buffer"
    );
    socket.set_nonblocking(true).unwrap();
    let mut probe = [0; 1];
    let early = socket.read(&mut probe);
    assert_eq!(
        early.map_err(|e| e.kind()),
        Err(ErrorKind::WouldBlock),
        "nothing was written before the flush"
    );
    socket.set_nonblocking(false).unwrap();

    l.conn.flush();
    assert_eq!(l.conn.pending_bytes(), 0, "the socket took it all");
    let (frames, reads) = read_frames(&mut socket, texts.len(), 64 * 1024);
    assert_eq!(reads, 1, "the 50 frames left in one write");
    let got: Vec<&[u8]> = frames.iter().map(|f| f.payload.as_slice()).collect();
    let want: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    assert_eq!(got, want, "in the order fed");
    assert!(frames.iter().all(|f| f.masked && f.fin && f.opcode == 1));
}

#[test]
fn connection_send_is_feed_and_flush() {
    let server = RawServer::start();
    let mut l = Loop::connect(&server.url);
    let mut socket = server.socket();
    l.conn.feed_binary(&[1, 2, 3]).unwrap();
    l.conn.send_text("after").unwrap();
    assert_eq!(l.conn.pending_bytes(), 0);
    let (frames, _) = read_frames(&mut socket, 2, 4096);
    assert_eq!(
        (frames[0].opcode, frames[0].payload.as_slice()),
        (2, &[1u8, 2, 3][..])
    );
    assert_eq!(
        (frames[1].opcode, frames[1].payload.as_slice()),
        (1, &b"after"[..])
    );
}

/// `count` binary messages of `size` bytes, each filled with its index.
fn numbered(count: usize, size: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut m = vec![(i % 251) as u8; size];
            m[..8].copy_from_slice(&(i as u64).to_be_bytes());
            m
        })
        .collect()
}

/// Checks that `frames` are `messages`, in order.
fn assert_in_order(frames: &[ClientFrame], messages: &[Vec<u8>]) {
    assert_eq!(frames.len(), messages.len());
    for (i, (frame, message)) in frames.iter().zip(messages).enumerate() {
        assert!(
            frame.payload == *message,
            "message {i} differs or is out of order"
        );
    }
}

#[test]
fn connection_flush_to_a_slow_reader_loses_nothing() {
    let server = RawServer::start();
    let mut l = Loop::connect(&server.url);
    let socket = server.socket();
    let messages = numbered(400, 16 * 1024); // 6.4 MiB: more than the socket buffers hold
    for m in &messages {
        l.conn.feed_binary(m).unwrap();
    }
    l.conn.flush();
    assert!(
        l.conn.pending_bytes() > 0,
        "the server reads nothing yet: the socket took only part"
    );
    let reader = std::thread::spawn(move || {
        let mut socket = socket;
        // Small reads: the client writes in many partial writes.
        read_frames(&mut socket, 400, 4096).0
    });
    l.until(|conn, _| conn.pending_bytes() == 0); // writable events resume the writes
    let frames = reader.join().unwrap();
    assert_in_order(&frames, &messages);
}

#[test]
fn connection_send_after_close_errors() {
    let server = EchoServer::start();
    let mut l = Loop::connect(&server.url());
    l.conn.close(CloseCode::NORMAL, "bye").unwrap();
    l.until(|conn, _| conn.state() == SessionState::Closed);
    assert_eq!(l.conn.send_text("late"), Err(SessionError::Closed));
    assert_eq!(l.conn.feed_binary(b"late"), Err(SessionError::Closed));
}

fn connect_handle(url: &str, event_loop: &EventLoop) -> (Handle, wsnova_mio::Events) {
    let config = SessionConfig::new(url).unwrap();
    event_loop.connect(config, Plain).expect("connect")
}

#[test]
fn handle_feed_leaves_in_one_write_at_flush() {
    let server = RawServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect_handle(&server.url, &event_loop);
    let mut socket = server.socket();
    let texts: Vec<String> = (0..40).map(|i| format!("fed {i}")).collect();
    for text in &texts {
        handle.feed_text(text).unwrap();
    }
    handle.flush().unwrap();
    let (frames, reads) = read_frames(&mut socket, texts.len(), 64 * 1024);
    assert_eq!(reads, 1, "one drain, one write for the whole batch");
    let got: Vec<&[u8]> = frames.iter().map(|f| f.payload.as_slice()).collect();
    let want: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    assert_eq!(got, want);
}

#[test]
fn handle_sends_from_threads_arrive_in_order_under_load() {
    const THREADS: usize = 4;
    const EACH: usize = 5_000;
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let config = SessionConfig::new(&server.url()).unwrap();
    let (handle, events) = event_loop.connect(config, Plain).expect("connect");
    let senders: Vec<_> = (0..THREADS)
        .map(|t| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                for n in 0..EACH {
                    let text = format!("{t} {n}");
                    if n % 3 == 0 {
                        handle.feed_text(text).unwrap(); // mixed with sends and flushes
                    } else {
                        handle.send_text(text).unwrap();
                    }
                }
                handle.flush().unwrap();
            })
        })
        .collect();
    let mut next = [0usize; THREADS];
    let deadline = Instant::now() + STEP;
    while next.iter().sum::<usize>() < THREADS * EACH {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left).expect("the echoes in time") {
            Event::Message(Message::Text(text)) => {
                let (t, n) = text.split_once(' ').unwrap();
                let (t, n): (usize, usize) = (t.parse().unwrap(), n.parse().unwrap());
                assert_eq!(n, next[t], "thread {t}'s messages in order, none lost");
                next[t] += 1;
            }
            Event::Message(other) => panic!("unexpected {other:?}"),
            e @ (Event::Disconnected { .. } | Event::Closed { .. } | Event::Lagged { .. }) => {
                panic!("unexpected {e:?}")
            }
            _ => {}
        }
    }
    for sender in senders {
        sender.join().unwrap();
    }
    handle.close().unwrap();
}

#[test]
fn handle_sends_to_a_slow_reader_wait_for_room_and_lose_nothing() {
    let server = RawServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect_handle(&server.url, &event_loop);
    let socket = server.socket();
    // 16 MiB: beyond the 4 MiB high-water mark plus what the kernel's
    // buffers hold while nobody reads, so the sender must block.
    let messages = Arc::new(numbered(1000, 16 * 1024));
    let (done_tx, done) = mpsc::channel();
    let sender = {
        let (handle, messages) = (handle.clone(), messages.clone());
        std::thread::spawn(move || {
            for m in messages.iter() {
                handle.send_binary(m).unwrap();
            }
            let _ = done_tx.send(());
        })
    };
    // A bounded wait that only a sender ignoring the high-water mark ends early.
    assert_eq!(
        done.recv_timeout(Duration::from_millis(300)),
        Err(mpsc::RecvTimeoutError::Timeout),
        "the sender waits while more than the high-water mark is queued"
    );
    let mut socket = socket;
    let (mut frames, mut rest) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + STEP;
    let mut buf = vec![0; 64 * 1024];
    while frames.len() < messages.len() {
        assert!(Instant::now() < deadline, "{} frames", frames.len());
        let n = socket.read(&mut buf).unwrap();
        assert!(n > 0);
        rest.extend_from_slice(&buf[..n]);
        let (parsed, used) = parse_client_frames(&rest);
        rest.drain(..used);
        frames.extend(parsed);
    }
    sender.join().unwrap();
    assert_in_order(&frames, &messages);
}

#[test]
fn handle_send_after_close_errors_at_once() {
    let server = EchoServer::start();
    let event_loop = EventLoop::new().unwrap();
    let (handle, _events) = connect_handle(&server.url(), &event_loop);
    handle.send_text("before").unwrap(); // the batch exists before the close
    let other = handle.clone();
    handle.close().unwrap();
    assert_eq!(other.send_text("late"), Err(SessionError::Closed));
    assert_eq!(other.feed_binary(b"late"), Err(SessionError::Closed));
    assert_eq!(other.flush(), Err(SessionError::Closed));
    // A handle that never sent learns it from the loop.
    let (fresh, _events) = connect_handle(&server.url(), &event_loop);
    fresh.close().unwrap();
    assert_eq!(fresh.send_text("late"), Err(SessionError::Closed));
}
