//! [`ProviderConfig`]: everything the providers need from the operator, deserializable from the
//! gateway's TOML config.
//!
//! Every struct takes `#[serde(default)]`, so any subset of keys may be given. Durations are
//! humantime strings (`"30s"`, `"200ms"`, `"1m 30s"`) or bare numbers of seconds (`30`, `0.2`).
//! Unknown keys are refused, so a typo fails at start-up with the key's name.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::ResilienceConfig;

/// The providers' settings: resilience, HTTP client, OpenAI-compatible and Azure specifics, and
/// (with the `bedrock` feature) AWS.
///
/// ```
/// let config: duo_providers::ProviderConfig = toml::from_str(r#"
///     max_clients = 64
///     [resilience]
///     first_byte_timeout = "10s"
///     max_retries = 1
///     [azure]
///     api_version = "2024-06-01"
/// "#).unwrap();
/// assert_eq!(config.resilience.first_byte_timeout, std::time::Duration::from_secs(10));
/// assert_eq!(config.azure.api_version, "2024-06-01");
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// Timeouts and retries applied to every model call.
    pub resilience: ResilienceConfig,
    /// The shared HTTP client of the OpenAI-style providers.
    pub http: HttpSettings,
    /// vLLM / OpenAI-compatible specifics.
    pub openai: OpenAiSettings,
    /// Azure OpenAI specifics.
    pub azure: AzureSettings,
    /// How many model clients the [`Registry`](crate::Registry) keeps (least recently used ones
    /// are evicted beyond it). Default 256.
    pub max_clients: usize,
    /// AWS Bedrock: region, credentials, endpoint override.
    #[cfg(feature = "bedrock")]
    pub bedrock: crate::bedrock::BedrockSettings,
    /// Anthropic: the operator's base URL and key, the API version, the default `max_tokens`.
    #[cfg(feature = "anthropic")]
    pub anthropic: crate::anthropic::AnthropicSettings,
    /// Google Vertex AI: project, location, endpoint, credentials.
    #[cfg(feature = "vertex")]
    pub vertex: crate::vertex::VertexSettings,
    /// Where upstream connections may go (set in code: the gateway derives it from
    /// `custom_models.allow_link_local_endpoints`).
    #[serde(skip)]
    pub egress: crate::EgressPolicy,
    /// Headers sent to every model endpoint a request names (set in code: the gateway's
    /// `custom_models.extra_headers`).
    #[serde(skip)]
    pub extra_headers: crate::ExtraHeaders,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            resilience: ResilienceConfig::default(),
            http: HttpSettings::default(),
            openai: OpenAiSettings::default(),
            azure: AzureSettings::default(),
            max_clients: 256,
            #[cfg(feature = "bedrock")]
            bedrock: crate::bedrock::BedrockSettings::default(),
            #[cfg(feature = "anthropic")]
            anthropic: crate::anthropic::AnthropicSettings::default(),
            #[cfg(feature = "vertex")]
            vertex: crate::vertex::VertexSettings::default(),
            egress: crate::EgressPolicy::default(),
            extra_headers: crate::ExtraHeaders::default(),
        }
    }
}

/// Settings of the one pooled HTTP client shared by every OpenAI-style endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// How long an idle pooled connection is kept (default 90 s).
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub pool_idle_timeout: Duration,
    /// How many idle connections are kept per host (default 64).
    pub pool_max_idle_per_host: usize,
    /// TCP keep-alive interval; zero turns it off (default 60 s).
    #[serde(deserialize_with = "crate::duration::deserialize")]
    pub tcp_keepalive: Duration,
    /// The `User-Agent` sent upstream (default `duo-gateway/<version>`).
    pub user_agent: String,
    /// A PEM file of extra root certificates to trust (a private CA in front of the model servers).
    pub ca_bundle: Option<PathBuf>,
    /// The largest non-streamed answer read, in bytes (default 16 MiB); a larger one is an
    /// error, and its rest is never read.
    pub max_response_bytes: usize,
    /// The largest single SSE event of a stream, in bytes (default 1 MiB); a larger one ends
    /// the stream as an error, without buffering it.
    pub max_event_bytes: usize,
    /// Forward proxies for upstream requests (`[providers.http.proxy]`); unset: the
    /// environment's `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (see [`crate::proxy`]).
    pub proxy: crate::ProxySettings,
    /// The certificate presented to TLS servers that ask for one (mutual TLS); unset: none.
    pub client_certificate: Option<crate::ClientCertificate>,
    /// Whether servers' certificates are verified (default true). False accepts any
    /// certificate, even an attacker's: only for a test bench, never in production.
    pub verify_server_certificates: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 64,
            tcp_keepalive: Duration::from_secs(60),
            user_agent: concat!("duo-gateway/", env!("CARGO_PKG_VERSION")).to_owned(),
            ca_bundle: None,
            max_response_bytes: 16 << 20,
            max_event_bytes: 1 << 20,
            proxy: crate::ProxySettings::default(),
            client_certificate: None,
            verify_server_certificates: true,
        }
    }
}

