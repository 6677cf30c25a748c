//! TLS for the fakes: a [`TestCa`] generated per test (a CA and a server certificate for
//! `localhost` and `127.0.0.1`, signed by it), and a [`TlsListener`] that serves any axum app over
//! rustls. Clients trust the server only with the CA's PEM ([`TestCa::write_bundle`]), as an
//! operator's `providers.http.ca_bundle` would give it. The CA also issues further server
//! certificates as PEM ([`TestCa::issue_server`]), for servers under test that read their own
//! certificate and key files.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A throw-away certificate authority and the server certificate it signed.
pub struct TestCa {
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
    acceptor: TlsAcceptor,
}

/// A server certificate and its private key, PEM, as [`TestCa::issue_server`] made them.
#[derive(Debug, Clone)]
pub struct ServerPem {
    /// The certificate (`-----BEGIN CERTIFICATE-----`).
    pub cert: String,
    /// Its private key, PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    pub key: String,
}

impl TestCa {
    /// Generates the CA (`duo test CA`) and a server certificate for `localhost` and
    /// `127.0.0.1`.
    ///
    /// # Panics
    /// If key generation or signing fails (a broken crypto backend: no test could run).
    #[allow(clippy::expect_used)]
    #[must_use]
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("generate the test CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "duo test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .expect("self-sign the test CA");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("generate the server key");
        let server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("sign the server certificate");

        let chain = vec![CertificateDer::from(server_cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the server certificate and key");
        Self {
            ca_pem: ca_cert.pem(),
            issuer,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }

    /// A new server certificate for `localhost` and `127.0.0.1` with the common name
    /// `common_name` (each call a new key), signed by this CA.
    ///
    /// # Panics
    /// If key generation or signing fails (a broken crypto backend: no test could run).
    #[allow(clippy::expect_used)]
    #[must_use]
    pub fn issue_server(&self, common_name: &str) -> ServerPem {
        let key = KeyPair::generate().expect("generate a server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign the server certificate");
        ServerPem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// The CA certificate, PEM.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes the CA's PEM to `dir/ca.pem` and returns the path (a CA bundle file).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_bundle(&self, dir: &Path) -> io::Result<PathBuf> {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem)?;
        Ok(path)
    }

    /// Serves TLS on `tcp` with the server certificate.
    #[must_use]
    pub fn listener(&self, tcp: TcpListener) -> TlsListener {
        TlsListener {
            tcp,
            acceptor: self.acceptor.clone(),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// An [`axum::serve::Listener`] that completes a TLS handshake on every accepted connection;
/// connections whose handshake fails (a client that does not trust the CA) are dropped.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                // out of descriptors or similar: as axum's own listener, wait and go on
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
