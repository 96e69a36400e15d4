//! The byte path of one WebSocket connection, without I/O: the proxy tunnel
//! (HTTP CONNECT or SOCKS5, see [`Proxy`]), TLS, the upgrade handshake,
//! RFC 6455 framing and permessage-deflate (RFC 7692).
//!
//! A [`Wire`] takes the bytes a socket produced ([`Wire::handle_bytes`]) and
//! yields [`WireEvent`]s ([`Wire::poll_event`]); messages to send are framed
//! into one outgoing buffer that the driver writes with partial-write support
//! ([`Wire::pending_transmit`] + [`Wire::advance_transmit`]). It knows nothing
//! of sessions, time or sockets.
//!
//! ```
//! use std::sync::Arc;
//! use rand::SeedableRng;
//! use wsnova_core::wire::{Wire, WireConfig, WireEvent};
//!
//! let config = Arc::new(WireConfig::new("ws://127.0.0.1:9001/")?);
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let mut wire = Wire::new(config, &mut rng)?;
//! // The upgrade request waits to be written to the socket.
//! assert!(wire.pending_transmit().starts_with(b"GET / HTTP/1.1\r\n"));
//! let n = wire.pending_transmit().len();
//! wire.advance_transmit(n);
//! // ... then the driver feeds what the socket reads:
//! wire.handle_bytes(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno");
//! let err = wire.poll_event().unwrap_err();
//! assert!(err.to_string().contains("403"));
//! # Ok::<(), wsnova_core::wire::WireError>(())
//! ```

mod close_code;
mod compress;
mod config;
mod control;
mod deflate;
mod encode;
mod endpoint;
mod error;
mod event;
mod extensions;
mod frames;
mod handshake;
mod inflate;
mod message;
mod outbuf;
mod proxy;
mod read_size;
mod receive;
mod retry_after;
mod stages;
mod text;
mod tls;

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};

pub use close_code::CloseCode;
pub use config::{Limits, WireConfig};
pub use deflate::{DeflateConfig, PerMessageDeflate};
pub use endpoint::Endpoint;
pub use error::{ErrorKind, WireError};
pub use event::{WireEvent, WireState};
pub use message::{CloseFrame, Message};
pub use proxy::{Proxy, ProxyError, ProxyKind, SocksReply, no_proxy_matches, proxy_for};
pub use read_size::ReadSize;
pub use retry_after::RetryAfter;
/// rustls' root store, for [`WireConfig::root_certificates`].
pub use rustls::RootCertStore;
pub use text::{NotUtf8, Text};

use compress::Deflater;
use frames::Decoder;
use handshake::{Handshake, Progress};
pub(crate) use message::check_close;
use outbuf::OutBuf;
use proxy::Tunnel;
use tls::TlsLayer;

/// Pongs framed and not yet taken by the socket, at most: a peer that
/// pings and reads normally gets every pong; one that does not read gets
/// these and then only the latest ping's (RFC 6455 §5.5.3).
pub const MAX_UNSENT_PONGS: usize = 16;

#[derive(Debug)]
enum State {
    /// Opening the tunnel through the proxy; TLS and the upgrade follow.
    Proxying(Box<Tunnel>),
    Handshaking(Handshake),
    Open,
    Closing,
    Closed,
    Failed,
}

/// One WebSocket connection's byte path. See the [module docs](self).
///
/// Methods come in four groups: getters ([`state`](Self::state),
/// [`buffered_bytes`](Self::buffered_bytes)); input
/// ([`handle_bytes`](Self::handle_bytes), [`handle_eof`](Self::handle_eof));
/// commands ([`send_text`](Self::send_text), [`send_binary`](Self::send_binary),
/// [`ping`](Self::ping), [`close`](Self::close)); and output
/// ([`poll_event`](Self::poll_event), [`pending_transmit`](Self::pending_transmit)).
/// After any input or command, drain `poll_event` until it returns `Ok(None)`
/// and write `pending_transmit`.
#[derive(Debug)]
pub struct Wire {
    config: Arc<WireConfig>,
    state: State,
    tls: Option<TlsLayer>,
    /// Plaintext received and not yet decoded.
    inbound: BytesMut,
    /// How much room the next read into `inbound` is offered.
    read_size: ReadSize,
    /// The room the last [`read_buffer`](Self::read_buffer) offered.
    read_offered: u32,
    decoder: Decoder,
    out: OutBuf,
    /// Source of frame masks, seeded from the caller's RNG.
    rng: StdRng,
    eof: bool,
    /// An error found while taking input, reported by the next `poll_event`.
    input_error: Option<WireError>,
    /// The subprotocol the server selected in its `101`, once upgraded.
    subprotocol: Option<String>,
    /// permessage-deflate as agreed in the `101`, once upgraded.
    compression: Option<PerMessageDeflate>,
    /// Compresses outgoing messages when permessage-deflate was agreed.
    deflater: Option<Deflater>,
    /// The latest ping's payload, waiting for the pongs before it to leave.
    pong: Option<Bytes>,
    /// [`OutBuf::queued_total`] just after each pong framed and not yet
    /// sent: a pong is unsent until the socket has taken that many bytes.
    pong_ends: VecDeque<u64>,
    /// Defer failing on a peer violation ([`set_linger`](Self::set_linger)).
    linger: bool,
    /// A violation found while lingering, reported by [`fail_deferred`](Self::fail_deferred).
    violation: Option<WireError>,
}

