//! The models of the OpenAI-compatible API: `openai_api.models` resolved at start into
//! [`ModelEndpoint`]s (upstream keys read from the config, the environment or a file).

use std::collections::HashMap;

use duo_core::{EndpointSource, ModelEndpoint, ModelFamily, ModelIdentifier, ProviderKind, Secret};

use crate::ConfigError;
use crate::config::OpenAiModelConfig;

/// One model clients may call.
#[derive(Debug, Clone)]
pub(crate) struct OpenAiModel {
    /// The id clients send and see.
    pub name: String,
    /// Where and how it is served.
    pub endpoint: ModelEndpoint,
}

/// The configured models, in configuration order, with a lookup by name.
#[derive(Debug, Default)]
pub(crate) struct Models {
    list: Vec<OpenAiModel>,
    by_name: HashMap<String, usize>,
}

impl Models {
    /// Resolves `openai_api.models`.
    ///
    /// # Errors
    /// The first invalid entry, naming its key (e.g. `openai_api.models[1].identifier`).
    pub(crate) fn resolve(configs: &[OpenAiModelConfig]) -> Result<Self, ConfigError> {
        let mut models = Self::default();
        for (i, config) in configs.iter().enumerate() {
            let model = resolve_one(i, config)?;
            if let Some(first) = models.by_name.get(&model.name) {
                return Err(ConfigError(format!(
                    "openai_api.models[{i}].name: '{}' is already the name of models[{first}]",
                    model.name
                )));
            }
            models.by_name.insert(model.name.clone(), models.list.len());
            models.list.push(model);
        }
        Ok(models)
    }

    /// The model clients call `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&OpenAiModel> {
        self.by_name.get(name).and_then(|&i| self.list.get(i))
    }

    /// Every model, in configuration order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &OpenAiModel> {
        self.list.iter()
    }

    /// How many models are configured.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

fn resolve_one(i: usize, config: &OpenAiModelConfig) -> Result<OpenAiModel, ConfigError> {
    let key = |field: &str| format!("openai_api.models[{i}].{field}");
    let name = config.name.trim();
    if name.is_empty() {
        return Err(ConfigError(format!("{}: must not be empty", key("name"))));
    }
    let identifier = ModelIdentifier::parse(&config.identifier)
        .map_err(|e| ConfigError(format!("{}: {e}", key("identifier"))))?;
    let provider = identifier.provider();
    let family = config
        .family
        .as_deref()
        .map_or(ModelFamily::General, ModelFamily::parse);
    let mut endpoint = ModelEndpoint::new(identifier, family);
    match config.endpoint.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => {
            let parsed = url::Url::parse(url)
                .map_err(|e| ConfigError(format!("{} '{url}': {e}", key("endpoint"))))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError(format!(
                    "{} '{url}': must be an http or https URL",
                    key("endpoint")
                )));
            }
            endpoint = endpoint.with_base_url(url);
        }
        _ if provider.endpoint_source() == EndpointSource::Request => {
            return Err(ConfigError(format!(
                "{}: required for {} models (the {})",
                key("endpoint"),
                config.identifier.trim(),
                match provider {
                    ProviderKind::AzureOpenAi => "Azure OpenAI resource URL",
                    ProviderKind::OpenAiCompatible
                    | ProviderKind::Bedrock
                    | ProviderKind::Anthropic
                    | ProviderKind::OpenAi
                    | ProviderKind::VertexAi => "server's /v1 base URL",
                }
            )));
        }
        _ => {}
    }
    if let Some(secret) = upstream_key(i, config)? {
        if provider.endpoint_source() == EndpointSource::Operator {
            let (platform, section) = match provider {
                ProviderKind::VertexAi => ("Vertex AI", "providers.vertex"),
                _ => ("Bedrock", "providers.bedrock"),
            };
            return Err(ConfigError(format!(
                "openai_api.models[{i}]: {platform} models take no api_key; they use the \
                 {section} credentials"
            )));
        }
        endpoint = endpoint.with_api_key(secret);
    }
    Ok(OpenAiModel {
        name: name.to_owned(),
        endpoint,
    })
}

