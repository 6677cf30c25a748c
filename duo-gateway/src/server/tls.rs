//! TLS on the API listener (`[fastapi.tls]`): the certificate and key files loaded into a rustls
//! acceptor whose certificate is swapped when the files change.
//!
//! Every handshake asks [`ReloadingResolver`] for the current pair. A background task
//! ([`Tls::watch`]) looks at both files' modification time, size and inode every
//! `reload_interval_s`; when either changed it loads the pair again, and only a pair that loads
//! (a certificate, a key, and the key matching the certificate) replaces the one served. A
//! half-written or mismatched replacement leaves the previous pair in place with a warning;
//! connections already open keep the session they have. No message ever holds key material:
//! errors name the setting, the file and why.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{Error as TlsError, InconsistentKeys};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::config::{ConfigError, TlsConfig};

const CERT_SETTING: &str = "fastapi.tls.cert_file";
const KEY_SETTING: &str = "fastapi.tls.key_file";

/// Checks `config` as start-up would use it: when TLS is enabled, both files are read and must
/// hold a certificate and its key.
///
/// # Errors
/// The setting, the file and why (never key material).
pub(crate) fn check(config: &TlsConfig) -> Result<(), ConfigError> {
    match config.files() {
        Some((cert, key)) => load_pair(cert, key, &provider())
            .map(|_| ())
            .map_err(|e| ConfigError(e.to_string())),
        None => Ok(()),
    }
}

/// The API listener's TLS: the acceptor for handshakes, and what the reload task watches.
pub(crate) struct Tls {
    acceptor: TlsAcceptor,
    resolver: Arc<ReloadingResolver>,
    files: Files,
    /// Both files as they were when the served pair was read.
    loaded: Stamps,
    interval: Option<Duration>,
}

impl Tls {
    /// The acceptor `config` describes, with its pair loaded; `None` when TLS is disabled.
    ///
    /// # Errors
    /// As [`check`], or a TLS configuration rustls refuses.
    pub(crate) fn from_config(config: &TlsConfig) -> Result<Option<Self>, ConfigError> {
        if let Some(ciphers) = &config.ssl_ciphers {
            tracing::warn!(
                ssl_ciphers = %ciphers,
                "fastapi.tls.ssl_ciphers is ignored: rustls uses its own safe cipher suites (TLS 1.2 and 1.3)"
            );
        }
        let Some((cert, key)) = config.files() else {
            return Ok(None);
        };
        let files = Files {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            provider: provider(),
        };
        let loaded = files.stamps();
        let pair = files.load().map_err(|e| ConfigError(e.to_string()))?;
        let resolver = Arc::new(ReloadingResolver {
            current: RwLock::new(Arc::new(pair)),
        });
        let mut server = rustls::ServerConfig::builder_with_provider(Arc::clone(&files.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError(format!("fastapi.tls: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&resolver) as Arc<dyn ResolvesServerCert>);
        // The listener speaks HTTP/1.1 only (hyper's http1 connection).
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(Self {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            resolver,
            files,
            loaded,
            interval: config.reload_interval(),
        }))
    }

    /// The acceptor new connections handshake with.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// Checks the files every reload interval until `stop` turns true, and serves a changed pair
    /// once it loads. Returns at once when reloading is off.
    pub(crate) async fn watch(self, mut stop: watch::Receiver<bool>) {
        let Some(interval) = self.interval else {
            return;
        };
        let Self {
            resolver,
            files,
            mut loaded,
            ..
        } = self;
        let files = Arc::new(files);
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = ticks.tick() => {}
            }
            let seen = loaded.clone();
            let task_files = Arc::clone(&files);
            let checked = tokio::task::spawn_blocking(move || {
                let now = task_files.stamps();
                let reloaded = (now != seen).then(|| task_files.load());
                (now, reloaded)
            })
            .await;
            let Ok((now, reloaded)) = checked else {
                continue;
            };
            match reloaded {
                None => {}
                Some(Ok(pair)) => {
                    resolver.set(pair);
                    loaded = now;
                    tracing::info!(
                        cert_file = %files.cert.display(),
                        key_file = %files.key.display(),
                        "reloaded the TLS certificate"
                    );
                }
                Some(Err(e)) => {
                    // Not tried again until a file changes again (no warning every interval).
                    loaded = now;
                    tracing::warn!(
                        setting = e.setting,
                        file = %e.file.display(),
                        reason = %e.reason,
                        "the TLS certificate was not reloaded: still serving the previous one"
                    );
                }
            }
        }
    }
}

/// The certificate and key files, and the crypto provider that loads the key.
struct Files {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
}

impl Files {
    fn stamps(&self) -> Stamps {
        (Stamp::of(&self.cert), Stamp::of(&self.key))
    }

    fn load(&self) -> Result<CertifiedKey, PairError> {
        load_pair(&self.cert, &self.key, &self.provider)
    }
}

/// What tells a file changed: its modification time, size and inode (a Kubernetes secret
/// volume swaps a symlink to new files); `None` when it cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

type Stamps = (Option<Stamp>, Option<Stamp>);

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        })
    }
}

/// Answers every handshake with the current pair.
pub(crate) struct ReloadingResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingResolver {
    fn set(&self, pair: CertifiedKey) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(pair);
    }
}

impl fmt::Debug for ReloadingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingResolver").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for ReloadingResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

/// Why a certificate and key cannot be served: the setting, its file and the reason.
#[derive(Debug)]
pub(crate) struct PairError {
    setting: &'static str,
    file: PathBuf,
    reason: String,
}

impl fmt::Display for PairError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} '{}': {}",
            self.setting,
            self.file.display(),
            self.reason
        )
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the chain from `cert` and the key from `key`, and checks the key is the certificate's.
fn load_pair(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, PairError> {
    let cert_error = |reason: String| PairError {
        setting: CERT_SETTING,
        file: cert.to_path_buf(),
        reason,
    };
    let key_error = |reason: String| PairError {
        setting: KEY_SETTING,
        file: key.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(cert).map_err(|e| cert_error(format!("cannot be read: {e}")))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(pem_reason(&e)))?;
    if chain.is_empty() {
        return Err(cert_error(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let pem = std::fs::read(key).map_err(|e| key_error(format!("cannot be read: {e}")))?;
    let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        pem::Error::NoItemsFound => key_error(
            "holds no PEM private key (PKCS#8 PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
                .into(),
        ),
        other => key_error(pem_reason(&other)),
    })?;
    let signing = provider
        .key_provider
        .load_private_key(der)
        .map_err(|e| key_error(format!("the private key cannot be used: {e}")))?;
    let pair = CertifiedKey::new(chain, signing);
    match pair.keys_match() {
        Ok(()) | Err(TlsError::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(pair),
        Err(TlsError::InconsistentKeys(InconsistentKeys::KeyMismatch)) => Err(key_error(format!(
            "the private key does not match the certificate of {CERT_SETTING} '{}'",
            cert.display()
        ))),
        Err(e) => Err(cert_error(format!(
            "the first certificate cannot be parsed: {e}"
        ))),
    }
}

/// A PEM syntax error in words, without the file's bytes.
fn pem_reason(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { .. } => {
            "a PEM section has no END line (a truncated or half-written file?)".into()
        }
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed".into(),
        pem::Error::Base64Decode(_) => "a PEM section is not valid base64".into(),
        pem::Error::Io(e) => format!("cannot be read: {e}"),
        pem::Error::NoItemsFound => "holds no PEM section of the expected kind".into(),
        pem::Error::SectionTooLarge => "a PEM section is too large".into(),
        _ => "is not valid PEM".into(),
    }
}
