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
            let taken = self
                .conn
                .read_tls(&mut data)
                .map_err(|_| WireError::Tls(rustls::Error::General("TLS buffer full".into())))?;
            if taken == 0 {
                // rustls takes nothing after the server's close_notify: what
                // follows it is ignored (RFC 8446 §6.1), not read for ever.
                closed = true;
                break;
            }
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

#[cfg(test)]
#[path = "test_tls.rs"]
mod test_tls;

#[cfg(test)]
mod tests {
    use super::*;

    /// A client layer for "localhost" and an in-memory rustls server.
    fn pair() -> (TlsLayer, rustls::ServerConnection) {
        let (client, server) = super::test_tls::configs();
        let layer = TlsLayer::new(client, "localhost").unwrap();
        (layer, rustls::ServerConnection::new(server).unwrap())
    }

    /// Everything the server has to send.
    fn server_bytes(server: &mut rustls::ServerConnection) -> Vec<u8> {
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        buf
    }

    /// Feeds the client's bytes to the server; returns the server's new
    /// plaintext and whether the client has sent `close_notify`.
    fn to_server(server: &mut rustls::ServerConnection, bytes: &[u8]) -> (Vec<u8>, bool) {
        let mut data = bytes;
        let mut closed = false;
        while !data.is_empty() {
            if server.read_tls(&mut data).unwrap() == 0 {
                break; // rustls reads nothing after close_notify
            }
            closed |= server.process_new_packets().unwrap().peer_has_closed();
        }
        let mut plain = Vec::new();
        match server.reader().read_to_end(&mut plain) {
            Ok(_) => {}
            Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock),
        }
        (plain, closed)
    }

    /// Runs the handshake to its end (a bounded number of flights).
    fn connected() -> (TlsLayer, rustls::ServerConnection) {
        let (mut client, mut server) = pair();
        let mut out = Vec::new();
        client.seal(&mut out);
        assert!(!out.is_empty(), "the ClientHello is sent on the first seal");
        for _ in 0..10 {
            let (plain, _) = to_server(&mut server, &std::mem::take(&mut out));
            assert!(plain.is_empty());
            let reply = server_bytes(&mut server);
            let mut plain = BytesMut::new();
            assert_eq!(client.receive(&reply, &mut plain, &mut out), Ok(false));
            assert!(plain.is_empty());
            if !client.conn.is_handshaking() && !server.is_handshaking() && out.is_empty() {
                return (client, server);
            }
        }
        panic!("the handshake did not finish");
    }

    #[test]
    fn staged_plaintext_is_sealed_for_the_server() {
        let (mut client, mut server) = connected();
        client.staged().extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert_eq!(client.staged_len(), 16);
        assert!(client.buffered() >= 16);
        let mut out = Vec::new();
        client.seal(&mut out);
        assert_eq!(client.staged_len(), 0);
        assert!(!out.windows(4).any(|w| w == b"GET "), "sent encrypted");
        assert_eq!(
            to_server(&mut server, &out),
            (b"GET / HTTP/1.1\r\n".to_vec(), false)
        );
        // Nothing staged, nothing pending: sealing sends nothing.
        let mut out = Vec::new();
        client.seal(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn the_servers_records_are_decrypted_in_order() {
        let (mut client, mut server) = connected();
        let big: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        server.writer().write_all(b"first ").unwrap();
        server.writer().write_all(&big).unwrap();
        let records = server_bytes(&mut server);
        let mut plain = BytesMut::from(&b"kept:"[..]);
        let mut out = Vec::new();
        // In two pieces, split inside a record.
        let (a, b) = records.split_at(records.len() / 3);
        assert_eq!(client.receive(a, &mut plain, &mut out), Ok(false));
        assert_eq!(client.receive(b, &mut plain, &mut out), Ok(false));
        assert_eq!(&plain[..11], b"kept:first ");
        assert_eq!(&plain[11..], &big[..]);
    }

    #[test]
    fn the_servers_close_notify_is_reported() {
        let (mut client, mut server) = connected();
        server.writer().write_all(b"bye").unwrap();
        server.send_close_notify();
        let mut plain = BytesMut::new();
        let mut out = Vec::new();
        let records = server_bytes(&mut server);
        assert_eq!(client.receive(&records, &mut plain, &mut out), Ok(true));
        assert_eq!(&plain[..], b"bye");
    }

    #[test]
    fn close_notify_follows_the_staged_plaintext() {
        let (mut client, mut server) = connected();
        client.staged().extend_from_slice(b"last words");
        let mut out = Vec::new();
        client.close_notify(&mut out);
        assert_eq!(client.staged_len(), 0);
        assert_eq!(to_server(&mut server, &out), (b"last words".to_vec(), true));
    }

    #[test]
    fn a_corrupt_record_is_an_error_and_the_alert_is_sent() {
        let (mut client, mut server) = connected();
        server.writer().write_all(b"data").unwrap();
        let mut records = server_bytes(&mut server);
        let last = records.len() - 1;
        records[last] ^= 0x55;
        let mut plain = BytesMut::new();
        let mut out = Vec::new();
        let err = client.receive(&records, &mut plain, &mut out).unwrap_err();
        assert_eq!(err, WireError::Tls(rustls::Error::DecryptError));
        assert!(plain.is_empty());
        // The alert tells the server why.
        server.read_tls(&mut &out[..]).unwrap();
        assert_eq!(
            server.process_new_packets().unwrap_err(),
            rustls::Error::AlertReceived(rustls::AlertDescription::BadRecordMac)
        );
    }

    #[test]
    fn a_host_that_is_no_server_name_is_refused() {
        let (config, _) = super::test_tls::configs();
        assert!(matches!(
            TlsLayer::new(config, "bad host!"),
            Err(WireError::InvalidUrl(_))
        ));
    }

    #[test]
    fn shrink_frees_only_an_empty_stage() {
        let (mut client, _) = pair();
        client.staged().extend_from_slice(&[7; 4096]);
        client.shrink();
        assert_eq!(client.staged_len(), 4096, "staged bytes are kept");
        assert!(client.buffered() >= 4096);
        client.seal(&mut Vec::new());
        assert!(client.buffered() >= 4096, "capacity outlives the burst");
        client.shrink();
        assert_eq!(client.buffered(), 0);
    }

    #[test]
    fn debug_shows_the_state_not_the_plaintext() {
        let (mut client, _) = pair();
        client.staged().extend_from_slice(b"secret");
        assert_eq!(
            format!("{client:?}"),
            "TlsLayer { handshaking: true, staged: 6 }"
        );
    }

    /// rustls' `read_tls` reads nothing once `close_notify` has been
    /// processed; bytes fed after it once made the loop spin for ever (a
    /// server could hang the connection). The test runs the call on a thread
    /// and gives it five seconds.
    #[test]
    fn bytes_after_the_servers_close_notify_do_not_hang() {
        let (mut client, mut server) = connected();
        server.send_close_notify();
        let records = server_bytes(&mut server);
        let mut plain = BytesMut::new();
        let mut out = Vec::new();
        assert_eq!(client.receive(&records, &mut plain, &mut out), Ok(true));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = client.receive(b"trailing junk", &mut plain, &mut out);
            let _ = tx.send(result);
        });
        let result = rx.recv_timeout(std::time::Duration::from_secs(5));
        assert!(result.is_ok(), "receive did not return");
    }
}
