//! Inbound frames: validation (RFC 6455 §5), reassembly of fragments, UTF-8 checks.

use std::io::Cursor;

use bytes::{Buf, BytesMut};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};

use super::inflate::Inflater;
use super::message::{CloseFrame, Message, is_valid_wire_close_code};
use super::{CloseCode, Text};
use super::{Limits, WireError};

/// Spare room kept after an incomplete frame, for the reads that follow.
const READ_AHEAD: usize = 64 * 1024;

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
    /// Set when the upgrade negotiated permessage-deflate (RFC 7692).
    inflater: Option<Inflater>,
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
    /// RSV1 was set on the first frame: `data` holds the inflated bytes.
    compressed: bool,
}

impl Decoder {
    /// Accepts compressed messages from now on (RFC 7692 §6).
    pub(crate) fn enable_inflate(&mut self, inflater: Inflater) {
        self.inflater = Some(inflater);
    }

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
            let (header, len, head_len) = match parse_common_header(inbound) {
                Some(parsed) => parsed,
                // Every header is at least two bytes (RFC 6455 §5.2): the
                // usual end of the input, decided without the general parser.
                None if inbound.len() < 2 => return Ok(None),
                None => {
                    let mut cursor = Cursor::new(&inbound[..]);
                    let Some((header, len)) =
                        FrameHeader::parse(&mut cursor).map_err(header_error)?
                    else {
                        return Ok(None);
                    };
                    (header, len, cursor.position() as usize)
                }
            };
            self.check_header(&header, len, limits)?;
            let len = len as usize; // bounded by max_frame_size above
            let Some(frame_len) = head_len.checked_add(len).filter(|&n| n <= inbound.len()) else {
                self.check_arriving_utf8(&header, &inbound[head_len..])?;
                // Room for the rest of the frame and the next read too: a
                // frame cut by a read boundary is moved (copied) once, not
                // once here and again when the next read overflows.
                inbound.reserve(head_len + len - inbound.len() + READ_AHEAD);
                return Ok(None);
            };
            self.checked = 0;
            debug_assert!(frame_len <= inbound.len());
            inbound.advance(head_len);
            let payload = inbound.split_to(len);
            let fin = header.is_final;
            if let Some(frame) = self.accept(header.opcode, fin, header.rsv1, payload, limits)? {
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
        if header.rsv2 || header.rsv3 || (header.rsv1 && self.inflater.is_none()) {
            // §5.2: no extension was negotiated for them, so reserved bits must be 0.
            return Err(WireError::Protocol(
                "reserved bits set without a negotiated extension",
            ));
        }
        if header.rsv1 && !matches!(header.opcode, OpCode::Data(Data::Text | Data::Binary)) {
            // RFC 7692 §6: RSV1 marks the first frame of a compressed message
            // only; control frames are never compressed (§6.1).
            return Err(WireError::Protocol(
                "RSV1 set on a control or continuation frame",
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
        // A compressed message is measured as it inflates (RFC 7692 §6.2).
        let compressed = header.rsv1 || self.partial.as_ref().is_some_and(|p| p.compressed);
        if let (OpCode::Data(_), false) = (header.opcode, compressed) {
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
            (OpCode::Data(Data::Continue), Some(p)) if p.text && !p.compressed => {
                &p.data[p.valid_up_to..]
            }
            _ => return Ok(()),
        };
        if self.checked == 0 && !carry.is_empty() {
            // Finish the sequence the last fragment left open (at most 3 bytes).
            let mut joint = [0u8; 8];
            let take = arrived.len().min(joint.len() - carry.len());
            joint[..carry.len()].copy_from_slice(carry);
            joint[carry.len()..carry.len() + take].copy_from_slice(&arrived[..take]);
            // The first character is the open one: it is bad, still open, or done.
            match simdutf8::compat::from_utf8(&joint[..carry.len() + take]) {
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
        match simdutf8::compat::from_utf8(rest) {
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
        rsv1: bool,
        payload: BytesMut,
        limits: &Limits,
    ) -> Result<Option<Frame>, WireError> {
        match opcode {
            OpCode::Control(Control::Ping) => Ok(Some(Frame::Ping(payload.freeze()))),
            OpCode::Control(Control::Pong) => Ok(Some(Frame::Pong(payload.freeze()))),
            OpCode::Control(Control::Close) => parse_close(&payload).map(|c| Some(Frame::Close(c))),
            OpCode::Data(Data::Text) if is_final && !rsv1 => {
                let text = Text::try_from(payload.freeze()).map_err(|_| WireError::InvalidUtf8)?;
                Ok(Some(Frame::Message(Message::Text(text))))
            }
            OpCode::Data(Data::Binary) if is_final && !rsv1 => {
                Ok(Some(Frame::Message(Message::Binary(payload.freeze()))))
            }
            OpCode::Data(Data::Text | Data::Binary) => {
                let text = opcode == OpCode::Data(Data::Text);
                let partial = match self.inflater.as_mut().filter(|_| rsv1) {
                    Some(inflater) => Partial {
                        text,
                        data: inflater.take_buffer(),
                        valid_up_to: 0,
                        compressed: true,
                    },
                    None => Partial {
                        text,
                        data: BytesMut::new(),
                        valid_up_to: 0,
                        compressed: false,
                    },
                };
                self.partial = Some(partial);
                self.extend(payload, is_final, limits)
            }
            OpCode::Data(Data::Continue) => self.extend(payload, is_final, limits),
            // Reserved opcodes are refused by FrameHeader::parse.
            OpCode::Control(Control::Reserved(_)) | OpCode::Data(Data::Reserved(_)) => {
                Err(WireError::Protocol("reserved opcode"))
            }
        }
    }

    /// Adds a frame's payload to the message under way (inflating it when
    /// compressed, RFC 7692 §7.2.2) and delivers the message on its last frame.
    fn extend(
        &mut self,
        payload: BytesMut,
        is_final: bool,
        limits: &Limits,
    ) -> Result<Option<Frame>, WireError> {
        let partial = self.partial.as_mut().expect("checked in check_header");
        if partial.compressed {
            let inflater = self
                .inflater
                .as_mut()
                .expect("compressed only when negotiated");
            let limit = limits.max_message_size;
            inflater.inflate(&payload, &mut partial.data, limit)?;
            if is_final {
                inflater.end_message(&mut partial.data, limit)?;
            }
        } else if partial.data.is_empty() {
            partial.data = payload; // the first fragment: no copy
        } else {
            partial.data.extend_from_slice(&payload);
        }
        partial.check_utf8()?;
        if !is_final {
            return Ok(None);
        }
        let partial = self.partial.take().expect("present");
        let compressed = partial.compressed;
        let (message, rest) = partial.finish()?;
        if let (true, Some(inflater)) = (compressed, self.inflater.as_mut()) {
            inflater.give_back(rest);
        }
        Ok(Some(Frame::Message(message)))
    }

    /// Bytes held for a fragmented message and the inflater's buffer (for
    /// memory accounting).
    pub(crate) fn buffered(&self) -> usize {
        self.partial.as_ref().map_or(0, |p| p.data.capacity())
            + self.inflater.as_ref().map_or(0, Inflater::buffered)
    }

    /// Frees the inflater's reused buffer.
    pub(crate) fn shrink(&mut self) {
        if let Some(inflater) = self.inflater.as_mut() {
            inflater.shrink();
        }
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
        match simdutf8::compat::from_utf8(&self.data[self.valid_up_to..]) {
            Ok(_) => self.valid_up_to = self.data.len(),
            Err(e) if e.error_len().is_some() => return Err(WireError::InvalidUtf8),
            Err(e) => self.valid_up_to += e.valid_up_to(),
        }
        Ok(())
    }

    /// The message, and what is left of the buffer (its spare capacity).
    fn finish(mut self) -> Result<(Message, BytesMut), WireError> {
        let data = self.data.split().freeze();
        if !self.text {
            return Ok((Message::Binary(data), self.data));
        }
        if self.valid_up_to != data.len() {
            return Err(WireError::InvalidUtf8); // ends inside a sequence
        }
        let text = Text::try_from(data).map_err(|_| WireError::InvalidUtf8)?;
        Ok((Message::Text(text), self.data))
    }
}

/// The header of an unmasked frame with a 7- or 16-bit length and a
/// defined opcode (RFC 6455 §5.2), read straight from the first bytes: what
/// a server sends nearly always. `None` for anything else, or too few
/// bytes; the general parser then decides.
fn parse_common_header(bytes: &[u8]) -> Option<(FrameHeader, u64, usize)> {
    let (&[first, second], rest) = bytes.split_first_chunk::<2>()?;
    let opcode = match first & 0x0F {
        code @ (0..=2 | 8..=10) => OpCode::from(code),
        _ => return None, // reserved: the general parser refuses it
    };
    let (len, head_len) = match second {
        0..=125 => (u64::from(second), 2),
        126 => {
            let &[hi, lo] = rest.first_chunk::<2>()?;
            (u64::from(u16::from_be_bytes([hi, lo])), 4)
        }
        _ => return None, // masked, or a 64-bit length
    };
    let header = FrameHeader {
        is_final: first & 0x80 != 0,
        rsv1: first & 0x40 != 0,
        rsv2: first & 0x20 != 0,
        rsv3: first & 0x10 != 0,
        opcode,
        mask: None,
    };
    Some((header, len, head_len))
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
            let reason = simdutf8::compat::from_utf8(reason).map_err(|_| WireError::InvalidUtf8)?;
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
mod tests;
