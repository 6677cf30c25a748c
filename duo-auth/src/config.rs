//! [`AuthConfig`]: the settings of bearer-token authentication, and [`AuthConfigError`].

use duo_core::Secret;
use serde::Deserialize;

/// The `aud` every accepted token must carry, and the issuer of tokens the gateway signs itself.
pub const DEFAULT_AUDIENCE: &str = "gitlab-ai-gateway";

/// Issuer (`iss`) of the tokens the gateway signs itself (`/v1/code/user_access_token`).
pub const SELF_ISSUER: &str = "gitlab-ai-gateway";

/// How the gateway authenticates its callers; the `[auth]` table of the gateway's TOML config.
///
/// Environment names the gateway maps onto these fields (see `AUTH.md`): `AIGW_GITLAB_URL`,
/// `AIGW_CUSTOMER_PORTAL_URL`, `AIGW_AUTH__BYPASS_EXTERNAL`, `AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER`,
/// `AIGW_AUTH__BYPASS_JWT_SIGNATURE`, `AIGW_SELF_SIGNED_JWT__SIGNING_KEY`,
/// `AIGW_SELF_SIGNED_JWT__VALIDATION_KEY`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// OIDC issuer URL of the GitLab instance whose tokens are accepted (`AIGW_GITLAB_URL`).
    pub gitlab_url: Option<String>,
    /// Optional second OIDC issuer (`AIGW_CUSTOMER_PORTAL_URL`).
    pub customer_portal_url: Option<String>,
    /// Accept every request as a debug caller with all scopes (`AIGW_AUTH__BYPASS_EXTERNAL`). Never in production.
    pub bypass_external: bool,
    /// Accept requests carrying `Bypass-Auth: true` as a debug caller (`AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER`). Dev/test only.
    pub bypass_external_with_header: bool,
    /// Parse tokens without checking their signature (`AIGW_AUTH__BYPASS_JWT_SIGNATURE`). Dev only.
    pub bypass_jwt_signature: bool,
    /// The audience (`aud`) a token must contain; default `gitlab-ai-gateway`.
    pub audience: String,
    /// How long a fetched JWKS is trusted before it is fetched again, in seconds (default 86400).
    pub jwks_cache_ttl_s: u64,
    /// Least time between two JWKS refreshes for an unknown `kid` (a budget the first fetch and TTL refreshes do not spend), and between retries after a failed fetch, in seconds (default 10).
    pub jwks_min_refresh_interval_s: u64,
    /// Timeout of one issuer's key fetch (discovery and JWKS together), in seconds (default 10; 0 counts as 1).
    pub jwks_fetch_timeout_s: u64,
    /// Allowed clock skew for `exp`/`nbf`, in seconds (default 30).
    pub leeway_s: u64,
    /// RSA private key (PEM, PKCS#1 or PKCS#8) the gateway signs its own tokens with (`AIGW_SELF_SIGNED_JWT__SIGNING_KEY`); unset: an ephemeral key generated at start (this process only).
    pub signing_key: Option<Secret>,
    /// The previous signing key, still accepted during a rotation (`AIGW_SELF_SIGNED_JWT__VALIDATION_KEY`).
    pub validation_key: Option<Secret>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            gitlab_url: None,
            customer_portal_url: None,
            bypass_external: false,
            bypass_external_with_header: false,
            bypass_jwt_signature: false,
            audience: DEFAULT_AUDIENCE.to_owned(),
            jwks_cache_ttl_s: 86_400,
            jwks_min_refresh_interval_s: 10,
            jwks_fetch_timeout_s: 10,
            leeway_s: 30,
            signing_key: None,
            validation_key: None,
        }
    }
}

impl AuthConfig {
    /// The configured OIDC issuers, as `(name, base URL)`, empty entries skipped.
    pub(crate) fn oidc_issuers(&self) -> Vec<(&'static str, String)> {
        [
            ("gitlab_url", self.gitlab_url.as_deref()),
            ("customer_portal_url", self.customer_portal_url.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, url)| {
            let url = url?.trim().trim_end_matches('/');
            (!url.is_empty()).then(|| (name, url.to_owned()))
        })
        .collect()
    }
}

/// A setting of [`AuthConfig`] that cannot be used; the message names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthConfigError {
    /// A key setting holds no usable RSA private key.
    #[error("auth.{key}: {reason}")]
    InvalidKey {
        /// The setting, e.g. `signing_key` (`AIGW_SELF_SIGNED_JWT__SIGNING_KEY`).
        key: &'static str,
        /// Why it was rejected (never the key material).
        reason: String,
    },
    /// An issuer URL is not an absolute http(s) URL.
    #[error("auth.{key}: '{url}' is not an http(s) URL")]
    InvalidUrl {
        /// The setting, e.g. `gitlab_url` (`AIGW_GITLAB_URL`).
        key: &'static str,
        /// The value as given.
        url: String,
    },
    /// Another setting holds an unusable value.
    #[error("auth.{key}: {reason}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}
