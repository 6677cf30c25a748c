//! [`Config`]: the gateway's one typed configuration.
//!
//! Layers, later ones winning: built-in defaults → a TOML file (`--config`) → `AIGW_*` environment
//! variables (`__` separates nesting levels, as GitLab's gateway reads them: `AIGW_FASTAPI__API_PORT`
//! is `fastapi.api_port`) → command-line flags. A bad value fails at start with a message naming
//! the key.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use duo_core::Secret;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

use duo_auth::AuthConfig;

mod gitlab_env;
mod google;
mod model_calls;
mod mtls;
mod server;
mod settings;
mod settings_providers;
mod settings_render;
pub use crate::readiness::{ProbeModel, ReadinessConfig};
pub use google::{GoogleCloudPlatformConfig, VertexTextModelConfig, with_gitlab_names};
pub use model_calls::{DuoChatConfig, ExtraHeadersConfig, JsonSetting};
pub use mtls::MtlsConfig;
pub use server::{ServerConfig, TlsConfig};
pub use settings_render::{env_name, settings_help, settings_markdown};

/// The gateway's whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listener settings (`[fastapi]`, named after GitLab's gateway).
    pub fastapi: ServerConfig,
    /// Logging (`[logging]`, `AIGW_LOGGING__*`).
    pub logging: duo_logging::LoggingConfig,
    /// The GitLab instance whose OIDC keys sign callers' tokens (`AIGW_GITLAB_URL`).
    pub gitlab_url: Option<String>,
    /// CustomersDot URL, a second OIDC issuer (`AIGW_CUSTOMER_PORTAL_URL`); unused offline.
    pub customer_portal_url: Option<String>,
    /// Authentication switches (`[auth]`, `AIGW_AUTH__*`).
    pub auth: AuthSwitches,
    /// Keys for tokens the gateway signs itself (`[self_signed_jwt]`, `AIGW_SELF_SIGNED_JWT__*`).
    pub self_signed_jwt: SelfSignedJwt,
    /// Self-hosted ("custom") model settings (`[custom_models]`, `AIGW_CUSTOM_MODELS__*`).
    pub custom_models: CustomModelsConfig,
    /// Upstream clients: timeouts, retries, each platform's settings (`[providers]`).
    pub providers: duo_providers::ProviderConfig,
    /// Client certificates toward model servers under GitLab's names (`[mtls]`,
    /// `AIGW_MTLS__*`), applied to `providers.http`.
    pub mtls: MtlsConfig,
    /// Vertex AI's project, location and key under GitLab's names (`[google_cloud_platform]`,
    /// `AIGW_GOOGLE_CLOUD_PLATFORM__*`); `[providers.vertex]` wins where both are set.
    pub google_cloud_platform: GoogleCloudPlatformConfig,
    /// Vertex AI's location and endpoint under GitLab's names (`[vertex_text_model]`,
    /// `AIGW_VERTEX_TEXT_MODEL__*`).
    pub vertex_text_model: VertexTextModelConfig,
    /// Duo Chat's settings (`[duo_chat]`, `AIGW_DUO_CHAT__*`).
    pub duo_chat: DuoChatConfig,
    /// Bedrock's guardrail as GitLab's gateway reads it (`AIGW_BEDROCK_GUARDRAIL_CONFIG`, JSON
    /// `{"guardrailIdentifier", "guardrailVersion", "trace"}`); `providers.bedrock.guardrail`
    /// wins when both are set.
    pub bedrock_guardrail_config: Option<JsonSetting>,
    /// The same, under the other name GitLab's gateway reads
    /// (`AIGW_BEDROCK_GUARDRAIL_CONFIG_JSON`).
    pub bedrock_guardrail_config_json: Option<JsonSetting>,
    /// Prompt definitions (`[prompts]`).
    pub prompts: PromptsConfig,
    /// Readiness probes (`[readiness]`).
    pub readiness: ReadinessConfig,
    /// The documentation index of Duo Chat's documentation questions (`[docs_search]`,
    /// `AIGW_DOCS_SEARCH__*`).
    pub docs_search: duo_docs_search::DocsSearchConfig,
    /// The OpenAI-compatible API (`[openai_api]`, `AIGW_OPENAI_API__*`; Cargo feature `openai-api`).
    #[cfg(feature = "openai-api")]
    pub openai_api: duo_openai_api::OpenAiApiConfig,
}

