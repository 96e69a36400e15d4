//! Reading straight into the wire's buffer (`receive.rs`): when a buffer is
//! offered, how much room, and how the next offer follows the last read.

use rand::SeedableRng;
use tungstenite::handshake::derive_accept_key;

use super::super::*;

fn new_wire(url: &str) -> Wire {
    let config = Arc::new(WireConfig::new(url).unwrap());
    Wire::new(config, &mut StdRng::seed_from_u64(1)).unwrap()
}

/// A plaintext wire after its upgrade.
fn open_wire() -> Wire {
    let mut wire = new_wire("ws://localhost/");
    let request = String::from_utf8(wire.pending_transmit().to_vec()).unwrap();
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    wire.handle_bytes(response.as_bytes());
    assert!(matches!(
        wire.poll_event(),
        Ok(Some(WireEvent::Open { .. }))
    ));
    wire
}

/// An unmasked text frame of exactly `len` bytes, header included.
fn text_frame_of(len: usize) -> Vec<u8> {
    let payload = len - 4;
    let mut frame = vec![0x81, 126];
    frame.extend_from_slice(&u16::try_from(payload).unwrap().to_be_bytes());
    frame.resize(len, b'a');
    frame
}

#[test]
fn a_read_that_fills_the_room_offered_doubles_the_next_offer() {
    let mut wire = open_wire();
    // Two bytes of a frame's header wait in the buffer; the read brings the rest.
    wire.handle_bytes(&[0x81, 126]);
    let buf = wire.read_buffer().expect("plaintext and open");
    assert_eq!(buf.len(), 2);
    let room = buf.capacity() - buf.len();
    assert!(room >= 4096, "room {room}");
    let frame = text_frame_of(room + 2);
    buf.extend_from_slice(&frame[2..]);
    wire.bytes_read(room);
    assert_eq!(wire.read_size.next(), 8192);
    let Ok(Some(WireEvent::Message(message))) = wire.poll_event() else {
        panic!("the frame read is decoded");
    };
    assert_eq!(message.len(), room - 2);
    // A small read next: the offer stays, nothing was lost.
    let buf = wire.read_buffer().expect("still open");
    assert!(buf.capacity() - buf.len() >= 8192);
    buf.extend_from_slice(&text_frame_of(3000));
    wire.bytes_read(3000);
    assert_eq!(wire.read_size.next(), 8192);
}

#[test]
fn room_is_added_only_when_less_than_one_smallest_read_is_left() {
    let mut wire = open_wire();
    wire.read_size.adapt(4096, 4096); // the next offer would be 8 KiB
    wire.inbound = BytesMut::with_capacity(4096);
    let room = |wire: &mut Wire| {
        let buf = wire.read_buffer().expect("open");
        buf.capacity() - buf.len()
    };
    assert_eq!(room(&mut wire), 4096, "4 KiB left is room enough");
    wire.inbound.extend_from_slice(&[0x81]); // half a frame's header
    assert!(
        room(&mut wire) >= 8192,
        "less than 4 KiB left: room for the next offer"
    );
}

#[test]
fn no_buffer_is_offered_over_tls_or_once_the_connection_is_over() {
    assert!(new_wire("ws://localhost/").read_buffer().is_some());
    assert!(
        new_wire("wss://localhost/").read_buffer().is_none(),
        "TLS bytes must be decrypted first"
    );
    // A server frame must not be masked (RFC 6455 §5.1): a violation,
    // deferred while the wire lingers; input is dropped meanwhile.
    let mut wire = open_wire();
    wire.set_linger(true);
    wire.handle_bytes(&[0x81, 0x81, 1, 2, 3, 4, b'x']);
    assert!(matches!(wire.poll_event(), Ok(None)));
    assert!(wire.read_buffer().is_none(), "a violation is pending");
    // Closed by the server's close frame and our reply.
    let mut wire = open_wire();
    wire.handle_bytes(&[0x88, 0x02, 0x03, 0xe8]);
    while let Ok(Some(_)) = wire.poll_event() {}
    assert!(wire.read_buffer().is_none(), "closed");
}