impl Wire {
    /// Starts a connection: queues the TLS client hello (for `wss://`) and the
    /// upgrade request. The `Sec-WebSocket-Key` and all frame masks come from
    /// `rng`, so the same seed gives the same bytes.
    ///
    /// With a [proxy](WireConfig::proxy), the proxy's handshake is queued
    /// instead; TLS and the upgrade start once the tunnel is open.
    pub fn new(config: Arc<WireConfig>, rng: &mut impl Rng) -> Result<Self, WireError> {
        if let Some(proxy) = &config.proxy {
            let mut out = OutBuf::default();
            let endpoint = &config.endpoint;
            let tunnel = Tunnel::start(proxy, endpoint.host(), endpoint.port(), out.vec());
            return Ok(Wire {
                state: State::Proxying(Box::new(tunnel)),
                tls: None,
                inbound: BytesMut::new(),
                read_size: Default::default(),
                read_offered: 0,
                decoder: Decoder::default(),
                out,
                rng: StdRng::from_rng(rng),
                eof: false,
                input_error: None,
                subprotocol: None,
                compression: None,
                deflater: None,
                pong: None,
                pong_ends: VecDeque::new(),
                linger: false,
                violation: None,
                config,
            });
        }
        let mut tls = match &config.tls {
            Some(tls_config) => Some(TlsLayer::new(tls_config.clone(), config.endpoint.host())?),
            None => None,
        };
        let mut out = OutBuf::default();
        let sink = match tls.as_mut() {
            Some(tls) => tls.staged(),
            None => out.vec(),
        };
        let handshake = Handshake::start(&config, rng, sink);
        Ok(Wire {
            state: State::Handshaking(handshake),
            tls,
            inbound: BytesMut::new(),
            read_size: Default::default(),
            read_offered: 0,
            decoder: Decoder::default(),
            out,
            rng: StdRng::from_rng(rng),
            eof: false,
            input_error: None,
            subprotocol: None,
            compression: None,
            deflater: None,
            pong: None,
            pong_ends: VecDeque::new(),
            linger: false,
            violation: None,
            config,
        })
    }

    /// Where the connection is in its life.
    pub fn state(&self) -> WireState {
        match self.state {
            State::Proxying(_) | State::Handshaking(_) => WireState::Handshaking,
            State::Open => WireState::Open,
            State::Closing => WireState::Closing,
            State::Closed => WireState::Closed,
            State::Failed => WireState::Failed,
        }
    }

    /// The subprotocol the server selected (`Sec-WebSocket-Protocol`, one of
    /// those offered with [`WireConfig::subprotocol`]); `None` before the
    /// upgrade or when the server selected none.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// The permessage-deflate parameters the server accepted (RFC 7692);
    /// `None` before the upgrade or when messages travel uncompressed.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rand::SeedableRng;
    /// use wsnova_core::wire::{Wire, WireConfig};
    /// let config = Arc::new(WireConfig::new("ws://127.0.0.1:9001/")?);
    /// let wire = Wire::new(config, &mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// assert_eq!(wire.compression(), None); // not upgraded yet
    /// # Ok::<(), wsnova_core::wire::WireError>(())
    /// ```
    pub fn compression(&self) -> Option<&PerMessageDeflate> {
        self.compression.as_ref()
    }

