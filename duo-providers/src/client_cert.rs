//! [`ClientCertificate`]: the certificate and key the upstream client presents to TLS servers
//! that ask for one (mutual TLS toward model servers, GitLab's `AIGW_MTLS__*`).
//!
//! The certificate file holds the chain (the client's certificate first), and either also the
//! key (one PEM file, as GitLab's `AIGW_MTLS__CERT_FILE` allows) or the key is in its own file.
//! Keys are PKCS#8 (`PRIVATE KEY`), PKCS#1 RSA (`RSA PRIVATE KEY`) or SEC1 EC
//! (`EC PRIVATE KEY`), or encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2: what
//! `openssl pkcs8 -topk8` writes) with `key_password`. Messages name the setting and the file,
//! never the key or the password.

use std::path::{Path, PathBuf};

use duo_core::{Error, Secret};
use serde::Deserialize;

/// A client certificate for mutual TLS (`[providers.http.client_certificate]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificate {
    /// PEM: the certificate chain, client certificate first; may hold the key too.
    pub cert_file: PathBuf,
    /// PEM: the private key, when it is not in `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The password of an encrypted (PKCS#8) key.
    #[serde(default)]
    pub key_password: Option<Secret>,
}

impl ClientCertificate {
    /// Reads the files into the identity reqwest presents.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting and the file: unreadable, no certificate, no key,
    /// several keys, an encrypted key without (or with a wrong) password, or an encryption this
    /// does not read.
    pub fn identity(&self) -> Result<reqwest::Identity, Error> {
        let cert_text = read(&self.cert_file, "cert_file")?;
        let certs = blocks(&cert_text, &self.cert_file, "cert_file")?;
        let chain: Vec<&pem::Pem> = certs.iter().filter(|b| b.tag() == "CERTIFICATE").collect();
        if chain.is_empty() {
            return Err(bad(
                "cert_file",
                &self.cert_file,
                "holds no CERTIFICATE block",
            ));
        }
        let (key_path, key_setting, key_blocks) = match &self.key_file {
            Some(path) => {
                let text = read(path, "key_file")?;
                (path.as_path(), "key_file", blocks(&text, path, "key_file")?)
            }
            None => (self.cert_file.as_path(), "cert_file", certs.clone()),
        };
        let key = self.key(&key_blocks, key_path, key_setting)?;
        let mut pem_bundle = pem::encode_many(&chain.into_iter().cloned().collect::<Vec<_>>());
        pem_bundle.push_str(&pem::encode(&key));
        reqwest::Identity::from_pem(pem_bundle.as_bytes()).map_err(|e| {
            bad(
                key_setting,
                key_path,
                &format!("does not hold a usable certificate and key pair: {e}"),
            )
        })
    }

    /// The one private key among `blocks`, decrypted when it is encrypted.
    fn key(&self, blocks: &[pem::Pem], path: &Path, setting: &str) -> Result<pem::Pem, Error> {
        let keys: Vec<&pem::Pem> = blocks
            .iter()
            .filter(|b| b.tag().ends_with("PRIVATE KEY"))
            .collect();
        let key = match keys.as_slice() {
            [] => {
                let hint = if self.key_file.is_none() {
                    " (set key_file when the key is in its own file)"
                } else {
                    ""
                };
                return Err(bad(setting, path, &format!("holds no private key{hint}")));
            }
            [one] => *one,
            _ => return Err(bad(setting, path, "holds more than one private key")),
        };
        if key.headers().get("Proc-Type").is_some() {
            return Err(bad(
                setting,
                path,
                "holds a key in OpenSSL's legacy encryption, which is not read: convert it \
                 with `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
            ));
        }
        match key.tag() {
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => Ok(key.clone()),
            "ENCRYPTED PRIVATE KEY" => {
                let Some(password) = &self.key_password else {
                    return Err(bad(
                        setting,
                        path,
                        "holds an encrypted key and key_password is unset",
                    ));
                };
                let encrypted =
                    pkcs8::EncryptedPrivateKeyInfo::try_from(key.contents()).map_err(|e| {
                        bad(
                            setting,
                            path,
                            &format!("holds an unreadable encrypted key: {e}"),
                        )
                    })?;
                let plain = encrypted.decrypt(password.expose()).map_err(|_| {
                    bad(
                        setting,
                        path,
                        "holds an encrypted key that key_password does not decrypt (a wrong \
                         password, or an encryption other than PBES2)",
                    )
                })?;
                Ok(pem::Pem::new("PRIVATE KEY", plain.as_bytes().to_vec()))
            }
            other => Err(bad(
                setting,
                path,
                &format!("holds a key of an unknown kind ({other})"),
            )),
        }
    }
}

fn read(path: &Path, setting: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::Config(format!(
            "cannot read http.client_certificate.{setting} {}: {e}",
            path.display()
        ))
    })
}

fn blocks(text: &str, path: &Path, setting: &str) -> Result<Vec<pem::Pem>, Error> {
    pem::parse_many(text).map_err(|e| bad(setting, path, &format!("is not PEM: {e}")))
}

fn bad(setting: &str, path: &Path, what: &str) -> Error {
    Error::Config(format!(
        "http.client_certificate.{setting} {} {what}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn files_without_a_certificate_or_a_key_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(dir.path(), "empty.pem", "");
        let cert = ClientCertificate {
            cert_file: empty.clone(),
            key_file: None,
            key_password: None,
        };
        let err = cert.identity().unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "configuration error: http.client_certificate.cert_file {} holds no \
                 CERTIFICATE block",
                empty.display()
            )
        );
        let missing = ClientCertificate {
            cert_file: dir.path().join("nope.pem"),
            key_file: None,
            key_password: None,
        };
        let err = missing.identity().unwrap_err().to_string();
        assert!(
            err.starts_with("configuration error: cannot read http.client_certificate.cert_file"),
            "{err}"
        );
    }
}
