//! A session over TLS ends its connection as RFC 8446 §6.1 asks: once the
//! WebSocket close handshake is done (RFC 6455 §7.1.1), the bytes the driver
//! flushes before closing the socket end with TLS `close_notify`, so the
//! server sees a clean end of the stream rather than a truncation.
//! The server is rustls over tungstenite's WebSocket server, in memory.

use std::io::{ErrorKind, Read, Write};
use std::time::Instant;

use tungstenite::Message;
use tungstenite::protocol::WebSocketConfig;
use wsnova_core::session::{Event, Input, Output, Plain, Session, SessionConfig};
use wsnova_core::wire::CloseCode;
use wsnova_tests::MemPeer;
use wsnova_tests::certs::TestPki;

/// The session under test and its server: rustls carrying tungstenite.
struct Pair {
    session: Session<Plain>,
    tls: rustls::ServerConnection,
    peer: MemPeer,
    generation: u64,
    now: Instant,
    /// The session's outputs other than transmit announcements, in order.
    outputs: Vec<Output>,
}

impl Pair {
    /// A `wss://` session, dialed and upgraded through TLS.
    fn upgraded() -> Pair {
        let pki = TestPki::new(&["localhost"]);
        let mut config = SessionConfig::new("wss://localhost/ws").unwrap();
        config.wire = config.wire.clone().tls_config(pki.client_config());
        config.seed = 9;
        let now = Instant::now();
        let mut session = Session::new(config, Plain, now);
        session.connect(now).unwrap();
        let Some(Output::Dial { generation, .. }) = session.poll_output() else {
            panic!("expected a dial")
        };
        session.handle_input(now, Input::Connected { generation });
        let mut pair = Pair {
            session,
            tls: rustls::ServerConnection::new(pki.server_config()).unwrap(),
            peer: MemPeer::new(WebSocketConfig::default()),
            generation,
            now,
            outputs: Vec::new(),
        };
        pair.drive();
        assert!(
            pair.outputs
                .iter()
                .any(|o| matches!(o, Output::Event(Event::Connected))),
            "the upgrade over TLS succeeded: {:?}",
            pair.outputs
        );
        pair
    }

    /// Moves bytes both ways until neither side has anything to say.
    fn drive(&mut self) {
        for _ in 0..100 {
            self.collect_outputs();
            let to_server = self.session.pending_transmit().to_vec();
            self.session.advance_transmit(to_server.len());
            self.deliver_to_server(&to_server);
            let _ = self.peer.read_messages();
            let to_client = self.take_from_server();
            if to_server.is_empty() && to_client.is_empty() {
                self.collect_outputs();
                return;
            }
            self.session.handle_input(
                self.now,
                Input::Bytes {
                    generation: self.generation,
                    data: &to_client,
                },
            );
        }
        panic!("the pair did not go quiet within 100 rounds");
    }

    fn collect_outputs(&mut self) {
        while let Some(output) = self.session.poll_output() {
            if !matches!(output, Output::Transmit { .. }) {
                self.outputs.push(output);
            }
        }
    }

    /// Decrypts `bytes` on the server and hands the plaintext to the peer.
    fn deliver_to_server(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            self.tls.read_tls(&mut bytes).unwrap();
            self.tls.process_new_packets().unwrap();
            let mut plain = Vec::new();
            match self.tls.reader().read_to_end(&mut plain) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("server plaintext: {e}"),
            }
            self.peer.feed(&plain);
        }
        self.peer.poll_handshake();
    }

    /// What the peer wrote, encrypted for the client.
    fn take_from_server(&mut self) -> Vec<u8> {
        let plain = self.peer.take_output();
        self.tls.writer().write_all(&plain).unwrap();
        let mut sealed = Vec::new();
        while self.tls.wants_write() {
            self.tls.write_tls(&mut sealed).unwrap();
        }
        sealed
    }

    /// The bytes the session asked the driver to flush before closing the
    /// socket of this connection.
    fn close_flush(&self) -> &[u8] {
        let closes: Vec<&[u8]> = self
            .outputs
            .iter()
            .filter_map(|o| match o {
                Output::CloseTransport { generation, flush } if *generation == self.generation => {
                    Some(flush.as_slice())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            closes.len(),
            1,
            "one close of the socket: {:?}",
            self.outputs
        );
        closes[0]
    }

    /// Whether the server's TLS side has read `close_notify`: a clean end
    /// of the plaintext stream reads as `Ok(0)`, no end yet as
    /// `WouldBlock`.
    fn server_saw_close_notify(&mut self) -> bool {
        match self.tls.reader().read(&mut [0; 64]) {
            Ok(0) => true,
            Ok(n) => panic!("{n} unexpected plaintext bytes"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("server plaintext: {e}"),
        }
    }
}

#[test]
fn a_close_the_client_starts_ends_with_close_notify() {
    let mut pair = Pair::upgraded();
    pair.session
        .close(pair.now, CloseCode::NORMAL, "bye")
        .unwrap();
    pair.drive();
    assert!(pair.peer.is_closed(), "the server answered the close");
    assert!(
        !pair.server_saw_close_notify(),
        "no close_notify before the close handshake is done"
    );
    let flush = pair.close_flush().to_vec();
    assert!(!flush.is_empty(), "the socket is closed after a TLS record");
    pair.deliver_to_server(&flush);
    assert!(pair.server_saw_close_notify());
}

#[test]
fn a_close_the_server_starts_ends_with_close_notify() {
    let mut pair = Pair::upgraded();
    pair.peer.send(Message::text("before the close"));
    pair.peer.close(1001, "going away");
    pair.drive();
    assert!(
        pair.outputs
            .iter()
            .any(|o| matches!(o, Output::Event(Event::Message(m)) if m.as_text() == Some("before the close"))),
        "{:?}",
        pair.outputs
    );
    assert!(!pair.server_saw_close_notify());
    let flush = pair.close_flush().to_vec();
    pair.deliver_to_server(&flush);
    assert!(pair.server_saw_close_notify());
}
