//! The transport of the current connection: the dial's generation, the
//! socket the driver holds, and the [`Wire`] over it (proxy tunnel, TLS,
//! the upgrade of RFC 6455 §4, framing of §5), with the announcement of
//! pending bytes; and endpoint failover: an attempt that fails before the
//! upgrade moves the next dial to the next endpoint.

use std::sync::Arc;

use super::env::Env;
use super::event::{DisconnectReason, Initiator};
use super::io::Output;
use super::outbox::{Ev, Outbox};
use super::timers::Timer;
use crate::wire::{
    CloseCode, Endpoint, ProxyError, Wire, WireConfig, WireError, WireEvent, WireState,
};

/// One connection at a time, across generations.
pub(crate) struct Transport {
    /// The primary endpoint's configuration, then the failover ones.
    endpoints: Vec<Arc<WireConfig>>,
    /// Index in `endpoints` of the current (or last) dial.
    current: usize,
    /// Dials since the last successful upgrade: after a loss of an upgraded
    /// connection (0) the same endpoint is dialed again; a failed attempt
    /// moves to the next one.
    unopened_dials: usize,
    /// Generation of the current (or last) dial.
    generation: u64,
    /// The generation whose socket the driver holds; `None` once it was
    /// told to close it (so it is told once).
    socket: Option<u64>,
    /// The WebSocket over the socket, from the socket's opening until it closes.
    pub(crate) wire: Option<Wire>,
    /// An `Output::Transmit` was handed out and not answered yet.
    transmit_announced: bool,
    /// The OS error that ended the socket, reported once the wire has
    /// delivered what it decoded before it.
    reset: Option<String>,
}

impl Transport {
    /// No connection yet; connections will use `endpoints` (at least one:
    /// the primary first), moving on when an attempt fails.
    pub(crate) fn new(endpoints: Vec<WireConfig>) -> Self {
        assert!(
            !endpoints.is_empty(),
            "the primary endpoint is always given"
        );
        Transport {
            // A fresh Vec of pointers: collecting in place would keep the
            // configurations' own (much larger) buffer for the pointers.
            endpoints: endpoints.iter().cloned().map(Arc::new).collect(),
            current: 0,
            unopened_dials: 0,
            generation: 0,
            socket: None,
            wire: None,
            transmit_announced: false,
            reset: None,
        }
    }

    /// Generation of the current (or last) dial.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The endpoint of the current (or last) dial.
    pub(crate) fn endpoint(&self) -> &Endpoint {
        self.endpoints[self.current].endpoint()
    }

    /// What the driver dials for the current endpoint.
    pub(crate) fn dial_target(&self) -> (&str, u16) {
        self.endpoints[self.current].dial_target()
    }

    /// Asks the driver for a new connection (a new generation), under the
    /// connect deadline: to the proxy if one is configured, else to the
    /// endpoint. After an attempt that failed before the upgrade, the next
    /// endpoint (in order, wrapping around) is dialed.
    pub(crate) fn dial(&mut self, env: &mut Env) {
        if self.unopened_dials > 0 && self.endpoints.len() > 1 {
            self.current = (self.current + 1) % self.endpoints.len();
            tracing::info!(endpoint = ?self.endpoint(), index = self.current, "failing over");
        }
        self.unopened_dials += 1;
        self.generation += 1;
        self.socket = Some(self.generation);
        self.reset = None;
        env.out.telemetry.dialed();
        let config = &self.endpoints[self.current];
        let (host, port) = config.dial_target();
        tracing::debug!(
            generation = self.generation,
            endpoint = ?config.endpoint(),
            proxy = ?config.proxy_config(),
            host,
            port,
            "dialing"
        );
        env.out.push(Output::Dial {
            generation: self.generation,
            host: host.to_owned(),
            port,
        });
        env.timers
            .set(Timer::Connect, env.now + env.config.connect_timeout);
    }

    /// Whether input tagged with `generation` belongs to the live socket.
    pub(crate) fn is_current(&self, generation: u64) -> bool {
        self.socket == Some(generation)
    }

    /// The attempts since the last upgrade have not yet tried every endpoint.
    pub(crate) fn has_untried_endpoint(&self) -> bool {
        self.unopened_dials > 0 && self.unopened_dials < self.endpoints.len()
    }

    /// Why the driver's dial failed: the proxy's unreachability when a
    /// proxy was dialed, else the driver's error.
    pub(crate) fn connect_failed(&self, error: &str) -> DisconnectReason {
        match self.endpoints[self.current].proxy_config() {
            Some(proxy) => DisconnectReason::Wire(WireError::Proxy(ProxyError::Unreachable {
                proxy: format!("{}:{}", proxy.host(), proxy.port()),
                error: error.to_owned(),
            })),
            None => DisconnectReason::ConnectFailed(error.to_owned()),
        }
    }

    /// The driver's socket is up: start the proxy tunnel, TLS and the upgrade.
    pub(crate) fn on_socket_open(&mut self, env: &mut Env) {
        match Wire::new(self.endpoints[self.current].clone(), &mut env.rng) {
            Ok(mut wire) => {
                // Replies to what came before a violation may still leave.
                wire.set_linger(true);
                self.wire = Some(wire);
            }
            Err(err) => env
                .out
                .lose(DisconnectReason::Wire(err), Initiator::Library),
        }
    }

