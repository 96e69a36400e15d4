//! TLS as a byte transform: rustls' `ClientConnection` over memory buffers.

use std::io::{Read, Write};
use std::sync::Arc;

use bytes::BytesMut;
use rustls::pki_types::ServerName;

use super::WireError;

/// The TLS layer under the WebSocket. Frames are staged as plaintext and
/// sealed in as few records as possible when the driver asks for bytes.
pub(crate) struct TlsLayer {
    conn: Box<rustls::ClientConnection>,
    /// Plaintext waiting to be sealed.
    staged: Vec<u8>,
}

impl TlsLayer {
    /// Starts a handshake with SNI and certificate verification for `host`.
    pub(crate) fn new(config: Arc<rustls::ClientConfig>, host: &str) -> Result<Self, WireError> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| WireError::InvalidUrl("the host is not a valid TLS server name"))?;
        let mut conn = rustls::ClientConnection::new(config, name)?;
        // Our own buffers bound what is queued; rustls need not refuse writes.
        conn.set_buffer_limit(None);
        Ok(TlsLayer {
            conn: Box::new(conn),
            staged: Vec::new(),
        })
    }

    /// Where the WebSocket layer writes plaintext to be encrypted.
    pub(crate) fn staged(&mut self) -> &mut Vec<u8> {
        &mut self.staged
    }

    /// Decrypts `data` into `plaintext`; handshake replies and alerts go to
    /// `out`. Returns `true` once the peer has sent `close_notify`.
    pub(crate) fn receive(
        &mut self,
        mut data: &[u8],
        plaintext: &mut BytesMut,
        out: &mut Vec<u8>,
    ) -> Result<bool, WireError> {
        let mut closed = false;
        while !data.is_empty() {
            self.conn
                .read_tls(&mut data)
                .map_err(|_| WireError::Tls(rustls::Error::General("TLS buffer full".into())))?;
            let state = match self.conn.process_new_packets() {
                Ok(state) => state,
                Err(err) => {
                    // Tell the server why (the alert), then report.
                    self.flush_records(out);
                    return Err(err.into());
                }
            };
            let available = state.plaintext_bytes_to_read();
            if available > 0 {
                let start = plaintext.len();
                plaintext.resize(start + available, 0);
                self.conn
                    .reader()
                    .read_exact(&mut plaintext[start..])
                    .expect("rustls reported these bytes as readable");
            }
            closed |= state.peer_has_closed();
        }
        self.flush_records(out);
        Ok(closed)
    }

    /// Seals staged plaintext into records and moves every pending record to `out`.
    pub(crate) fn seal(&mut self, out: &mut Vec<u8>) {
        if !self.staged.is_empty() {
            self.conn
                .writer()
                .write_all(&self.staged)
                .expect("rustls buffers without limit");
            self.staged.clear();
        }
        self.flush_records(out);
    }

    fn flush_records(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            self.conn
                .write_tls(out)
                .expect("writing to a Vec cannot fail");
        }
    }

    /// Queues TLS `close_notify` (RFC 8446 §6.1) behind everything staged:
    /// the server learns the TCP close that follows is the end, not a
    /// truncation attack.
    pub(crate) fn close_notify(&mut self, out: &mut Vec<u8>) {
        self.seal(out);
        self.conn.send_close_notify();
        self.flush_records(out);
    }

    /// Plaintext staged and not yet sealed.
    pub(crate) fn staged_len(&self) -> usize {
        self.staged.len()
    }

    /// Bytes of plaintext held here (for memory accounting; rustls' own buffers excluded).
    pub(crate) fn buffered(&self) -> usize {
        self.staged.capacity()
    }

    /// Frees staged capacity after a burst.
    pub(crate) fn shrink(&mut self) {
        if self.staged.is_empty() {
            self.staged = Vec::new();
        }
    }
}

impl std::fmt::Debug for TlsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsLayer")
            .field("handshaking", &self.conn.is_handshaking())
            .field("staged", &self.staged.len())
            .finish()
    }
}
