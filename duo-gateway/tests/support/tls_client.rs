//! Talking TLS to the gateway's own listener: certificate and key files that are replaced as
//! Kubernetes replaces them (a temporary file renamed over the old one), an HTTPS reqwest client
//! trusting a test CA, and a raw rustls client that shows which certificate the server sent.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use duo_gateway::Config;
use duo_testkit::tls::{ServerPem, TestCa};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::support::{self, TestGateway};

/// A certificate file and a key file in a temporary directory.
pub struct TlsFiles {
    /// The directory (removed when dropped).
    pub dir: tempfile::TempDir,
    /// `dir/tls.crt`
    pub cert: PathBuf,
    /// `dir/tls.key`
    pub key: PathBuf,
}

impl TlsFiles {
    /// The two files, holding `pair`.
    pub fn new(pair: &ServerPem) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = Self {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
            dir,
        };
        files.replace(&pair.cert, &pair.key);
        files
    }

    /// Replaces the certificate, then the key, each through a renamed temporary file.
    pub fn replace(&self, cert: &str, key: &str) {
        replace_file(&self.cert, cert);
        replace_file(&self.key, key);
    }
}

/// Writes `contents` to a temporary file beside `path` and renames it over `path`.
pub fn replace_file(path: &Path, contents: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// `https://` + the address of `base` (`http://host:port`) + `path`.
pub fn https(base: &str, path: &str) -> String {
    format!("https://{}{path}", base.trim_start_matches("http://"))
}

/// The socket address of `base` (`http://host:port`).
pub fn addr(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().unwrap()
}

/// A reqwest client that trusts `ca` (and the system's roots), with no connection reuse.
pub fn https_client(ca: &TestCa) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The DER of the first certificate in `pem`.
pub fn der_of(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .as_ref()
        .to_vec()
}

/// A TLS connection to `addr` (as `127.0.0.1`) trusting only `ca`, offering `http/1.1`.
///
/// # Errors
/// The handshake's failure, as tokio-rustls reports it.
pub async fn connect(addr: SocketAddr, ca: &TestCa) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.ca_pem().as_bytes()).unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
}

/// The DER of the certificate the server sent on `stream`.
pub fn leaf(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0]
        .as_ref()
        .to_vec()
}

/// The ALPN protocol the server chose on `stream`.
pub fn alpn(stream: &TlsStream<TcpStream>) -> Option<Vec<u8>> {
    stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
}

/// Sends `GET path` on `stream` (kept alive) and returns the response's status line.
pub async fn get_status_line(stream: &mut TlsStream<TcpStream>, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed before a response");
            buf.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let head = head.split("\r\n\r\n").next().unwrap_or_default();
        // The body of a healthz answer is small: drain it so the next request starts clean.
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut have = buf.len() - head.len() - 4;
        while have < len {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed mid-body");
            have += n;
        }
        head.lines().next().unwrap_or_default().to_owned()
    })
    .await
    .expect("a response in time")
}

/// The test config with TLS on, serving `files`, checking them every `reload_s` seconds.
pub fn tls_config(files: &TlsFiles, reload_s: f64) -> Config {
    let mut c = support::config();
    c.fastapi.tls.enabled = true;
    c.fastapi.tls.cert_file = Some(files.cert.clone());
    c.fastapi.tls.key_file = Some(files.key.clone());
    c.fastapi.tls.reload_interval_s = reload_s;
    c
}

/// GETs `/monitoring/healthz` over HTTPS trusting `ca`; the status.
pub async fn healthz(gw: &TestGateway, ca: &TestCa) -> u16 {
    https_client(ca)
        .get(https(&gw.base, "/monitoring/healthz"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The certificate a new connection to `gw` is served.
pub async fn served(gw: &TestGateway, ca: &TestCa) -> Vec<u8> {
    leaf(&connect(addr(&gw.base), ca).await.unwrap())
}

/// Every message of `e` and its sources, joined.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The captured log lines whose message is `message`.
pub fn logged(capture: &duo_logging::LogCapture, message: &str) -> Vec<serde_json::Value> {
    capture
        .json_lines()
        .unwrap()
        .into_iter()
        .filter(|l| l["message"] == message)
        .collect()
}