    /// The driver's socket reached EOF (`error` is `None`) or failed with
    /// an OS error. Either way the wire first delivers what it decoded.
    pub(crate) fn on_socket_closed(&mut self, out: &mut Outbox, error: Option<&str>) {
        match (self.wire.as_mut(), error) {
            (Some(wire), error) => {
                self.reset = error.map(str::to_owned);
                wire.handle_eof();
            }
            (None, Some(error)) => {
                out.lose(DisconnectReason::Reset(error.into()), Initiator::Remote)
            }
            (None, None) => {
                let reason = DisconnectReason::TransportClosed("closed while connecting".into());
                out.lose(reason, Initiator::Remote);
            }
        }
    }

    /// Feeds socket bytes to the wire.
    pub(crate) fn on_bytes(&mut self, out: &mut Outbox, data: &[u8]) {
        count_in(out, data.len());
        if let Some(wire) = self.wire.as_mut() {
            wire.handle_bytes(data);
        }
    }

    /// `n` bytes were read straight into the wire's buffer.
    pub(crate) fn on_read(&mut self, out: &mut Outbox, n: usize) {
        count_in(out, n);
        if let Some(wire) = self.wire.as_mut() {
            wire.bytes_read(n);
        }
    }

    /// The wire's next event. A wire error loses the connection: the peer
    /// ending or refusing it is the remote's doing, rejecting what it sent
    /// is ours.
    pub(crate) fn poll_wire_event(&mut self, out: &mut Outbox) -> Option<WireEvent> {
        match self.wire.as_mut()?.poll_event() {
            Ok(event) => event,
            Err(WireError::AbnormalClosure | WireError::HandshakeEof) if self.reset.is_some() => {
                let error = self.reset.take().unwrap_or_default();
                out.lose(DisconnectReason::Reset(error), Initiator::Remote);
                None
            }
            Err(err) => {
                let initiator = match err {
                    WireError::AbnormalClosure
                    | WireError::HandshakeEof
                    | WireError::Proxy(_)
                    | WireError::UpgradeRejected { .. } => Initiator::Remote,
                    _ => Initiator::Library,
                };
                out.lose(DisconnectReason::Wire(err), initiator);
                None
            }
        }
    }

    /// The upgrade succeeded: the connect deadline is met.
    pub(crate) fn on_open(&mut self, env: &mut Env) {
        self.unopened_dials = 0;
        env.timers.clear(Timer::Connect);
        env.out.raise(Ev::Opened);
    }

    /// The upgrade is done: its buffers are not needed any more.
    pub(crate) fn on_upgraded(&mut self) {
        self.shrink_buffers();
    }

    /// Gives back what the last burst grew (at a quiet moment).
    pub(crate) fn shrink_buffers(&mut self) {
        if let Some(wire) = self.wire.as_mut() {
            wire.shrink_buffers();
        }
    }

    /// Starts the close handshake (RFC 6455 §7.1.2) under the close
    /// deadline; `false` when there is no open WebSocket.
    pub(crate) fn start_close(&mut self, env: &mut Env, code: u16, reason: &str) -> bool {
        let Some(wire) = self.wire.as_mut() else {
            return false;
        };
        if wire.close(CloseCode::from(code), reason).is_err() {
            return false;
        }
        env.timers
            .set(Timer::Close, env.now + env.config.close_timeout);
        tracing::debug!(code, "close handshake started");
        true
    }

    /// Tells the driver to close the socket, after writing what is pending
    /// (e.g. the close frame that fails a connection).
    pub(crate) fn close_socket(&mut self, out: &mut Outbox) {
        let flush = match self.wire.take() {
            Some(mut wire) => {
                if wire.state() == WireState::Closed {
                    // The close handshake is done: over TLS, close_notify
                    // comes before the TCP close (RFC 8446 §6.1).
                    wire.finish_transport();
                }
                wire.pending_transmit().to_vec()
            }
            None => Vec::new(),
        };
        if let Some(generation) = self.socket.take() {
            out.push(Output::CloseTransport { generation, flush });
        }
        self.transmit_announced = false;
    }

    /// `Output::Transmit` when bytes wait and the driver was not told yet.
    pub(crate) fn poll_transmit_announcement(&mut self) -> Option<Output> {
        let wire = self.wire.as_mut()?;
        // `may_transmit` first: asked after every drain, it answers the usual
        // "nothing" without framing a pong or sealing TLS records.
        if self.transmit_announced || !wire.may_transmit() || wire.pending_transmit().is_empty() {
            return None;
        }
        self.transmit_announced = true;
        Some(Output::Transmit {
            generation: self.generation,
        })
    }

    /// Bytes to write to the current socket.
    pub(crate) fn pending_transmit(&mut self) -> &[u8] {
        match self.wire.as_mut() {
            Some(wire) => wire.pending_transmit(),
            None => &[],
        }
    }

    /// Whether the peer broke the protocol and the wire waits to fail.
    pub(crate) fn violation_pending(&self) -> bool {
        self.wire.as_ref().is_some_and(Wire::violation_pending)
    }

    /// Fails the connection for the peer's violation, queueing its close frame.
    pub(crate) fn fail_deferred(&mut self) -> Option<WireError> {
        self.wire.as_mut()?.fail_deferred()
    }

    /// Bytes waiting for the socket, without sealing them.
    pub(crate) fn pending_len(&self) -> usize {
        self.wire.as_ref().map_or(0, Wire::pending_len)
    }

    /// The socket accepted `n` bytes of the pending ones.
    pub(crate) fn advance_transmit(&mut self, out: &mut Outbox, n: usize) {
        if let Some(wire) = self.wire.as_mut() {
            wire.advance_transmit(n);
            out.meters.stats.bytes_out += n as u64;
            out.telemetry.bytes_out(n);
        }
        self.transmit_announced = false;
    }
}

fn count_in(out: &mut Outbox, n: usize) {
    out.meters.stats.bytes_in += n as u64;
    out.telemetry.bytes_in(n);
}