/// vLLM / OpenAI-compatible specifics.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenAiSettings {
    /// The bearer token sent when an endpoint has no API key. GitLab's gateway sends the literal
    /// `dummy_key` (servers without auth ignore it; some proxies insist on an `Authorization`
    /// header), so that is the default; an empty string sends no `Authorization` header.
    pub placeholder_key: String,
    /// Where `openai/…` models without their own endpoint go (default
    /// `https://api.openai.com/v1`).
    pub base_url: String,
    /// The operator's OpenAI key for those requests only; unset: `OPENAI_API_KEY` from the
    /// environment. Never sent to an endpoint a request names.
    pub api_key: Option<duo_core::Secret>,
}

/// The environment variable the operator's OpenAI key is read from when `openai.api_key` is
/// unset, as GitLab's gateway reads it.
pub const OPENAI_API_KEY_ENV: &str = "OPENAI_API_KEY";

impl Default for OpenAiSettings {
    fn default() -> Self {
        Self {
            placeholder_key: "dummy_key".into(),
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
        }
    }
}

#[cfg(feature = "openai")]
impl OpenAiSettings {
    /// The operator's OpenAI key: `api_key`, else a non-empty `OPENAI_API_KEY`.
    #[must_use]
    pub fn operator_key(&self) -> Option<duo_core::Secret> {
        crate::endpoint_url::operator_key(self.api_key.as_ref(), OPENAI_API_KEY_ENV)
    }

    /// Checks the operator's base URL.
    ///
    /// # Errors
    /// [`duo_core::Error::Config`] naming `openai.base_url` when it is not an http(s) URL.
    pub fn validate(&self) -> Result<(), duo_core::Error> {
        crate::endpoint_url::parse_base_url(Some(self.base_url.trim()), "OpenAI")
            .map(|_| ())
            .map_err(|e| duo_core::Error::Config(format!("openai.base_url: {e}")))
    }
}

/// How requests to Azure OpenAI authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AzureAuth {
    /// The endpoint's key in an `api-key` header (Azure's key authentication).
    #[default]
    ApiKey,
    /// The endpoint's key as `Authorization: Bearer <key>` (a Microsoft Entra ID token).
    Bearer,
}

/// Azure OpenAI specifics.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AzureSettings {
    /// The `api-version` query parameter (default `2024-10-21`, a GA version).
    pub api_version: String,
    /// `api_key` (default) or `bearer`.
    pub auth: AzureAuth,
}

impl Default for AzureSettings {
    fn default() -> Self {
        Self {
            api_version: "2024-10-21".into(),
            auth: AzureAuth::ApiKey,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_gives_the_defaults() {
        let c: ProviderConfig = toml::from_str("").unwrap();
        assert_eq!(c.max_clients, 256);
        assert_eq!(c.openai.placeholder_key, "dummy_key");
        assert_eq!(c.azure.api_version, "2024-10-21");
        assert_eq!(c.azure.auth, AzureAuth::ApiKey);
        assert_eq!(c.http.pool_idle_timeout, Duration::from_secs(90));
        assert_eq!(c.resilience, ResilienceConfig::default());
    }

    #[test]
    fn durations_take_strings_or_seconds_and_typos_are_named() {
        let c: ProviderConfig = toml::from_str(
            "[http]\npool_idle_timeout = 5\ntcp_keepalive = \"1m\"\n[azure]\nauth = \"bearer\"",
        )
        .unwrap();
        assert_eq!(c.http.pool_idle_timeout, Duration::from_secs(5));
        assert_eq!(c.http.tcp_keepalive, Duration::from_secs(60));
        assert_eq!(c.azure.auth, AzureAuth::Bearer);
        let err = toml::from_str::<ProviderConfig>("[http]\npool_idle_timout = 5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pool_idle_timout"), "{err}");
        let err = toml::from_str::<ProviderConfig>("[http]\npool_idle_timeout = \"later\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid duration 'later'"), "{err}");
    }
}
