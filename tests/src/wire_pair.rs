//! A wsnova [`Wire`] connected in memory to tungstenite's server ([`MemPeer`]),
//! optionally through a real rustls server: the whole byte path without sockets.

use std::io::{Read, Write};
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use wsnova_core::wire::{Wire, WireConfig, WireError, WireEvent};

use crate::MemPeer;

/// Our client wire and an independent server, pumped by [`drive`](Self::drive).
///
/// ```
/// use tungstenite::protocol::WebSocketConfig;
/// use wsnova_core::wire::{Message, WireConfig, WireEvent};
/// use wsnova_tests::{MemPeer, wire_pair::WirePair};
///
/// let config = WireConfig::new("ws://localhost/")?;
/// let mut pair = WirePair::plain(config, MemPeer::new(WebSocketConfig::default()), 1);
/// pair.drive();
/// pair.wire.send_text("hi")?;
/// pair.drive();
/// assert_eq!(pair.peer.read_messages().unwrap(), [tungstenite::Message::text("hi")]);
/// pair.peer.send(tungstenite::Message::text("yo"));
/// pair.drive();
/// assert_eq!(pair.events.last(), Some(&WireEvent::Message(Message::text("yo"))));
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
pub struct WirePair {
    /// The client under test.
    pub wire: Wire,
    /// The server's WebSocket side.
    pub peer: MemPeer,
    /// The server's TLS side, for `wss://` pairs.
    pub tls: Option<rustls::ServerConnection>,
    /// Every event the wire produced so far.
    pub events: Vec<WireEvent>,
    /// The error that ended the wire, if any.
    pub error: Option<WireError>,
    /// The error that ended the server's TLS side, if any.
    pub tls_error: Option<rustls::Error>,
}

impl WirePair {
    /// A `ws://` pair; `seed` drives the wire's key and masks.
    pub fn plain(config: WireConfig, peer: MemPeer, seed: u64) -> Self {
        Self::new(config, peer, None, seed)
    }

    /// A `wss://` pair whose server side uses `server_config`.
    pub fn tls(
        config: WireConfig,
        server_config: Arc<rustls::ServerConfig>,
        peer: MemPeer,
        seed: u64,
    ) -> Self {
        let server = rustls::ServerConnection::new(server_config).expect("server config");
        Self::new(config, peer, Some(server), seed)
    }

    fn new(
        config: WireConfig,
        peer: MemPeer,
        tls: Option<rustls::ServerConnection>,
        seed: u64,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let wire = Wire::new(Arc::new(config), &mut rng).expect("wire");
        WirePair {
            wire,
            peer,
            tls,
            events: Vec::new(),
            error: None,
            tls_error: None,
        }
    }

    /// Moves bytes both ways until neither side has anything to say (bounded).
    pub fn drive(&mut self) {
        for _ in 0..1000 {
            let moved = self.client_to_server() | self.server_to_client();
            if !moved {
                return;
            }
        }
        panic!("the pair did not go quiet within 1000 rounds");
    }

    /// Bytes from the wire to the server; `true` if any moved.
    fn client_to_server(&mut self) -> bool {
        let bytes = self.wire.pending_transmit().to_vec();
        self.wire.advance_transmit(bytes.len());
        if bytes.is_empty() {
            return false;
        }
        match self.tls.as_mut() {
            None => self.peer.feed(&bytes),
            Some(server) => {
                let mut input = &bytes[..];
                while !input.is_empty() {
                    server.read_tls(&mut input).expect("read_tls");
                    if let Err(err) = server.process_new_packets() {
                        self.tls_error = Some(err);
                        return true;
                    }
                    let mut plain = Vec::new();
                    match server.reader().read_to_end(&mut plain) {
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) => panic!("server plaintext: {e}"),
                    }
                    self.peer.feed(&plain);
                }
            }
        }
        self.peer.poll_handshake();
        true
    }

    /// Bytes from the server to the wire, then drains the wire's events.
    fn server_to_client(&mut self) -> bool {
        let mut bytes = self.peer.take_output();
        if let Some(server) = self.tls.as_mut() {
            server.writer().write_all(&bytes).expect("server write");
            bytes.clear();
            while server.wants_write() {
                server.write_tls(&mut bytes).expect("write_tls");
            }
        }
        if bytes.is_empty() {
            return false;
        }
        self.wire.handle_bytes(&bytes);
        loop {
            match self.wire.poll_event() {
                Ok(Some(event)) => self.events.push(event),
                Ok(None) => break,
                Err(err) => {
                    self.error = Some(err);
                    break;
                }
            }
        }
        true
    }
}