/// `[auth]` switches, named as in GitLab's gateway.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSwitches {
    /// Accept every request without a token (`AIGW_AUTH__BYPASS_EXTERNAL`). Development only.
    pub bypass_external: bool,
    /// Accept requests carrying `Bypass-Auth: true` (`AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER`). Development only.
    pub bypass_external_with_header: bool,
    /// Skip JWT signature checks (`AIGW_AUTH__BYPASS_JWT_SIGNATURE`). Development only.
    pub bypass_jwt_signature: bool,
    /// The audience tokens must carry (`AIGW_AUTH__AUDIENCE`), `gitlab-ai-gateway` by default.
    pub audience: Option<String>,
    /// How long fetched OIDC keys are trusted, in seconds (`AIGW_AUTH__JWKS_CACHE_TTL_S`, 86400).
    pub jwks_cache_ttl_s: Option<u64>,
    /// Least time between key refetches for unknown `kid`s and between retries after a failure,
    /// in seconds (`AIGW_AUTH__JWKS_MIN_REFRESH_INTERVAL_S`, 10).
    pub jwks_min_refresh_interval_s: Option<u64>,
    /// Timeout of one issuer's key fetch, in seconds (`AIGW_AUTH__JWKS_FETCH_TIMEOUT_S`, 10).
    pub jwks_fetch_timeout_s: Option<u64>,
    /// Allowed clock skew for `exp`/`nbf`, in seconds (`AIGW_AUTH__LEEWAY_S`, 30).
    pub leeway_s: Option<u64>,
}

/// `[self_signed_jwt]`: RSA private keys (PEM) for tokens the gateway issues.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfSignedJwt {
    /// The current signing key (`AIGW_SELF_SIGNED_JWT__SIGNING_KEY`); unset: an ephemeral key generated at start.
    pub signing_key: Option<Secret>,
    /// The previous key, still accepted during rotation (`AIGW_SELF_SIGNED_JWT__VALIDATION_KEY`).
    pub validation_key: Option<Secret>,
}

/// `[custom_models]`: what callers may ask of self-hosted models.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CustomModelsConfig {
    /// Honour model endpoints sent in requests (`AIGW_CUSTOM_MODELS__ENABLED`). GitLab's
    /// self-hosted setup requires it.
    pub enabled: bool,
    /// Let the egress policy connect to link-local and cloud-metadata addresses
    /// (`169.254.0.0/16`, `fe80::/10`, `fd00:ec2::254`, `metadata.google.internal`, …, also when
    /// a host name resolves to one). Off: they are refused, for every model and OIDC fetch.
    pub allow_link_local_endpoints: bool,
    /// Endpoint origins (scheme, host and port, compared exactly) requests may name even when
    /// `enabled` is false; paths are ignored, user info is refused.
    pub allowed_endpoints: Vec<String>,
    /// Ask models for whole answers only, and hand each on as a stream of one piece
    /// (`AIGW_CUSTOM_MODELS__DISABLE_STREAMING`), on every GitLab route.
    pub disable_streaming: bool,
    /// Headers sent with every call to a model endpoint a request names (or one of
    /// `openai_api.models`), never to an operator default such as `api.anthropic.com`
    /// (`AIGW_CUSTOM_MODELS__EXTRA_HEADERS`, a JSON object); values never print.
    pub extra_headers: ExtraHeadersConfig,
}