/// The upstream key from `api_key`, `api_key_env` or `api_key_file` (at most one may be set).
fn upstream_key(i: usize, config: &OpenAiModelConfig) -> Result<Option<Secret>, ConfigError> {
    let sources = [
        config.api_key.is_some(),
        config.api_key_env.is_some(),
        config.api_key_file.is_some(),
    ];
    if sources.iter().filter(|set| **set).count() > 1 {
        return Err(ConfigError(format!(
            "openai_api.models[{i}]: set at most one of api_key, api_key_env, api_key_file"
        )));
    }
    if let Some(var) = &config.api_key_env {
        let value = std::env::var(var).unwrap_or_default();
        if value.trim().is_empty() {
            return Err(ConfigError(format!(
                "openai_api.models[{i}].api_key_env: the environment variable '{var}' is not set"
            )));
        }
        return Ok(Some(Secret::new(value.trim())));
    }
    if let Some(path) = &config.api_key_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "openai_api.models[{i}].api_key_file '{}': {e}",
                path.display()
            ))
        })?;
        if text.trim().is_empty() {
            return Err(ConfigError(format!(
                "openai_api.models[{i}].api_key_file '{}' is empty",
                path.display()
            )));
        }
        return Ok(Some(Secret::new(text.trim())));
    }
    Ok(config.api_key.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, identifier: &str, endpoint: Option<&str>) -> OpenAiModelConfig {
        OpenAiModelConfig {
            name: name.into(),
            identifier: identifier.into(),
            endpoint: endpoint.map(Into::into),
            api_key: None,
            api_key_env: None,
            api_key_file: None,
            family: None,
        }
    }

    fn err(configs: &[OpenAiModelConfig]) -> String {
        Models::resolve(configs).unwrap_err().to_string()
    }

    #[test]
    fn models_resolve_to_endpoints_in_order() {
        let mut azure = model("gpt", "azure/gpt-4o", Some("https://r.openai.azure.com/"));
        azure.api_key = Some(Secret::new("az-key"));
        azure.family = Some("gpt".into());
        let models = Models::resolve(&[
            model(
                "mistral",
                "custom_openai/Mistral-7B",
                Some("http://vllm:8000/v1"),
            ),
            azure,
            model("claude", "bedrock/anthropic.claude-3", None),
        ])
        .unwrap();
        let names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["mistral", "gpt", "claude"]);
        let gpt = &models.get("gpt").unwrap().endpoint;
        assert_eq!(gpt.provider(), ProviderKind::AzureOpenAi);
        assert_eq!(gpt.base_url(), Some("https://r.openai.azure.com"));
        assert_eq!(gpt.api_key().map(Secret::expose), Some("az-key"));
        assert_eq!(gpt.family(), &ModelFamily::Gpt);
        let claude = &models.get("claude").unwrap().endpoint;
        assert_eq!(claude.base_url(), None);
        assert_eq!(claude.family(), &ModelFamily::General);
        assert!(models.get("Mistral").is_none());
    }

    #[test]
    fn invalid_entries_name_their_key() {
        let e = err(&[model("a", "watsonx/granite", Some("http://h/v1"))]);
        assert!(e.contains("openai_api.models[0].identifier"), "{e}");
        let mut keyed = model("g", "vertex_ai/gemini-2.5-pro", None);
        keyed.api_key = Some(Secret::new("not-for-vertex"));
        let e = err(&[keyed]);
        assert!(
            e.contains(
                "Vertex AI models take no api_key; they use the providers.vertex credentials"
            ),
            "{e}"
        );
        let e = err(&[
            model("a", "custom_openai/m", Some("http://h/v1")),
            model("b", "azure/d", None),
        ]);
        assert!(e.contains("openai_api.models[1].endpoint: required"), "{e}");
        let e = err(&[model("a", "m", Some("ftp://h"))]);
        assert!(e.contains("openai_api.models[0].endpoint"), "{e}");
        let e = err(&[
            model("a", "m", Some("http://h/v1")),
            model("a", "n", Some("http://h/v1")),
        ]);
        assert!(e.contains("openai_api.models[1].name"), "{e}");
        assert!(e.contains("models[0]"), "{e}");
        let e = err(&[model(" ", "m", Some("http://h/v1"))]);
        assert!(e.contains("openai_api.models[0].name"), "{e}");
    }

    #[test]
    fn upstream_keys_come_from_one_source() {
        let mut m = model("a", "m", Some("http://h/v1"));
        m.api_key = Some(Secret::new("x"));
        m.api_key_env = Some("DUO_TEST_UNSET_VAR_FOR_KEYS".into());
        assert!(err(&[m.clone()]).contains("at most one"));
        m.api_key = None;
        let mut from_env = m.clone();
        from_env.api_key_env = Some("CARGO_PKG_NAME".into()); // set by cargo for its tests
        let models = Models::resolve(&[from_env]).unwrap();
        let key = models.get("a").unwrap().endpoint.api_key().cloned();
        assert_eq!(
            key.as_ref().map(Secret::expose),
            Some(env!("CARGO_PKG_NAME"))
        );
        let e = err(&[m.clone()]);
        assert!(e.contains("openai_api.models[0].api_key_env"), "{e}");
        assert!(e.contains("DUO_TEST_UNSET_VAR_FOR_KEYS"), "{e}");
        m.api_key_env = None;
        m.api_key_file = Some("/nonexistent/duo/key".into());
        let e = err(&[m.clone()]);
        assert!(e.contains("openai_api.models[0].api_key_file"), "{e}");
        let path = std::env::temp_dir().join(format!("duo-key-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, "  file-key\n").unwrap();
        m.api_key_file = Some(path.clone());
        let models = Models::resolve(&[m]).unwrap();
        let key = models.get("a").unwrap().endpoint.api_key().cloned();
        assert_eq!(key.as_ref().map(Secret::expose), Some("file-key"));
        std::fs::remove_file(path).unwrap();
        let mut b = model("b", "bedrock/x", None);
        b.api_key = Some(Secret::new("k"));
        assert!(err(&[b]).contains("providers.bedrock"));
    }
}
