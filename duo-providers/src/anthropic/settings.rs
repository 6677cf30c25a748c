//! [`AnthropicSettings`]: the operator's Anthropic endpoint, key and defaults
//! (`[providers.anthropic]`).

use duo_core::{Error, Secret};
use serde::Deserialize;

/// The environment variable the operator's key is read from when `api_key` is unset, as
/// GitLab's gateway reads it.
pub const API_KEY_ENV: &str = "ANTHROPIC_API_KEY";

/// Anthropic's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The operator's side of Anthropic models: where and with which key a request that names no
/// endpoint is served. A request that names its own endpoint is served with its own key only.
///
/// ```
/// let s: duo_providers::anthropic::AnthropicSettings =
///     toml::from_str("base_url = \"http://llm-proxy:8080\"\ndefault_max_tokens = 1024").unwrap();
/// assert_eq!(s.version, "2023-06-01");
/// assert_eq!(s.default_max_tokens, 1024);
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnthropicSettings {
    /// Where requests without their own endpoint go (default `https://api.anthropic.com`; the
    /// client appends `/v1/messages`).
    pub base_url: String,
    /// The operator's key for those requests; unset: `ANTHROPIC_API_KEY` from the environment.
    pub api_key: Option<Secret>,
    /// The `anthropic-version` header (default `2023-06-01`).
    pub version: String,
    /// `max_tokens` when a prompt sets none: the API requires one (default 4096).
    pub default_max_tokens: u32,
}

impl Default for AnthropicSettings {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            version: "2023-06-01".to_owned(),
            default_max_tokens: 4096,
        }
    }
}

impl AnthropicSettings {
    /// The operator's key: `api_key`, else a non-empty `ANTHROPIC_API_KEY`.
    #[must_use]
    pub fn operator_key(&self) -> Option<Secret> {
        crate::endpoint_url::operator_key(self.api_key.as_ref(), API_KEY_ENV)
    }

    /// Checks what start-up would otherwise find on the first request.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting: a base URL that is not http(s), an empty version,
    /// a zero `default_max_tokens`.
    pub fn validate(&self) -> Result<(), Error> {
        crate::endpoint_url::parse_base_url(Some(&self.base_url), "Anthropic")
            .map_err(|e| Error::Config(format!("anthropic.base_url: {e}")))?;
        if self.version.trim().is_empty() {
            return Err(Error::Config("anthropic.version: must not be empty".into()));
        }
        if self.default_max_tokens == 0 {
            return Err(Error::Config(
                "anthropic.default_max_tokens: must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