/// `[prompts]`: where operator prompt definitions live.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptsConfig {
    /// A directory of definitions that override or add to the built-in ones.
    pub dir: Option<PathBuf>,
}

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Loads defaults, then `file` (if any), then `AIGW_*` environment variables.
    ///
    /// # Errors
    /// A file that cannot be read or parsed, or a value of the wrong type, naming the key.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("AIGW_")
                .filter(|key| {
                    SECTIONS.contains(&top_level(key.as_str()).as_str())
                        && !gitlab_env::is_ignored(key.as_str())
                })
                .split("__"),
        );
        let mut config = figment.extract::<Config>().map_err(|e| {
            let msgs: Vec<String> = e.into_iter().map(|e| describe(&e)).collect();
            ConfigError(msgs.join("; "))
        })?;
        if config.providers.http.ca_bundle.is_none() {
            config.providers.http.ca_bundle = gitlab_env::ca_bundle_from_env();
        }
        // unset: HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as GitLab's gateway (httpx) reads them
        config.providers.http.proxy = std::mem::take(&mut config.providers.http.proxy)
            .or_from_env()
            .map_err(|e| ConfigError(e.to_string()))?;
        Ok(config)
    }

    /// `AIGW_*` environment variables this gateway does not read (settings of GitLab's Python
    /// gateway that have no counterpart here), so start-up can warn about them.
    #[must_use]
    pub fn ignored_env_vars() -> Vec<String> {
        std::env::vars()
            .filter_map(|(k, _)| {
                let rest = k.strip_prefix("AIGW_")?;
                let ignored =
                    !SECTIONS.contains(&top_level(rest).as_str()) || gitlab_env::is_ignored(rest);
                ignored.then_some(k)
            })
            .collect()
    }

    /// The providers' settings with GitLab's mTLS and Vertex AI names applied
    /// ([`MtlsConfig::apply`], [`with_gitlab_names`]), GitLab's Bedrock guardrail variable, and
    /// the extra headers of `custom_models`.
    ///
    /// # Errors
    /// A bad extra header or guardrail, naming it.
    pub fn provider_config(&self) -> Result<duo_providers::ProviderConfig, ConfigError> {
        let mut providers = self.providers.clone();
        self.mtls.apply(&mut providers.http)?;
        providers.vertex = with_gitlab_names(
            providers.vertex,
            &self.google_cloud_platform,
            &self.vertex_text_model,
        );
        let gitlab_guardrail = [
            ("bedrock_guardrail_config", &self.bedrock_guardrail_config),
            (
                "bedrock_guardrail_config_json",
                &self.bedrock_guardrail_config_json,
            ),
        ]
        .into_iter()
        .find_map(|(key, setting)| setting.as_ref().map(|s| (key, s)));
        if let Some((key, setting)) = gitlab_guardrail
            && providers.bedrock.guardrail.is_none()
        {
            let guardrail = duo_providers::bedrock::GuardrailSettings::from_json(&setting.json())
                .map_err(|e| match e {
                duo_core::Error::Config(m) => ConfigError(format!("{key}: {m}")),
                other => ConfigError(format!("{key}: {other}")),
            })?;
            providers.bedrock.guardrail = Some(guardrail);
        }
        providers.extra_headers =
            self.custom_models
                .extra_headers
                .headers()
                .map_err(|e| match e {
                    duo_core::Error::Config(m) => ConfigError(format!("custom_models.{m}")),
                    other => ConfigError(format!("custom_models.extra_headers: {other}")),
                })?;
        Ok(providers)
    }

    /// Checks values types cannot express; every error names its key. With the OpenAI-compatible
    /// API enabled this resolves its settings too (key files and variables are read).
    ///
    /// # Errors
    /// The first invalid value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_values()?;
        #[cfg(feature = "openai-api")]
        duo_openai_api::OpenAiApi::from_config(&self.openai_api)
            .map_err(|e| ConfigError(e.to_string()))?;
        Ok(())
    }

    /// [`validate`](Self::validate) without the sections that start-up checks by building them
    /// (the OpenAI-compatible API), so that `AppState::new` reads their files once.
    pub(crate) fn validate_values(&self) -> Result<(), ConfigError> {
        self.fastapi.api_host.parse::<IpAddr>().map_err(|e| {
            ConfigError(format!("fastapi.api_host '{}': {e}", self.fastapi.api_host))
        })?;
        if self.fastapi.metrics_port != 0 {
            self.fastapi.metrics_host.parse::<IpAddr>().map_err(|e| {
                ConfigError(format!(
                    "fastapi.metrics_host '{}': {e}",
                    self.fastapi.metrics_host
                ))
            })?;
        }
        self.fastapi.validate()?;
        // TLS on the listener: the certificate and key files are read and must make a pair.
        crate::server::check_tls(&self.fastapi.tls)?;
        if self.fastapi.body_limit_bytes < 1024 {
            return Err(ConfigError(
                "fastapi.body_limit_bytes must be at least 1024".into(),
            ));
        }
        validate_allowed(&self.custom_models.allowed_endpoints).map_err(ConfigError)?;
        if let Some(url) = &self.gitlab_url {
            url::Url::parse(url).map_err(|e| ConfigError(format!("gitlab_url '{url}': {e}")))?;
        }
        self.logging
            .validate()
            .map_err(|e| ConfigError(format!("logging: {e}")))?;
        for (i, m) in self.readiness.models.iter().enumerate() {
            duo_core::ModelIdentifier::parse(&m.identifier)
                .map_err(|e| ConfigError(format!("readiness.models[{i}].identifier: {e}")))?;
        }
        if self.docs_search.connections == 0 {
            return Err(ConfigError(
                "docs_search.connections must be at least 1".into(),
            ));
        }
        if let Some(dir) = &self.prompts.dir
            && !dir.is_dir()
        {
            return Err(ConfigError(format!(
                "prompts.dir '{}' is not a directory",
                dir.display()
            )));
        }
        Ok(())
    }

    /// The authentication settings, assembled from the reference's separate sections.
    #[must_use]
    pub fn auth_config(&self) -> AuthConfig {
        let mut auth = AuthConfig {
            gitlab_url: self.gitlab_url.clone(),
            customer_portal_url: self.customer_portal_url.clone(),
            bypass_external: self.auth.bypass_external,
            bypass_external_with_header: self.auth.bypass_external_with_header,
            bypass_jwt_signature: self.auth.bypass_jwt_signature,
            signing_key: self.self_signed_jwt.signing_key.clone(),
            validation_key: self.self_signed_jwt.validation_key.clone(),
            ..AuthConfig::default()
        };
        let switches = &self.auth;
        if let Some(aud) = &switches.audience {
            auth.audience.clone_from(aud);
        }
        for (setting, value) in [
            (&mut auth.jwks_cache_ttl_s, switches.jwks_cache_ttl_s),
            (
                &mut auth.jwks_min_refresh_interval_s,
                switches.jwks_min_refresh_interval_s,
            ),
            (
                &mut auth.jwks_fetch_timeout_s,
                switches.jwks_fetch_timeout_s,
            ),
            (&mut auth.leeway_s, switches.leeway_s),
        ] {
            if let Some(value) = value {
                *setting = value;
            }
        }
        auth
    }

    /// How long running streams may take after a shutdown signal.
    #[must_use]
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.fastapi.shutdown_grace_s)
    }
}

