//! Unit tests of the frame decoder.
use super::*;

fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        n @ 0..=125 => out.push(n as u8),
        n @ 126..=65535 => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

fn decode_all(bytes: &[u8], limits: &Limits) -> Result<Vec<Frame>, WireError> {
    let mut decoder = Decoder::default();
    let mut inbound = BytesMut::from(bytes);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(&mut inbound, limits)? {
        frames.push(frame);
    }
    Ok(frames)
}

#[test]
fn reassembles_fragments_with_a_ping_between() {
    let mut bytes = server_frame(0x01, "héllo ".as_bytes());
    bytes.extend(server_frame(0x89, b"p"));
    bytes.extend(server_frame(0x80, b"world"));
    let frames = decode_all(&bytes, &Limits::default()).unwrap();
    assert_eq!(
        frames,
        [
            Frame::Ping("p".into()),
            Frame::Message(Message::text("héllo world"))
        ]
    );
}

#[test]
fn utf8_split_across_fragments_is_accepted_and_bad_utf8_fails_fast() {
    let euro = "€".as_bytes(); // three bytes
    let mut bytes = server_frame(0x01, &euro[..1]);
    bytes.extend(server_frame(0x80, &euro[1..]));
    let frames = decode_all(&bytes, &Limits::default()).unwrap();
    assert_eq!(frames, [Frame::Message(Message::text("€"))]);

    // The first fragment is already invalid: fail without waiting for the rest.
    let bad_start = server_frame(0x01, &[0xce, 0xba, 0xff]);
    assert!(matches!(
        decode_all(&bad_start, &Limits::default()),
        Err(WireError::InvalidUtf8)
    ));
    // A message that ends inside a sequence is invalid too.
    let mut truncated = server_frame(0x01, b"ok");
    truncated.extend(server_frame(0x80, &euro[..2]));
    assert!(matches!(
        decode_all(&truncated, &Limits::default()),
        Err(WireError::InvalidUtf8)
    ));
}

#[test]
fn invalid_utf8_fails_as_its_bytes_arrive_not_when_the_frame_ends() {
    let euro = "€".as_bytes();
    // A 1000-byte text frame whose first 20 bytes are here, bad at byte 10.
    let mut payload = vec![b'a'; 1000];
    payload[10] = 0xff;
    let frame = server_frame(0x81, &payload);
    let err = decode_all(&frame[..24], &Limits::default()).unwrap_err();
    assert!(matches!(err, WireError::InvalidUtf8));
    // Valid so far, chunk by chunk: no error, nothing consumed.
    let mut good = vec![b'a'; 998];
    good.splice(500..500, euro.iter().copied());
    let frame = server_frame(0x81, &good[..1000]);
    let mut decoder = Decoder::default();
    let mut inbound = BytesMut::new();
    for chunk in frame[..frame.len() - 1].chunks(7) {
        inbound.extend_from_slice(chunk);
        assert_eq!(
            decoder.decode(&mut inbound, &Limits::default()).unwrap(),
            None
        );
    }
    // A continuation finishing the first fragment's open sequence, then bad.
    let mut bytes = server_frame(0x01, &euro[..1]);
    let mut rest = euro[1..].to_vec();
    rest.extend_from_slice(&[b'b', 0xc0, b'c']);
    rest.resize(300, b'd');
    bytes.extend(&server_frame(0x80, &rest)[..10]);
    let err = decode_all(&bytes, &Limits::default()).unwrap_err();
    assert!(matches!(err, WireError::InvalidUtf8));
    // ... and one breaking it at once.
    let mut bytes = server_frame(0x01, &euro[..2]);
    bytes.extend(&server_frame(0x80, &[b'x'; 300])[..6]);
    assert!(matches!(
        decode_all(&bytes, &Limits::default()),
        Err(WireError::InvalidUtf8)
    ));
    // ... and one still leaving it open: wait.
    let mut bytes = server_frame(0x01, &euro[..1]);
    bytes.extend(&server_frame(0x80, &[0x82, 0xac, b'x'])[..2]);
    assert!(decode_all(&bytes, &Limits::default()).unwrap().is_empty());
}

