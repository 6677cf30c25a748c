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
    ca_der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
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

        let server_chain = vec![CertificateDer::from(server_cert.der().to_vec())];
        let server_key = server_key.serialize_der();
        let config = server_config(server_chain.clone(), &server_key, None);
        Self {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().to_vec(),
            issuer,
            server_chain,
            server_key,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }

    /// A new client certificate with the common name `common_name` (each call a new key),
    /// signed by this CA, for servers that ask for one
    /// ([`listener_requiring_client_certs`](Self::listener_requiring_client_certs)).
    ///
    /// # Panics
    /// If key generation or signing fails (a broken crypto backend: no test could run).
    #[allow(clippy::expect_used)]
    #[must_use]
    pub fn issue_client(&self, common_name: &str) -> ServerPem {
        let key = KeyPair::generate().expect("generate a client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign the client certificate");
        ServerPem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// Serves TLS on `tcp` with the server certificate, completing only handshakes in which the
    /// client presents a certificate that `clients` signed.
    #[must_use]
    pub fn listener_requiring_client_certs(
        &self,
        tcp: TcpListener,
        clients: &TestCa,
    ) -> TlsListener {
        let config = server_config(
            self.server_chain.clone(),
            &self.server_key,
            Some(CertificateDer::from(clients.ca_der.clone())),
        );
        TlsListener {
            tcp,
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

/// `key_pem` (PKCS#8) encrypted with `password` as `openssl pkcs8 -topk8 -v2 aes-256-cbc`
/// writes it: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC (`ENCRYPTED PRIVATE KEY`).
///
/// # Panics
/// If `key_pem` is not a PKCS#8 key, or encryption fails.
#[allow(clippy::expect_used)]
#[must_use]
pub fn encrypt_key_pem(key_pem: &str, password: &str) -> String {
    use pkcs8::der::EncodePem;
    let key = pem::parse(key_pem).expect("a PEM key");
    let info = pkcs8::PrivateKeyInfo::try_from(key.contents()).expect("a PKCS#8 key");
    let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(
        2048,
        b"duo-test-salt-16",
        b"duo-test-iv-0016",
    )
    .expect("PBES2 parameters");
    let encrypted = info
        .encrypt_with_params(params, password)
        .expect("encrypt the key");
    let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(encrypted.as_bytes())
        .expect("the encrypted key reads back");
    encrypted
        .to_pem(pkcs8::LineEnding::LF)
        .expect("PEM of the encrypted key")
}

/// A rustls server configuration with the server certificate; with `client_ca`, handshakes
/// must present a client certificate it signed.
#[allow(clippy::expect_used)]
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: &[u8],
    client_ca: Option<CertificateDer<'static>>,
) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("TLS versions");
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca).expect("the client CA");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("the client-certificate verifier");
            builder.with_client_cert_verifier(verifier)
        }
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec()));
    builder
        .with_single_cert(chain, key)
        .expect("the server certificate and key")
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
