//! GitLab's settings that shape every model call: extra headers for self-hosted endpoints
//! (`AIGW_CUSTOM_MODELS__EXTRA_HEADERS`), Duo Chat's token cap (`AIGW_DUO_CHAT__MAX_TOKENS`)
//! and Bedrock's guardrail (`AIGW_BEDROCK_GUARDRAIL_CONFIG`, a [`JsonSetting`]).

use std::collections::BTreeMap;
use std::fmt;

use duo_core::Secret;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// `custom_models.extra_headers`: a table of header names to values in TOML, or (as GitLab's
/// `AIGW_CUSTOM_MODELS__EXTRA_HEADERS` holds it) a JSON object in a string. Values never print.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExtraHeadersConfig(pub BTreeMap<String, Secret>);

impl fmt::Debug for ExtraHeadersConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, duo_core::REDACTED)))
            .finish()
    }
}

impl ExtraHeadersConfig {
    /// The headers as the providers take them.
    ///
    /// # Errors
    /// A bad header, naming it (never its value).
    pub fn headers(&self) -> Result<duo_providers::ExtraHeaders, duo_core::Error> {
        duo_providers::ExtraHeaders::new(self.0.iter().map(|(k, v)| (k.as_str(), v)))
    }
}

impl<'de> Deserialize<'de> for ExtraHeadersConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Headers;

        impl<'de> Visitor<'de> for Headers {
            type Value = ExtraHeadersConfig;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of header names to string values, or a JSON object of them")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                if text.trim().is_empty() {
                    return Ok(ExtraHeadersConfig::default());
                }
                // Parsed without quoting the text back: the values are secrets.
                let map: BTreeMap<String, String> = serde_json::from_str(text).map_err(|e| {
                    E::custom(format!(
                        "not a JSON object of header names to strings ({:?} error at column {})",
                        e.classify(),
                        e.column()
                    ))
                })?;
                Ok(ExtraHeadersConfig(
                    map.into_iter().map(|(k, v)| (k, Secret::new(v))).collect(),
                ))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = BTreeMap::new();
                while let Some((k, v)) = access.next_entry::<String, String>()? {
                    map.insert(k, Secret::new(v));
                }
                Ok(ExtraHeadersConfig(map))
            }
        }

        deserializer.deserialize_any(Headers)
    }
}

/// A setting GitLab's gateway reads as JSON text from the environment
/// (`AIGW_BEDROCK_GUARDRAIL_CONFIG='{"guardrailIdentifier": …}'`), also accepted as a TOML table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum JsonSetting {
    /// JSON text.
    Text(String),
    /// A table, as TOML (or the environment loader) gave it.
    Table(serde_json::Value),
}

impl JsonSetting {
    /// The setting as JSON text.
    #[must_use]
    pub fn json(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Table(value) => value.to_string(),
        }
    }
}

/// `[duo_chat]`, as GitLab's gateway names it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DuoChatConfig {
    /// Overrides the max tokens of every Duo Chat prompt (the `chat/*` prompts and the chat
    /// agent) (`AIGW_DUO_CHAT__MAX_TOKENS`).
    pub max_tokens: Option<u32>,
}

impl DuoChatConfig {
    /// `request` with `max_tokens` replaced when `prompt_id` is a Duo Chat prompt (`chat/…`)
    /// and a cap is set.
    pub fn apply(&self, prompt_id: &str, request: &mut duo_core::ModelRequest) {
        if let Some(n) = self.max_tokens
            && prompt_id.starts_with("chat/")
        {
            request.params.max_tokens = Some(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail returns its own large error
    fn gitlabs_guardrail_variable_is_read_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "AIGW_BEDROCK_GUARDRAIL_CONFIG_JSON",
                r#"{"guardrailIdentifier": "gr1abc", "guardrailVersion": "DRAFT"}"#,
            );
            jail.set_env("AIGW_DUO_CHAT__MAX_TOKENS", "512");
            let config = crate::Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.duo_chat.max_tokens, Some(512));
            let providers = config.provider_config().map_err(|e| e.to_string())?;
            let guardrail = providers.bedrock.guardrail.expect("read from the variable");
            assert_eq!(guardrail.identifier.as_deref(), Some("gr1abc"));
            assert_eq!(guardrail.version.as_deref(), Some("DRAFT"));
            Ok(())
        });
    }

    #[test]
    fn the_chat_cap_applies_to_chat_prompts_only() {
        let cap = DuoChatConfig {
            max_tokens: Some(77),
        };
        let mut chat = duo_core::ModelRequest::new(duo_core::Prompt::Text("x".into()));
        cap.apply("chat/explain_code", &mut chat);
        assert_eq!(chat.params.max_tokens, Some(77));
        let mut other = duo_core::ModelRequest::new(duo_core::Prompt::Text("x".into()));
        cap.apply("generate_commit_message", &mut other);
        assert_eq!(other.params.max_tokens, None);
        DuoChatConfig::default().apply("chat/react", &mut other);
        assert_eq!(other.params.max_tokens, None);
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail returns its own large error
    fn headers_come_as_a_json_string_from_the_environment_or_a_table_and_never_print() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "AIGW_CUSTOM_MODELS__EXTRA_HEADERS",
                r#"{"Ocp-Apim-Subscription-Key": "k-123"}"#,
            );
            let from_env = crate::Config::load(None).map_err(|e| e.to_string())?;
            jail.clear_env();
            jail.create_file(
                "duo.toml",
                "[custom_models.extra_headers]\n\"Ocp-Apim-Subscription-Key\" = \"k-123\"\n",
            )?;
            let from_file = crate::Config::load(Some(std::path::Path::new("duo.toml")))
                .map_err(|e| e.to_string())?;
            let (env, file) = (
                from_env.custom_models.extra_headers,
                from_file.custom_models.extra_headers,
            );
            assert_eq!(env, file);
            assert!(!format!("{env:?}").contains("k-123"));
            assert_eq!(
                env.headers().unwrap().names().collect::<Vec<_>>(),
                ["ocp-apim-subscription-key"]
            );
            jail.set_env(
                "AIGW_CUSTOM_MODELS__EXTRA_HEADERS",
                r#"{"X-Key": "secret-value-0""#,
            );
            let err = crate::Config::load(None).unwrap_err().to_string();
            assert!(err.contains("not a JSON object"), "{err}");
            assert!(!err.contains("secret-value-0"), "{err}");
            Ok(())
        });
    }
}