#[test]
fn protocol_violations_map_to_1002() {
    let cases: [(&str, Vec<u8>); 10] = [
        ("reserved bits", server_frame(0xC1, b"x")),
        ("RSV2 alone", server_frame(0xA1, b"x")),
        ("RSV3 alone", server_frame(0x91, b"x")),
        ("new message before the fragmented one ended", {
            let mut bytes = server_frame(0x01, b"a");
            bytes.extend(server_frame(0x81, b"b"));
            bytes
        }),
        ("reserved opcode", server_frame(0x83, b"")),
        ("masked", vec![0x81, 0x81, 1, 2, 3, 4, 0]),
        ("fragmented ping", server_frame(0x09, b"")),
        ("long ping", server_frame(0x89, &[0; 126])),
        ("lone continuation", server_frame(0x80, b"x")),
        ("top-bit length", {
            let mut head = vec![0x82, 127];
            head.extend_from_slice(&(1u64 << 63 | 5).to_be_bytes());
            head
        }),
    ];
    for (what, bytes) in cases {
        let err = decode_all(&bytes, &Limits::default()).unwrap_err();
        assert_eq!(
            err.close_code(),
            Some(CloseCode::PROTOCOL_ERROR),
            "{what}: {err}"
        );
    }
    // The general parser's refusal keeps its reason.
    assert!(matches!(
        decode_all(&server_frame(0x83, b""), &Limits::default()),
        Err(WireError::Protocol("reserved opcode"))
    ));
}

#[test]
fn close_frames_are_validated() {
    let ok = server_frame(0x88, &[0x03, 0xe8, b'b', b'y', b'e']);
    let frames = decode_all(&ok, &Limits::default()).unwrap();
    assert_eq!(
        frames,
        [Frame::Close(Some(CloseFrame {
            code: CloseCode::NORMAL,
            reason: "bye".into()
        }))]
    );
    assert_eq!(
        decode_all(&server_frame(0x88, b""), &Limits::default()).unwrap(),
        [Frame::Close(None)]
    );
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        let bytes = server_frame(0x88, &code.to_be_bytes());
        let err = decode_all(&bytes, &Limits::default()).unwrap_err();
        assert!(
            matches!(err, WireError::PeerCloseCode(c) if c == code),
            "{code}"
        );
    }
    let bad_reason = server_frame(0x88, &[0x03, 0xe8, 0xff]);
    assert!(matches!(
        decode_all(&bad_reason, &Limits::default()),
        Err(WireError::InvalidUtf8)
    ));
    assert!(decode_all(&server_frame(0x88, &[0x03]), &Limits::default()).is_err());
}

#[test]
fn limits_fail_on_the_header_before_the_payload_arrives() {
    let limits = Limits {
        max_frame_size: 100,
        max_message_size: 150,
    };
    // Only the header of a 1 MiB frame: rejected at once, nothing buffered.
    let header = &server_frame(0x82, &vec![0; 1 << 20])[..10];
    let err = decode_all(header, &limits).unwrap_err();
    assert!(matches!(err, WireError::FrameTooLarge { size, .. } if size == 1 << 20));
    assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    // Two fragments within the frame limit but over the message limit.
    let mut bytes = server_frame(0x02, &[0; 100]);
    bytes.extend(server_frame(0x80, &[0; 100]));
    let err = decode_all(&bytes, &limits).unwrap_err();
    assert!(matches!(err, WireError::MessageTooLarge { size: 200, .. }));
    // Both limits are inclusive: a 100-byte frame in a 150-byte message.
    let mut bytes = server_frame(0x02, &[0; 100]);
    bytes.extend(server_frame(0x80, &[0; 50]));
    assert_eq!(
        decode_all(&bytes, &limits).unwrap(),
        [Frame::Message(Message::binary(vec![0; 150]))]
    );
    let mut bytes = server_frame(0x02, &[0; 100]);
    bytes.extend(server_frame(0x80, &[0; 51]));
    let err = decode_all(&bytes, &limits).unwrap_err();
    assert!(matches!(err, WireError::MessageTooLarge { size: 151, .. }));
}

