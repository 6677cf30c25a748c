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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Config;

    #[allow(clippy::result_large_err)]
    fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, crate::config::ConfigError> {
        let mut out = None;
        figment::Jail::expect_with(|jail| {
            jail.create_file("duo.toml", toml)?;
            for (k, v) in env {
                jail.set_env(k, v);
            }
            out = Some(Config::load(Some(Path::new("duo.toml"))));
            Ok(())
        });
        out.expect("the jail ran")
    }

    const TOML: &str = r#"
[openai_api]
api_keys = ["sk-plain-secret", { name = "ci-bot", key = "sk-named-secret" }]

[[openai_api.models]]
name = "codestral"
identifier = "custom_openai/Codestral-22B"
endpoint = "http://vllm:8000/v1"
api_key = "upstream-secret"
family = "codestral"

[[openai_api.models]]
name = "claude"
identifier = "bedrock/anthropic.claude-3"
"#;

    #[test]
    fn the_section_reads_from_toml_and_env() {
        let c = load(
            TOML,
            &[
                ("AIGW_OPENAI_API__ENABLED", "true"),
                ("AIGW_OPENAI_API__API_KEYS_FILE", "/etc/duo/keys"),
            ],
        )
        .unwrap();
        let api = &c.openai_api;
        assert!(api.enabled);
        assert_eq!(api.api_keys.len(), 2);
        assert_eq!(
            api.api_keys_file.as_deref(),
            Some(Path::new("/etc/duo/keys"))
        );
        assert_eq!(api.models[1].identifier, "bedrock/anthropic.claude-3");
        assert_eq!(api.models[0].family.as_deref(), Some("codestral"));
        let debug = format!("{c:?}");
        for secret in ["sk-plain-secret", "sk-named-secret", "upstream-secret"] {
            assert!(!debug.contains(secret), "{secret} printed");
        }
        assert!(debug.contains("ci-bot"));
        assert!(!load("", &[]).unwrap().openai_api.enabled, "off by default");
    }

    #[test]
    fn validation_runs_with_the_rest_of_the_config() {
        let c = load(TOML, &[("AIGW_OPENAI_API__ENABLED", "true")]).unwrap();
        c.validate().unwrap();
        let bad = TOML.replace("custom_openai/Codestral-22B", "vertex_ai/gemini");
        let c = load(&bad, &[("AIGW_OPENAI_API__ENABLED", "true")]).unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("openai_api.models[0].identifier"), "{err}");
        // disabled: the section is not checked (nor its files and variables read)
        load(&bad, &[]).unwrap().validate().unwrap();
        let err = load("[[openai_api.models]]\nnme = \"x\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("nme"), "{err}");
    }
}