    /// Capacity of the buffers this connection holds (rustls' internal buffers
    /// and zlib's state excluded; see [`DeflateConfig`] for its cost). A
    /// connection at rest after [`shrink_buffers`](Self::shrink_buffers) holds none.
    pub fn buffered_bytes(&self) -> usize {
        self.inbound.capacity()
            + self.out.capacity()
            + self.decoder.buffered()
            + self.deflater.as_ref().map_or(0, Deflater::buffered)
            + self.tls.as_ref().map_or(0, TlsLayer::buffered)
    }

    /// Bytes waiting for the socket (sealed or not), without sealing: what
    /// a driver compares with its high-water mark before reading more.
    pub fn pending_len(&self) -> usize {
        self.out.pending().len() + self.tls.as_ref().map_or(0, TlsLayer::staged_len)
    }

    /// Whether [`pending_transmit`](Self::pending_transmit) may have bytes:
    /// some are queued or staged, or a pong waits to be framed. Cheap
    /// (`&self`, nothing framed or sealed); `false` means it has none.
    pub fn may_transmit(&self) -> bool {
        self.pending_len() > 0 || self.pong.is_some()
    }

    /// Feeds bytes read from the socket. Errors surface from the next
    /// [`poll_event`](Self::poll_event). Bytes after a close or failure are dropped.
    pub fn handle_bytes(&mut self, data: &[u8]) {
        if self.is_finished() || self.input_error.is_some() || self.violation.is_some() {
            return;
        }
        if let State::Proxying(tunnel) = &mut self.state {
            match tunnel.receive(data, self.out.vec()) {
                Ok(None) => {}
                Ok(Some(rest)) => match self.open_tunnel() {
                    Ok(()) if rest.is_empty() => {}
                    Ok(()) => self.handle_bytes(&rest),
                    Err(err) => self.input_error = Some(err),
                },
                Err(err) => self.input_error = Some(WireError::Proxy(err)),
            }
            return;
        }
        let Some(tls) = self.tls.as_mut() else {
            self.inbound.extend_from_slice(data);
            return;
        };
        match tls.receive(data, &mut self.inbound, self.out.vec()) {
            Ok(closed) => self.eof |= closed,
            Err(err) => self.input_error = Some(err),
        }
    }

