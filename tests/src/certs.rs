//! A throw-away test PKI: one self-signed CA and one server certificate it
//! signed, generated with rcgen, plus rustls configs that use them.
//!
//! Every [`TestPki::new`] creates a fresh, unrelated CA (new key, unique
//! subject name), so a second instance is the natural "wrong CA" for
//! certificate-validation tests.
//!
//! All rustls configs are built with an explicit ring [`CryptoProvider`], so
//! no process-wide default provider has to be installed.
//!
//! ```
//! use wsnova_tests::TestPki;
//!
//! let pki = TestPki::new(&["localhost", "127.0.0.1"]);
//! let roots = pki.root_store();
//! assert_eq!(roots.len(), 1);
//! let _server = pki.server_config();
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// The ring crypto provider, as an `Arc` ready for `builder_with_provider`.
///
/// ```
/// let provider = wsnova_tests::certs::ring_provider();
/// assert!(!provider.cipher_suites.is_empty());
/// ```
pub fn ring_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed CA and a server certificate (with its key) signed by it.
#[derive(Debug)]
pub struct TestPki {
    ca_der: CertificateDer<'static>,
    server_der: CertificateDer<'static>,
    server_key_pkcs8: Vec<u8>,
}

impl TestPki {
    /// Generates a new CA and a server certificate for `names`.
    ///
    /// Each name becomes a subject alternative name: an IP address SAN if it
    /// parses as an IP address (`"127.0.0.1"`, `"::1"`), a DNS name SAN
    /// otherwise. The first name is also the subject common name.
    ///
    /// # Panics
    ///
    /// If `names` is empty, a name is not a valid DNS name / IP address, or
    /// key generation fails (all test-setup bugs).
    pub fn new(names: &[&str]) -> TestPki {
        assert!(!names.is_empty(), "TestPki::new needs at least one name");
        static SERIAL: AtomicU64 = AtomicU64::new(1);
        let id = SERIAL.fetch_add(1, Ordering::Relaxed);

        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name.push(
            DnType::CommonName,
            format!("wsnova test CA {}-{id}", std::process::id()),
        );
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().expect("generate CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign CA");
        let issuer = Issuer::new(ca_params, ca_key);

        let owned: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(owned).expect("valid SAN names");
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].to_string());
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let server_key = KeyPair::generate().expect("generate server key");
        let server_cert = params
            .signed_by(&server_key, &issuer)
            .expect("sign server cert");

        TestPki {
            ca_der: ca_cert.der().clone(),
            server_der: server_cert.der().clone(),
            server_key_pkcs8: server_key.serialize_der(),
        }
    }

    /// The CA certificate (DER).
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca_der.clone()
    }

    /// The server (leaf) certificate (DER).
    pub fn server_cert_der(&self) -> CertificateDer<'static> {
        self.server_der.clone()
    }

    /// The server's private key (PKCS#8 DER).
    pub fn server_key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_pkcs8.clone()))
    }

    /// A root store that trusts exactly this CA and nothing else.
    pub fn root_store(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der()).expect("CA certificate is valid");
        roots
    }

    /// A rustls server config presenting the server certificate (no client
    /// auth, safe default protocol versions, ring provider).
    pub fn server_config(&self) -> Arc<ServerConfig> {
        let config = ServerConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.server_cert_der()], self.server_key_der())
            .expect("server certificate and key match");
        Arc::new(config)
    }

    /// A rustls client config trusting only this CA (ring provider, no
    /// client auth). Convenient for tests that use a third-party client.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        let config = ClientConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(self.root_store())
            .with_no_client_auth();
        Arc::new(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use rustls::{CertificateError, ClientConnection, ServerConnection};

    /// Runs a complete in-memory TLS handshake; returns the client's error.
    fn handshake(
        client: Arc<ClientConfig>,
        server: Arc<ServerConfig>,
        name: &str,
    ) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(name.to_string()).expect("valid server name");
        let mut c = ClientConnection::new(client, name)?;
        let mut s = ServerConnection::new(server)?;
        for _ in 0..20 {
            let mut buf = Vec::new();
            while c.wants_write() {
                c.write_tls(&mut buf).expect("write to Vec");
            }
            if !buf.is_empty() {
                s.read_tls(&mut buf.as_slice()).expect("read from slice");
                // A server-side failure shows up as an alert to the client.
                let _ = s.process_new_packets();
            }
            let mut buf = Vec::new();
            while s.wants_write() {
                s.write_tls(&mut buf).expect("write to Vec");
            }
            if !buf.is_empty() {
                c.read_tls(&mut buf.as_slice()).expect("read from slice");
                c.process_new_packets()?;
            }
            if !c.is_handshaking() && !s.is_handshaking() {
                return Ok(());
            }
        }
        panic!("TLS handshake did not finish");
    }

    #[test]
    fn client_trusting_the_ca_accepts_dns_and_ip_names() {
        let pki = TestPki::new(&["localhost", "127.0.0.1"]);
        handshake(pki.client_config(), pki.server_config(), "localhost").unwrap();
        handshake(pki.client_config(), pki.server_config(), "127.0.0.1").unwrap();
    }

    #[test]
    fn name_not_in_certificate_is_rejected() {
        let pki = TestPki::new(&["localhost"]);
        let err = handshake(pki.client_config(), pki.server_config(), "example.com").unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
                    | rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForNameContext { .. }
                    )
            ),
            "{err:?}"
        );
    }

    #[test]
    fn second_pki_is_an_unrelated_ca() {
        let pki = TestPki::new(&["localhost"]);
        let other = TestPki::new(&["localhost"]);
        assert_ne!(pki.ca_der(), other.ca_der());
        let err = handshake(other.client_config(), pki.server_config(), "localhost").unwrap_err();
        assert_eq!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
        );
    }

    #[test]
    fn root_store_holds_only_the_ca() {
        let pki = TestPki::new(&["localhost"]);
        assert_eq!(pki.root_store().len(), 1);
        assert_ne!(pki.ca_der(), pki.server_cert_der());
    }
}