/// Checks `custom_models.allowed_endpoints` at start: each entry an http(s) URL with a host and
/// no user info (only its scheme, host and port are compared).
///
/// # Errors
/// The first bad entry, by index.
fn validate_allowed(allowed: &[String]) -> Result<(), String> {
    for (i, entry) in allowed.iter().enumerate() {
        let bad = |why: &str| format!("custom_models.allowed_endpoints[{i}] '{entry}': {why}");
        let url = url::Url::parse(entry.trim()).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad("must be an http(s) URL with a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry user info"));
        }
    }
    Ok(())
}

/// The top-level keys of [`Config`]; other `AIGW_*` variables are ignored (with a warning).
const SECTIONS: &[&str] = &[
    "fastapi",
    "logging",
    "gitlab_url",
    "customer_portal_url",
    "auth",
    "self_signed_jwt",
    "custom_models",
    "providers",
    "mtls",
    "google_cloud_platform",
    "vertex_text_model",
    "duo_chat",
    "bedrock_guardrail_config",
    "bedrock_guardrail_config_json",
    "prompts",
    "readiness",
    "docs_search",
    "openai_api",
];

/// The first `__`-separated segment of an environment key, lower-cased.
fn top_level(key: &str) -> String {
    key.split("__")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn describe(e: &figment::Error) -> String {
    let key = e.path.join(".");
    let source = e
        .metadata
        .as_ref()
        .map(|m| match &m.source {
            Some(src) => format!(" (from {} {src})", m.name),
            None => format!(" (from {})", m.name),
        })
        .unwrap_or_default();
    if key.is_empty() {
        format!("{}{source}", e.kind)
    } else {
        format!("{key}: {}{source}", e.kind)
    }
}

#[cfg(all(test, feature = "openai-api"))]
mod openai_api_tests;
#[cfg(test)]
mod settings_tests;

#[cfg(test)]
#[path = "config/config_tests.rs"]
mod tests;