    /// Records that the socket reached end of file.
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), WireError> {
        self.send_data(OpCode::Data(Data::Text), text.as_bytes())
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WireError> {
        self.send_data(OpCode::Data(Data::Binary), data)
    }

    /// Sends a ping; its payload (≤ 125 bytes) comes back in [`WireEvent::Pong`].
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), WireError> {
        if payload.len() > 125 {
            return Err(WireError::ControlPayloadTooLong(payload.len()));
        }
        self.send_data(OpCode::Control(Control::Ping), payload)
    }

    /// Starts the close handshake (RFC 6455 §7.1.2). Code 1005 sends a close
    /// frame without a code; otherwise the code must be one an endpoint may
    /// send, and the reason at most 123 bytes.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WireError> {
        if !matches!(self.state, State::Open) {
            return Err(WireError::NotOpen(self.state_name()));
        }
        let code = u16::from(code);
        check_close(code, reason)?;
        self.queue_close(code, reason);
        self.state = State::Closing;
        Ok(())
    }

    /// The next event, `Ok(None)` when the input is used up. An `Err` ends the
    /// connection: for peer misbehaviour after the upgrade a close frame with
    /// [`WireError::close_code`] is already queued; write it, then close the socket.
    pub fn poll_event(&mut self) -> Result<Option<WireEvent>, WireError> {
        if let Some(err) = self.input_error.take() {
            return Err(self.fail(err));
        }
        let result = match &mut self.state {
            State::Failed | State::Closed => return Ok(None),
            State::Proxying(_) if self.eof => Err(WireError::Proxy(ProxyError::Closed)),
            State::Proxying(_) => return Ok(None),
            State::Handshaking(handshake) => {
                match handshake.parse(&self.config, &self.inbound, self.eof) {
                    Ok(Progress::Partial) => return Ok(None),
                    Ok(Progress::Upgraded {
                        head_len,
                        subprotocol,
                        deflate,
                    }) => {
                        // Frames that came in the same read as the 101 stay in `inbound`.
                        self.inbound.advance(head_len);
                        self.state = State::Open;
                        if let Some(agreed) = deflate {
                            self.enable_compression(agreed);
                        }
                        self.subprotocol.clone_from(&subprotocol);
                        return Ok(Some(WireEvent::Open { subprotocol }));
                    }
                    Err(err) => Err(err),
                }
            }
            State::Open | State::Closing if self.violation.is_some() => {
                // Lingering: no more input; the socket's end ends the wait.
                match self.eof {
                    true => Err(self.violation.take().expect("checked")),
                    false => return Ok(None),
                }
            }
            State::Open | State::Closing => {
                match self.decoder.decode(&mut self.inbound, &self.config.limits) {
                    Ok(Some(frame)) => return Ok(self.on_frame(frame)),
                    Ok(None) if self.eof => Err(WireError::AbnormalClosure),
                    Ok(None) => return Ok(None),
                    Err(err) if self.linger && err.close_code().is_some() => {
                        // What came before the violation is delivered; its
                        // replies may still go out before the close frame.
                        self.violation = Some(err);
                        self.inbound = BytesMut::new();
                        return Ok(None);
                    }
                    Err(err) => Err(err),
                }
            }
        };
        result.map_err(|err| self.fail(err))
    }

    /// Bytes to write to the socket (many frames, one write). Seals staged
    /// plaintext into TLS records first, hence `&mut`.
    pub fn pending_transmit(&mut self) -> &[u8] {
        self.flush_pong();
        if let Some(tls) = self.tls.as_mut() {
            tls.seal(self.out.vec());
        }
        self.out.pending()
    }

    /// Records that the socket accepted `n` bytes of [`pending_transmit`](Self::pending_transmit).
    pub fn advance_transmit(&mut self, n: usize) {
        self.out.advance(n);
    }

    /// Ends the transport's byte stream cleanly: over TLS, queues
    /// `close_notify` after what is pending (RFC 8446 §6.1), so closing TCP
    /// next is not a truncation. Call it once the close handshake is done,
    /// just before the socket closes; nothing may be sent after it.
    pub fn finish_transport(&mut self) {
        if let Some(tls) = self.tls.as_mut() {
            tls.close_notify(self.out.vec());
        }
    }

    /// Releases buffer capacity that is not in use (call when the connection is idle).
    pub fn shrink_buffers(&mut self) {
        if self.inbound.is_empty() {
            self.inbound = BytesMut::new();
        }
        self.out.shrink();
        self.decoder.shrink();
        if let Some(deflater) = self.deflater.as_mut() {
            deflater.shrink();
        }
        if let Some(tls) = self.tls.as_mut() {
            tls.shrink();
        }
    }

    fn send_data(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), WireError> {
        if !matches!(self.state, State::Open) {
            return Err(WireError::NotOpen(self.state_name()));
        }
        // RFC 7692 §6: data messages may be compressed (RSV1 on their one
        // frame); control frames never are (§6.1).
        if let (OpCode::Data(_), Some(deflater)) = (opcode, self.deflater.as_mut()) {
            if let Some(compressed) = deflater.compress(payload) {
                let mask = self.rng.next_u32().to_ne_bytes();
                let sink = match self.tls.as_mut() {
                    Some(tls) => tls.staged(),
                    None => self.out.vec(),
                };
                encode::encode_frame_rsv1(sink, opcode, compressed, mask, true);
                return Ok(());
            }
        }
        self.write_frame(opcode, payload);
        Ok(())
    }

    fn queue_close(&mut self, code: u16, reason: &str) {
        // The pong goes before the close if it may; none may follow it (§5.5.1).
        self.flush_pong();
        self.pong = None;
        let mut payload = [0u8; 125];
        let len = if code == 1005 {
            0
        } else {
            payload[..2].copy_from_slice(&code.to_be_bytes());
            payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
            2 + reason.len()
        };
        self.write_frame(OpCode::Control(Control::Close), &payload[..len]);
    }

    fn write_frame(&mut self, opcode: OpCode, payload: &[u8]) {
        let mask = self.rng.next_u32().to_ne_bytes();
        let sink = match self.tls.as_mut() {
            Some(tls) => tls.staged(),
            None => self.out.vec(),
        };
        encode::encode_frame(sink, opcode, payload, mask);
    }

    /// Fails the connection (RFC 6455 §7.1.7): sends the error's close code if
    /// the connection is open, then refuses all further input.
    fn fail(&mut self, err: WireError) -> WireError {
        if let (State::Open, Some(code)) = (&self.state, err.close_code()) {
            self.queue_close(code.into(), "");
        }
        self.state = State::Failed;
        self.inbound = BytesMut::new();
        err
    }

    fn is_finished(&self) -> bool {
        matches!(self.state, State::Closed | State::Failed)
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            State::Proxying(_) | State::Handshaking(_) => "still handshaking",
            State::Open => "open",
            State::Closing => "closing",
            State::Closed => "closed",
            State::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests;
