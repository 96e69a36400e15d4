//! A self-signed certificate for "localhost" and rustls configurations that
//! trust it, for the tests that run TLS in memory: the TLS layer's unit
//! tests, and `core/tests/wire_buffers.rs`, which includes this file.

use std::sync::Arc;

/// Client and server configurations: a self-signed certificate for
/// "localhost" that the client trusts.
pub(crate) fn configs() -> (Arc<rustls::ClientConfig>, Arc<rustls::ServerConfig>) {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = key.cert.der().clone();
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], private)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(client), Arc::new(server))
}