#[test]
fn a_control_frame_may_carry_125_bytes() {
    // RFC 6455 §5.5: "All control frames MUST have a payload length of 125
    // bytes or less"; 126 is refused in `protocol_violations_map_to_1002`.
    let frames = decode_all(&server_frame(0x89, &[7; 125]), &Limits::default()).unwrap();
    assert_eq!(frames, [Frame::Ping(vec![7; 125].into())]);
}

/// `payload` compressed without compression (stored blocks, RFC 1951
/// §3.2.4), so the frame is larger than the message; the sync flush's
/// `00 00 ff ff` taken off (RFC 7692 §7.2.1).
fn stored_deflate(payload: &[u8]) -> Vec<u8> {
    let mut deflate = flate2::Compress::new(flate2::Compression::none(), false);
    let mut out = Vec::with_capacity(payload.len() + 64);
    deflate
        .compress_vec(payload, &mut out, flate2::FlushCompress::Sync)
        .unwrap();
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

#[test]
fn a_compressed_message_is_measured_as_it_inflates() {
    // RFC 7692 §6.2: the limit is on the message, not on its frames. A
    // 1,000-byte message sent in stored blocks takes more than 1,000 bytes
    // on the wire, in one frame or in two.
    let limits = Limits {
        max_frame_size: 2_000,
        max_message_size: 1_000,
    };
    let message = vec![b'x'; 1_000];
    let compressed = stored_deflate(&message);
    assert!(compressed.len() > 1_000);
    let (first, rest) = compressed.split_at(600);
    let one_frame = server_frame(0xC2, &compressed);
    let mut two_frames = server_frame(0x42, first);
    two_frames.extend(server_frame(0x80, rest));
    for bytes in [one_frame, two_frames] {
        let mut decoder = Decoder::default();
        decoder.enable_inflate(Inflater::new(15, false));
        let mut inbound = BytesMut::from(&bytes[..]);
        assert_eq!(
            decoder.decode(&mut inbound, &limits).unwrap(),
            Some(Frame::Message(Message::binary(message.clone())))
        );
    }
}

#[test]
fn incomplete_input_consumes_nothing() {
    let bytes = server_frame(0x82, &[7; 300]);
    for cut in 0..bytes.len() {
        let mut decoder = Decoder::default();
        let mut inbound = BytesMut::from(&bytes[..cut]);
        assert_eq!(
            decoder.decode(&mut inbound, &Limits::default()).unwrap(),
            None
        );
        assert_eq!(inbound.len(), cut);
    }
}

#[test]
fn a_frame_cut_by_a_read_is_moved_once_then_completed_in_place() {
    let first = server_frame(0x82, &[1; 16384]);
    let second = server_frame(0x82, &[2; 16384]);
    let mut stream = first.clone();
    stream.extend_from_slice(&second);
    let cut = first.len() + 5000; // the second frame is cut by the read
    let mut decoder = Decoder::default();
    let mut inbound = BytesMut::from(&stream[..cut]);
    let limits = Limits::default();
    let delivered = decoder.decode(&mut inbound, &limits).unwrap();
    assert!(matches!(delivered, Some(Frame::Message(Message::Binary(ref b))) if b.len() == 16384));
    // The first message still shares the buffer: the cut frame moves once,
    // into room for its rest and for the next read.
    assert_eq!(decoder.decode(&mut inbound, &limits).unwrap(), None);
    // Room for the rest of the frame and a 64 KiB read, and not much
    // more (the frame is not reserved twice).
    let room = inbound.capacity() - inbound.len();
    let rest = second.len() - inbound.len();
    assert!(room >= rest + 64 * 1024, "room {room}");
    assert!(room < rest + 64 * 1024 + 4096, "room {room}");
    let start = inbound.as_ptr();
    inbound.extend_from_slice(&stream[cut..]); // the next read
    assert_eq!(
        inbound.as_ptr(),
        start,
        "the next read was appended in place"
    );
    let Some(Frame::Message(Message::Binary(payload))) =
        decoder.decode(&mut inbound, &limits).unwrap()
    else {
        panic!("the second frame");
    };
    assert_eq!(payload[..], [2; 16384][..]);
    assert!(inbound.is_empty());
    drop(delivered);
}

#[test]
fn the_common_header_reads_as_the_general_parser_reads_it() {
    let payloads = [&[][..], &[7; 125], &[7; 126], &[7; 300], &[7; 65535]];
    for first in (0u8..=255).filter(|b| matches!(b & 0x0F, 0..=2 | 8..=10)) {
        for payload in payloads {
            let bytes = server_frame(first, payload);
            let fast = parse_common_header(&bytes).expect("a common header");
            let mut cursor = Cursor::new(&bytes[..]);
            let (header, len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
            assert_eq!(
                fast,
                (header, len, cursor.position() as usize),
                "{first:#x}"
            );
        }
    }
    // Left to the general parser: reserved opcodes, masks, 64-bit lengths, too few bytes.
    assert_eq!(parse_common_header(&[0x83, 0]), None);
    assert_eq!(parse_common_header(&[0x82, 0x80, 1, 2, 3, 4]), None);
    assert_eq!(parse_common_header(&server_frame(0x82, &[0; 65536])), None);
    assert_eq!(parse_common_header(&[0x82]), None);
    assert_eq!(parse_common_header(&[0x82, 126, 1]), None);
}

#[test]
fn a_compressed_text_frame_is_checked_once_inflated_not_as_it_arrives() {
    // Its deflate bytes are not UTF-8 (a stored block's length and its
    // complement, RFC 1951 §3.2.4); the text they inflate to is.
    let text = "x".repeat(1_000);
    let frame = server_frame(0xC1, &stored_deflate(text.as_bytes()));
    let mut decoder = Decoder::default();
    decoder.enable_inflate(Inflater::new(15, false));
    let limits = Limits::default();
    let mut inbound = BytesMut::from(&frame[..500]);
    assert_eq!(decoder.decode(&mut inbound, &limits).unwrap(), None);
    inbound.extend_from_slice(&frame[500..]);
    assert_eq!(
        decoder.decode(&mut inbound, &limits).unwrap(),
        Some(Frame::Message(Message::text(text)))
    );
}

#[test]
fn an_open_sequence_is_finished_from_however_much_of_the_next_fragment_arrived() {
    // A first fragment ends inside a character (1 to 3 of its 2 to 4
    // bytes); the continuation's first 12 bytes are here, good or bad after
    // the character, and the frame is longer: checked as far as it arrived.
    for character in ["é", "€", "😀"] {
        let bytes_of = character.as_bytes();
        let width = bytes_of.len();
        let mut good = bytes_of.to_vec();
        good.resize(300, b'a');
        for open in 1..width {
            let mut bytes = server_frame(0x01, &bytes_of[..open]);
            let continuation = server_frame(0x80, &good[open..]);
            bytes.extend(&continuation[..4 + 12]);
            assert!(
                decode_all(&bytes, &Limits::default()).unwrap().is_empty(),
                "{character} {open}"
            );
            // Bad right after the character, or three bytes after it.
            for after in [0, 3] {
                let mut bad = good[open..].to_vec();
                bad[width - open + after] = 0xff;
                let mut bytes = server_frame(0x01, &bytes_of[..open]);
                bytes.extend(&server_frame(0x80, &bad)[..4 + 12]);
                assert!(
                    matches!(
                        decode_all(&bytes, &Limits::default()),
                        Err(WireError::InvalidUtf8)
                    ),
                    "{character} {open} {after}"
                );
            }
        }
    }
}

#[test]
fn a_character_still_open_is_checked_again_when_more_arrives() {
    // "€" is E2 82 AC. The first fragment carries E2; one byte of the
    // continuation (82) leaves it open; then 82 FF breaks it: the error
    // comes with those bytes, not when the frame ends (RFC 6455 §8.1).
    let mut payload = vec![0x82, 0xff];
    payload.resize(300, b'a');
    let continuation = server_frame(0x80, &payload);
    let mut decoder = Decoder::default();
    let limits = Limits::default();
    let mut inbound = BytesMut::from(&server_frame(0x01, &[0xe2])[..]);
    inbound.extend_from_slice(&continuation[..4 + 1]);
    assert_eq!(decoder.decode(&mut inbound, &limits).unwrap(), None);
    inbound.extend_from_slice(&continuation[4 + 1..4 + 3]);
    assert!(matches!(
        decoder.decode(&mut inbound, &limits),
        Err(WireError::InvalidUtf8)
    ));
}

#[test]
fn each_read_is_checked_from_where_the_last_one_stopped() {
    // A 300-byte text frame arrives in three reads: "aaaaa"; "bbbbb" and
    // the first byte of "€" (E2 82 AC); then 82 FF, which breaks it.
    let mut payload = b"aaaaabbbbb".to_vec();
    payload.extend_from_slice(&[0xe2, 0x82, 0xff]);
    payload.resize(300, b'c');
    let frame = server_frame(0x81, &payload);
    let head = 4; // 126 and a 16-bit length
    let mut decoder = Decoder::default();
    let limits = Limits::default();
    let mut inbound = BytesMut::new();
    for read in [&frame[..head + 5], &frame[head + 5..head + 11]] {
        inbound.extend_from_slice(read);
        assert_eq!(decoder.decode(&mut inbound, &limits).unwrap(), None);
    }
    inbound.extend_from_slice(&frame[head + 11..head + 13]);
    assert!(matches!(
        decoder.decode(&mut inbound, &limits),
        Err(WireError::InvalidUtf8)
    ));
}

#[test]
fn each_fragment_is_checked_from_where_the_last_one_stopped() {
    // "aaaaa"; "bbbbbbb" and the first byte of "€" (E2 82 AC); then 82 FF,
    // which breaks it: the error comes with that fragment, before the
    // message ends (RFC 6455 §8.1).
    let mut bytes = server_frame(0x01, b"aaaaa");
    bytes.extend(server_frame(0x00, b"bbbbbbb\xe2"));
    bytes.extend(server_frame(0x00, b"\x82\xff"));
    assert!(matches!(
        decode_all(&bytes, &Limits::default()),
        Err(WireError::InvalidUtf8)
    ));
    // The same fragments with the character whole: one message.
    let mut bytes = server_frame(0x01, b"aaaaa");
    bytes.extend(server_frame(0x00, b"bbbbbbb\xe2"));
    bytes.extend(server_frame(0x80, b"\x82\xac"));
    assert_eq!(
        decode_all(&bytes, &Limits::default()).unwrap(),
        [Frame::Message(Message::text("aaaaabbbbbbb€"))]
    );
}

#[test]
fn the_inflaters_buffer_is_counted_between_messages_and_freed_by_shrink() {
    let mut decoder = Decoder::default();
    decoder.enable_inflate(Inflater::new(15, false));
    let limits = Limits::default();
    let message = vec![b'x'; 10_000];
    let mut inbound = BytesMut::from(&server_frame(0xC2, &stored_deflate(&message))[..]);
    assert_eq!(
        decoder.decode(&mut inbound, &limits).unwrap(),
        Some(Frame::Message(Message::binary(message)))
    );
    // The message's buffer went back to the inflater, for the next one.
    assert!(decoder.buffered() > 0);
    decoder.shrink();
    assert_eq!(decoder.buffered(), 0);
}
