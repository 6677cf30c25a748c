//! `[mtls]`: client certificates toward model servers under GitLab's names
//! (`AIGW_MTLS__ENABLED`, `__CERT_FILE`, `__KEY_FILE`, `__KEY_PASSWORD`, `__CA_BUNDLE`,
//! `__VERIFY`), applied to the upstream client's
//! [`HttpSettings`](duo_providers::HttpSettings).

use std::path::PathBuf;

use duo_core::Secret;
use duo_providers::{ClientCertificate, HttpSettings};
use serde::Deserialize;

use super::ConfigError;

/// Mutual TLS toward model servers, as GitLab's gateway reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MtlsConfig {
    /// Present a client certificate to TLS servers that ask for one (default false).
    pub enabled: bool,
    /// PEM: the client certificate chain, and the key unless `key_file` is set.
    pub cert_file: Option<PathBuf>,
    /// PEM: the private key, when it is not in `cert_file`.
    pub key_file: Option<PathBuf>,
    /// The password of an encrypted PKCS#8 key.
    pub key_password: Option<Secret>,
    /// PEM: the CA bundle that verifies the model servers (replaces `providers.http.ca_bundle`
    /// and `SSL_CERT_FILE` while mTLS is on).
    pub ca_bundle: Option<PathBuf>,
    /// Verify the servers' certificates (default true; false accepts any, never in production).
    pub verify: bool,
}

impl Default for MtlsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            cert_file: None,
            key_file: None,
            key_password: None,
            ca_bundle: None,
            verify: true,
        }
    }
}

impl MtlsConfig {
    /// Applies these settings to `http` when `enabled` (GitLab's gateway ignores the rest
    /// otherwise, and so does this).
    ///
    /// # Errors
    /// `cert_file` unset while enabled, or `providers.http.client_certificate` set too.
    pub fn apply(&self, http: &mut HttpSettings) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        let Some(cert_file) = self.cert_file.clone() else {
            return Err(ConfigError(
                "mtls.cert_file (AIGW_MTLS__CERT_FILE) is required when mtls.enabled is true"
                    .into(),
            ));
        };
        if http.client_certificate.is_some() {
            return Err(ConfigError(
                "set either mtls.* (GitLab's names) or providers.http.client_certificate, not both"
                    .into(),
            ));
        }
        http.client_certificate = Some(ClientCertificate {
            cert_file,
            key_file: self.key_file.clone(),
            key_password: self.key_password.clone(),
        });
        if let Some(bundle) = &self.ca_bundle {
            http.ca_bundle = Some(bundle.clone());
        }
        http.verify_server_certificates = self.verify;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load_with;

    #[test]
    #[allow(clippy::result_large_err)]
    fn gitlabs_variables_become_the_client_certificate() {
        let c = load_with(
            "",
            &[
                ("SSL_CERT_FILE", "/etc/ssl/corp.pem"),
                ("AIGW_MTLS__ENABLED", "true"),
                ("AIGW_MTLS__CERT_FILE", "/etc/duo/client.crt"),
                ("AIGW_MTLS__KEY_FILE", "/etc/duo/client.key"),
                ("AIGW_MTLS__KEY_PASSWORD", "s3cret-key-pass"),
                ("AIGW_MTLS__CA_BUNDLE", "/etc/duo/models-ca.pem"),
                ("AIGW_MTLS__VERIFY", "false"),
            ],
        )
        .unwrap();
        assert!(
            !format!("{c:?}").contains("s3cret-key-pass"),
            "the password is redacted"
        );
        let http = c.provider_config().unwrap().http;
        let cert = http.client_certificate.unwrap();
        assert_eq!(cert.cert_file, std::path::Path::new("/etc/duo/client.crt"));
        assert_eq!(
            cert.key_file.as_deref(),
            Some(std::path::Path::new("/etc/duo/client.key"))
        );
        assert_eq!(cert.key_password.unwrap().expose(), "s3cret-key-pass");
        assert_eq!(
            http.ca_bundle.as_deref(),
            Some(std::path::Path::new("/etc/duo/models-ca.pem"))
        );
        assert!(!http.verify_server_certificates);
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn disabled_means_untouched_and_enabled_needs_a_certificate() {
        let c = load_with(
            "",
            &[
                ("SSL_CERT_FILE", ""),
                ("AIGW_MTLS__CERT_FILE", "/etc/duo/client.crt"),
                ("AIGW_MTLS__VERIFY", "false"),
            ],
        )
        .unwrap();
        let http = c.provider_config().unwrap().http;
        assert_eq!(http.client_certificate, None);
        assert!(
            http.verify_server_certificates,
            "VERIFY applies only with mTLS on"
        );

        let c = load_with("", &[("AIGW_MTLS__ENABLED", "true")]).unwrap();
        let err = c.provider_config().unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid configuration: mtls.cert_file (AIGW_MTLS__CERT_FILE) is required when \
             mtls.enabled is true"
        );
    }
}
