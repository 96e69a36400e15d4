//! The recorder, driven through its [`Tap`] calls directly: each call's
//! line at its time, each direction's stream cut per connection, lengths
//! only over TLS, and when the sink is flushed.

use std::sync::{Arc, Mutex};

use super::*;
use crate::record::Piece;

/// A sink whose bytes and flush count stay readable while the recorder holds it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<(Vec<u8>, usize)>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap().1 += 1;
        Ok(())
    }
}

impl Shared {
    fn entries(&self) -> Vec<Entry> {
        let bytes = self.0.lock().unwrap().0.clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
    fn flushes(&self) -> usize {
        self.0.lock().unwrap().1
    }
}

fn recorder(url: &str) -> (Recorder<Shared>, Shared, Instant) {
    let mut config = SessionConfig::new(url).unwrap();
    config.seed = 7;
    let sink = Shared::default();
    let t0 = Instant::now();
    (Recorder::new(&config, t0, sink.clone()), sink, t0)
}

const HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\r\n";

fn ms(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

fn text(b0: u8, text: &str) -> Piece {
    Piece {
        b0: Some(b0),
        text: Some(text.into()),
        ..Piece::default()
    }
}

fn head(text: &str) -> Piece {
    Piece {
        head: Some(text.into()),
        ..Piece::default()
    }
}

#[test]
fn each_call_is_a_line_at_its_time_and_each_connection_a_new_stream() {
    let (mut r, sink, t0) = recorder("ws://127.0.0.1:9001/");
    r.input(ms(t0, 1), &Input::Connected { generation: 1 });
    let mut bytes = HEAD.to_vec();
    bytes.extend_from_slice(&[0x81, 2, b'h', b'i']);
    r.input(
        ms(t0, 2),
        &Input::Bytes {
            generation: 1,
            data: &bytes,
        },
    );
    r.written(1, b"GET / HTTP/1.1\r\n\r\n");
    r.timeout(ms(t0, 3));
    r.command(ms(t0, 4), &Call::Ping, Ok(()));
    r.output(&Output::Dial {
        generation: 2,
        host: "127.0.0.1".into(),
        port: 9001,
    });
    // A new connection starts both streams afresh, with a head.
    r.input(
        ms(t0, 5),
        &Input::Bytes {
            generation: 2,
            data: HEAD,
        },
    );
    r.written(2, b"GET / HTTP/1.1\r\n\r\n");
    let entries = sink.entries();
    assert!(matches!(
        entries[0],
        Entry::Header {
            seed: 7,
            tls: false,
            ..
        }
    ));
    let http = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
    let get = "GET / HTTP/1.1\r\n\r\n";
    assert_eq!(
        entries[1..],
        [
            Entry::Connected { t: 1_000_000, g: 1 },
            Entry::In {
                t: 2_000_000,
                g: 1,
                piece: head(http)
            },
            Entry::In {
                t: 2_000_000,
                g: 1,
                piece: text(0x81, "hi")
            },
            Entry::Out {
                g: 1,
                piece: head(get)
            },
            Entry::Timeout { t: 3_000_000 },
            Entry::Command {
                t: 4_000_000,
                command: Command::Ping,
                result: "ok".into()
            },
            Entry::Output {
                line: "dial g=2 127.0.0.1:9001".into()
            },
            Entry::In {
                t: 5_000_000,
                g: 2,
                piece: head(http)
            },
            Entry::Out {
                g: 2,
                piece: head(get)
            },
        ]
    );
    assert_eq!(
        format!("{r:?}"),
        "Recorder { tls: false, failed: false, .. }"
    );
}

#[test]
fn over_tls_only_lengths_are_recorded() {
    let (mut r, sink, t0) = recorder("wss://127.0.0.1:9001/");
    r.input(
        ms(t0, 1),
        &Input::Bytes {
            generation: 1,
            data: b"ciphertext",
        },
    );
    r.written(1, b"more ciphertext");
    assert_eq!(
        sink.entries()[1..],
        [
            Entry::InRaw {
                t: 1_000_000,
                g: 1,
                len: 10
            },
            Entry::OutRaw { g: 1, len: 15 },
        ]
    );
    assert_eq!(
        format!("{r:?}"),
        "Recorder { tls: true, failed: false, .. }"
    );
}

#[test]
fn the_sink_is_flushed_at_most_once_a_second_and_at_the_close() {
    let (mut r, sink, t0) = recorder("ws://127.0.0.1:9001/");
    r.timeout(ms(t0, 999));
    assert_eq!(sink.flushes(), 0);
    r.timeout(ms(t0, 1_000));
    assert_eq!(sink.flushes(), 1);
    r.timeout(ms(t0, 1_999));
    assert_eq!(sink.flushes(), 1, "a second from the last flush");
    r.output(&Output::Event(Event::Closed {
        reason: crate::session::CloseReason::User,
    }));
    assert_eq!(sink.flushes(), 2);
    r.finish().unwrap();
    assert_eq!(sink.flushes(), 3);
}
