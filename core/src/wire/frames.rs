//! Inbound frames: validation (RFC 6455 §5), reassembly of fragments, UTF-8 checks.

use std::io::Cursor;

use bytes::{Buf, BytesMut};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};

use super::message::{CloseFrame, Message, is_valid_wire_close_code};
use super::{CloseCode, Text};
use super::{Limits, WireError};

/// A decoded unit the connection acts on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    Message(Message),
    Ping(bytes::Bytes),
    Pong(bytes::Bytes),
    /// A close frame; `None` when it carried no status code.
    Close(Option<CloseFrame>),
}

/// Turns the inbound byte buffer into frames, one at a time.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    partial: Option<Partial>,
    /// Payload bytes of the incomplete frame at the front already known to
    /// be valid UTF-8 (text only): each arriving chunk is checked once.
    checked: usize,
}

/// A fragmented message being reassembled.
#[derive(Debug)]
struct Partial {
    text: bool,
    data: BytesMut,
    /// Bytes of `data` known to be valid UTF-8 (text only).
    valid_up_to: usize,
}

impl Decoder {
    /// Decodes the next complete frame or message from the front of `inbound`.
    ///
    /// Returns `Ok(None)` when more bytes are needed; consumes nothing then.
    /// Checks that can be made on the header alone fail before the payload arrives.
    pub(crate) fn decode(
        &mut self,
        inbound: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Frame>, WireError> {
        loop {
            let mut cursor = Cursor::new(&inbound[..]);
            let Some((header, len)) = FrameHeader::parse(&mut cursor).map_err(header_error)? else {
                return Ok(None);
            };
            let head_len = cursor.position() as usize;
            self.check_header(&header, len, limits)?;
            let len = len as usize; // bounded by max_frame_size above
            let Some(frame_len) = head_len.checked_add(len).filter(|&n| n <= inbound.len()) else {
                self.check_arriving_utf8(&header, &inbound[head_len..])?;
                inbound.reserve(head_len + len - inbound.len());
                return Ok(None);
            };
            self.checked = 0;
            debug_assert!(frame_len <= inbound.len());
            inbound.advance(head_len);
            let payload = inbound.split_to(len);
            if let Some(frame) = self.accept(header.opcode, header.is_final, payload)? {
                return Ok(Some(frame));
            }
        }
    }

    /// The rules that need only the header (RFC 6455 §5.1, §5.2, §5.4, §5.5).
    fn check_header(
        &self,
        header: &FrameHeader,
        len: u64,
        limits: &Limits,
    ) -> Result<(), WireError> {
        if header.rsv1 || header.rsv2 || header.rsv3 {
            // §5.2: no extension was negotiated, so reserved bits must be 0.
            return Err(WireError::Protocol(
                "reserved bits set without a negotiated extension",
            ));
        }
        if header.mask.is_some() {
            // §5.1: a client closes the connection on a masked frame from the server.
            return Err(WireError::Protocol("the server sent a masked frame"));
        }
        match header.opcode {
            OpCode::Control(_) if !header.is_final => {
                return Err(WireError::Protocol("fragmented control frame"));
            }
            OpCode::Control(_) if len > 125 => {
                return Err(WireError::Protocol("control frame payload over 125 bytes"));
            }
            OpCode::Data(Data::Continue) if self.partial.is_none() => {
                return Err(WireError::Protocol(
                    "continuation frame without a message to continue",
                ));
            }
            OpCode::Data(Data::Text | Data::Binary) if self.partial.is_some() => {
                return Err(WireError::Protocol(
                    "new data frame before the fragmented message ended",
                ));
            }
            _ => {}
        }
        if len >> 63 != 0 {
            // §5.2: in a 64-bit length "the most significant bit MUST be 0".
            return Err(WireError::Protocol(
                "64-bit payload length with the top bit set",
            ));
        }
        if len > limits.max_frame_size as u64 {
            return Err(WireError::FrameTooLarge {
                size: len,
                limit: limits.max_frame_size,
            });
        }
        if let OpCode::Data(_) = header.opcode {
            let so_far = self.partial.as_ref().map_or(0, |p| p.data.len()) as u64;
            if so_far + len > limits.max_message_size as u64 {
                return Err(WireError::MessageTooLarge {
                    size: so_far + len,
                    limit: limits.max_message_size,
                });
            }
        }
        Ok(())
    }

    /// RFC 6455 §8.1 allows failing as soon as text is known to be invalid:
    /// the part of a text frame that has arrived is checked before the rest
    /// comes (Autobahn 6.4.3/6.4.4), continuing a sequence the previous
    /// fragment left open. Compressed payloads are checked once inflated.
    fn check_arriving_utf8(
        &mut self,
        header: &FrameHeader,
        arrived: &[u8],
    ) -> Result<(), WireError> {
        let carry = match (header.opcode, &self.partial) {
            _ if header.rsv1 => return Ok(()),
            (OpCode::Data(Data::Text), _) => &[][..],
            (OpCode::Data(Data::Continue), Some(p)) if p.text => &p.data[p.valid_up_to..],
            _ => return Ok(()),
        };
        if self.checked == 0 && !carry.is_empty() {
            // Finish the sequence the last fragment left open (at most 3 bytes).
            let mut joint = [0u8; 8];
            let take = arrived.len().min(joint.len() - carry.len());
            joint[..carry.len()].copy_from_slice(carry);
            joint[carry.len()..carry.len() + take].copy_from_slice(&arrived[..take]);
            // The first character is the open one: it is bad, still open, or done.
            match std::str::from_utf8(&joint[..carry.len() + take]) {
                Err(e) if e.valid_up_to() == 0 && e.error_len().is_some() => {
                    return Err(WireError::InvalidUtf8);
                }
                Err(e) if e.valid_up_to() == 0 => return Ok(()),
                _ => self.checked = utf8_len(carry[0]) - carry.len(),
            }
        }
        let Some(rest) = arrived.get(self.checked..) else {
            return Ok(());
        };
        match std::str::from_utf8(rest) {
            Ok(_) => self.checked = arrived.len(),
            Err(e) if e.error_len().is_some() => return Err(WireError::InvalidUtf8),
            Err(e) => self.checked += e.valid_up_to(),
        }
        Ok(())
    }

    /// Acts on one whole frame; `None` when it only extended a fragmented message.
    fn accept(
        &mut self,
        opcode: OpCode,
        is_final: bool,
        payload: BytesMut,
    ) -> Result<Option<Frame>, WireError> {
        match opcode {
            OpCode::Control(Control::Ping) => Ok(Some(Frame::Ping(payload.freeze()))),
            OpCode::Control(Control::Pong) => Ok(Some(Frame::Pong(payload.freeze()))),
            OpCode::Control(Control::Close) => parse_close(&payload).map(|c| Some(Frame::Close(c))),
            OpCode::Data(Data::Text) if is_final => {
                let text = Text::try_from(payload.freeze()).map_err(|_| WireError::InvalidUtf8)?;
                Ok(Some(Frame::Message(Message::Text(text))))
            }
            OpCode::Data(Data::Binary) if is_final => {
                Ok(Some(Frame::Message(Message::Binary(payload.freeze()))))
            }
            OpCode::Data(Data::Text | Data::Binary) => {
                let mut partial = Partial {
                    text: opcode == OpCode::Data(Data::Text),
                    data: payload,
                    valid_up_to: 0,
                };
                partial.check_utf8()?;
                self.partial = Some(partial);
                Ok(None)
            }
            OpCode::Data(Data::Continue) => {
                let partial = self.partial.as_mut().expect("checked in check_header");
                partial.data.extend_from_slice(&payload);
                partial.check_utf8()?;
                if !is_final {
                    return Ok(None);
                }
                let partial = self.partial.take().expect("present");
                partial.finish().map(|m| Some(Frame::Message(m)))
            }
            // Reserved opcodes are refused by FrameHeader::parse.
            OpCode::Control(Control::Reserved(_)) | OpCode::Data(Data::Reserved(_)) => {
                Err(WireError::Protocol("reserved opcode"))
            }
        }
    }

    /// Bytes held for a fragmented message (for memory accounting).
    pub(crate) fn buffered(&self) -> usize {
        self.partial.as_ref().map_or(0, |p| p.data.capacity())
    }
}

impl Partial {
    /// Validates the newly appended bytes, failing as soon as a sequence is
    /// invalid; an incomplete sequence at the end may still be completed by the
    /// next fragment (RFC 6455 §8.1 allows failing fast).
    fn check_utf8(&mut self) -> Result<(), WireError> {
        if !self.text {
            return Ok(());
        }
        match std::str::from_utf8(&self.data[self.valid_up_to..]) {
            Ok(_) => self.valid_up_to = self.data.len(),
            Err(e) if e.error_len().is_some() => return Err(WireError::InvalidUtf8),
            Err(e) => self.valid_up_to += e.valid_up_to(),
        }
        Ok(())
    }

