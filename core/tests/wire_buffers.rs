//! What `Wire::buffered_bytes` and `Wire::pending_len` count, buffer by
//! buffer, over TLS against an in-memory rustls server (a self-signed
//! certificate for "localhost"): each buffer a connection holds grows the
//! total by at least its own size, and plaintext staged for sealing is
//! pending like sealed bytes are (issue #19's mutants of `wire/mod.rs`).

use std::io::{Read, Write};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tungstenite::handshake::derive_accept_key;
use wsnova_core::wire::{Wire, WireConfig, WireEvent};

#[path = "../src/wire/test_tls.rs"]
mod test_tls;

/// A server's side of the connection: rustls plus the plaintext it read.
struct Server {
    tls: rustls::ServerConnection,
    plaintext: Vec<u8>,
}

impl Server {
    /// Takes everything the wire has to send.
    fn take_from(&mut self, wire: &mut Wire) {
        let bytes = wire.pending_transmit().to_vec();
        wire.advance_transmit(bytes.len());
        let mut data = bytes.as_slice();
        while !data.is_empty() {
            self.tls.read_tls(&mut data).unwrap();
            self.tls.process_new_packets().unwrap();
            // Read as it comes: rustls holds a bounded amount of plaintext.
            let _ = self.tls.reader().read_to_end(&mut self.plaintext);
        }
    }

    /// Hands the wire everything the server has to send.
    fn give_to(&mut self, wire: &mut Wire) {
        let mut bytes = Vec::new();
        while self.tls.wants_write() {
            self.tls.write_tls(&mut bytes).unwrap();
        }
        wire.handle_bytes(&bytes);
    }
}

/// A `wss://localhost/` wire after its TLS handshake and its `101`, with
/// permessage-deflate agreed (`deflate`) or not.
fn open_tls_wire(deflate: bool) -> (Wire, Server) {
    let (client, server) = test_tls::configs();
    let config = WireConfig::new("wss://localhost/")
        .unwrap()
        .tls_config(client);
    let mut wire = Wire::new(Arc::new(config), &mut StdRng::seed_from_u64(7)).unwrap();
    let mut server = Server {
        tls: rustls::ServerConnection::new(server).unwrap(),
        plaintext: Vec::new(),
    };
    server.tls.set_buffer_limit(None); // the tests send a MiB at once
    // TLS flights until the upgrade request arrives in plaintext.
    for _ in 0..10 {
        server.take_from(&mut wire);
        server.give_to(&mut wire);
        if server.plaintext.ends_with(b"\r\n\r\n") {
            break;
        }
    }
    let request = String::from_utf8(std::mem::take(&mut server.plaintext)).unwrap();
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("the upgrade request");
    let extension = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    } else {
        ""
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extension}\r\n",
        derive_accept_key(key.as_bytes())
    );
    server.tls.writer().write_all(response.as_bytes()).unwrap();
    server.give_to(&mut wire);
    assert!(matches!(
        wire.poll_event(),
        Ok(Some(WireEvent::Open { .. }))
    ));
    (wire, server)
}

/// `n` bytes that do not compress (random bytes from a fixed seed).
fn noise(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    StdRng::seed_from_u64(1).fill_bytes(&mut bytes);
    bytes
}

const MIB: usize = 1 << 20;

#[test]
fn plaintext_staged_for_sealing_is_pending() {
    let (mut wire, mut server) = open_tls_wire(false);
    assert_eq!(wire.pending_len(), 0);
    wire.send_text("hi").unwrap();
    // Staged, not sealed yet: a 2-byte header, a 4-byte mask and "hi".
    assert_eq!(wire.pending_len(), 8);
    server.take_from(&mut wire);
    assert_eq!(wire.pending_len(), 0);
    assert_eq!(server.plaintext.len(), 8);
}

#[test]
fn staged_plaintext_counts_in_the_buffers_held() {
    let (mut wire, _server) = open_tls_wire(false);
    let before = wire.buffered_bytes();
    wire.send_binary(&noise(MIB)).unwrap();
    // The MiB staged (its capacity, more or less what the queue gave up).
    let held = wire.buffered_bytes();
    assert!(held >= MIB, "{before} then {held}");
    assert!(held <= before + 4 * MIB, "{before} then {held}");
}

#[test]
fn a_fragmented_message_counts_in_the_buffers_held() {
    let (mut wire, mut server) = open_tls_wire(false);
    // A first binary fragment of 1,000 bytes (FIN clear), then one of a
    // MiB (FIN clear, continuation, 64-bit length; RFC 6455 §5.2, §5.4):
    // the decoder holds both until the message ends.
    let mut frames = vec![0x02, 0x7e, 0x03, 0xe8];
    frames.extend_from_slice(&[1; 1_000]);
    server.tls.writer().write_all(&frames).unwrap();
    server.give_to(&mut wire);
    assert!(matches!(wire.poll_event(), Ok(None)));
    let before = wire.buffered_bytes();
    let mut frame = vec![0x00, 127];
    frame.extend_from_slice(&(MIB as u64).to_be_bytes());
    frame.extend_from_slice(&noise(MIB));
    server.tls.writer().write_all(&frame).unwrap();
    server.give_to(&mut wire);
    assert!(matches!(wire.poll_event(), Ok(None)));
    let held = wire.buffered_bytes();
    assert!(held >= before + MIB, "{before} then {held}");
}

#[test]
fn the_deflaters_scratch_buffer_counts_in_the_buffers_held() {
    let (mut wire, mut server) = open_tls_wire(true);
    let before = wire.buffered_bytes();
    wire.send_binary(&noise(MIB)).unwrap();
    // Sealed and taken: what stays is the deflater's scratch buffer (at
    // least the MiB that did not compress) and the queue's capacity.
    server.take_from(&mut wire);
    let held = wire.buffered_bytes();
    assert!(held >= before + 2 * MIB, "{before} then {held}");
    wire.shrink_buffers();
    assert!(wire.buffered_bytes() < MIB, "{}", wire.buffered_bytes());
}
