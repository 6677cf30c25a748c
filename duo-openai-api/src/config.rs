//! `[openai_api]`: the settings of the OpenAI-compatible API, as the operator writes them.
//!
//! ```toml
//! [openai_api]
//! enabled = true
//! api_keys = ["sk-team-a", { name = "ci-bot", key = "sk-ci" }]
//! api_keys_file = "/etc/duo/openai-keys"   # one key per line, or "<name> <key>"
//!
//! [[openai_api.models]]
//! name = "codestral"                        # the model id clients send
//! identifier = "custom_openai/Codestral-22B-v0.1"
//! endpoint = "http://vllm:8000/v1"
//! api_key_env = "VLLM_API_KEY"              # or api_key = "…", or api_key_file = "/run/secrets/…"
//! family = "codestral"                      # optional, for logs and metric labels
//! ```

use std::path::PathBuf;

use duo_core::Secret;
use serde::Deserialize;

/// `[openai_api]`: an OpenAI-compatible API (`/v1/models`, `/v1/chat/completions`,
/// `/v1/completions`) over models the operator names, for tools that speak OpenAI's protocol.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenAiApiConfig {
    /// Serve the API (`AIGW_OPENAI_API__ENABLED`); off by default.
    pub enabled: bool,
    /// The keys clients send as `Authorization: Bearer <key>`, each a string or `{name, key}`.
    pub api_keys: Vec<ClientKeyEntry>,
    /// A file of client keys, one per line (`<key>` or `<name> <key>`; `#` starts a comment).
    pub api_keys_file: Option<PathBuf>,
    /// The models clients may call, by the name they use.
    pub models: Vec<OpenAiModelConfig>,
}

/// One client key in `openai_api.api_keys`: the key alone, or with a name for the logs.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub enum ClientKeyEntry {
    /// Just the key.
    Plain(Secret),
    /// A key with the client's name.
    Named {
        /// Who uses this key (logged instead of the key).
        name: String,
        /// The key.
        key: Secret,
    },
}

impl std::fmt::Debug for ClientKeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plain(key) => f.debug_tuple("Plain").field(key).finish(),
            Self::Named { name, key } => f
                .debug_struct("Named")
                .field("name", name)
                .field("key", key)
                .finish(),
        }
    }
}

/// One model in `openai_api.models`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiModelConfig {
    /// The model id clients send in `model` and see in `GET /v1/models`.
    pub name: String,
    /// How to reach it, as GitLab names models: `custom_openai/…`, `bedrock/…` or `azure/…`.
    pub identifier: String,
    /// The serving endpoint: the `/v1` base URL for vLLM, the resource URL for Azure; for Bedrock
    /// an optional endpoint override.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The upstream's API key, inline.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// The environment variable holding the upstream's API key (read at start).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// A file holding the upstream's API key (read at start; surrounding whitespace trimmed).
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    /// The model family key (e.g. `mistral`), for logs and metric labels only.
    #[serde(default)]
    pub family: Option<String>,
}