    fn finish(self) -> Result<Message, WireError> {
        let data = self.data.freeze();
        if !self.text {
            return Ok(Message::Binary(data));
        }
        if self.valid_up_to != data.len() {
            return Err(WireError::InvalidUtf8); // ends inside a sequence
        }
        Text::try_from(data)
            .map(Message::Text)
            .map_err(|_| WireError::InvalidUtf8)
    }
}

/// The length of the UTF-8 sequence a leading byte starts.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

/// RFC 6455 §5.5.1: an optional 2-byte code, then an optional UTF-8 reason.
fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, WireError> {
    match payload {
        [] => Ok(None),
        [_] => Err(WireError::Protocol("close frame with a 1-byte payload")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_wire_close_code(code) {
                return Err(WireError::PeerCloseCode(code));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| WireError::InvalidUtf8)?;
            Ok(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            }))
        }
    }
}

fn header_error(err: tungstenite::Error) -> WireError {
    match err {
        tungstenite::Error::Protocol(_) => WireError::Protocol("reserved opcode"),
        _ => WireError::Protocol("unreadable frame header"),
    }
}

#[cfg(test)]
mod tests {
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
        let cases: [(&str, Vec<u8>); 7] = [
            ("reserved bits", server_frame(0xC1, b"x")),
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
}
