//! The stages a connection enters after `Wire::new`: the proxy's tunnel
//! opening (then TLS and the upgrade start through it) and, after the
//! upgrade, permessage-deflate as agreed (RFC 7692).

use super::compress::Deflater;
use super::handshake::Handshake;
use super::inflate::Inflater;
use super::tls::TlsLayer;
use super::{PerMessageDeflate, State, Wire, WireError};

impl Wire {
    /// From the upgrade on, frames may carry compressed messages (RFC 7692
    /// §6); zlib's state is allocated when the first one is sent or received.
    pub(super) fn enable_compression(&mut self, agreed: PerMessageDeflate) {
        let inflater = Inflater::new(
            agreed.server_max_window_bits,
            agreed.server_no_context_takeover,
        );
        self.decoder.enable_inflate(inflater);
        self.deflater = Some(Deflater::new(&self.config.deflate, &agreed));
        self.compression = Some(agreed);
    }

    /// The proxy opened the tunnel: TLS (checked against the URL's host) and
    /// the upgrade start through it, as over a direct connection.
    pub(super) fn open_tunnel(&mut self) -> Result<(), WireError> {
        if let Some(tls_config) = &self.config.tls {
            self.tls = Some(TlsLayer::new(
                tls_config.clone(),
                self.config.endpoint.host(),
            )?);
        }
        let sink = match self.tls.as_mut() {
            Some(tls) => tls.staged(),
            None => self.out.vec(),
        };
        let handshake = Handshake::start(&self.config, &mut self.rng, sink);
        self.state = State::Handshaking(handshake);
        Ok(())
    }
}
