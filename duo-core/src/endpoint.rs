//! [`ModelEndpoint`]: everything needed to reach one model.

use crate::{ModelFamily, ModelIdentifier, ProviderKind, Secret};

/// One model on one serving platform: where it is, what it is called there, and how to authenticate.
///
/// Built by the gateway from the request's model fields (or the operator's config); providers
/// build (and cache) one client per distinct endpoint.
///
/// ```
/// use duo_core::{ModelEndpoint, ModelFamily, ModelIdentifier, Secret};
/// let ep = ModelEndpoint::new(ModelIdentifier::parse("custom_openai/codestral-22b").unwrap(), ModelFamily::Codestral)
///     .with_base_url("http://vllm:8000/v1/")
///     .with_api_key(Secret::new("k"));
/// assert_eq!(ep.base_url(), Some("http://vllm:8000/v1"));
/// assert!(!format!("{ep:?}").contains("\"k\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelEndpoint {
    identifier: ModelIdentifier,
    family: ModelFamily,
    base_url: Option<String>,
    api_key: Option<Secret>,
}

impl ModelEndpoint {
    /// An endpoint for `identifier`, prompted as `family`, with no URL or key yet.
    #[must_use]
    pub fn new(identifier: ModelIdentifier, family: ModelFamily) -> Self {
        Self {
            identifier,
            family,
            base_url: None,
            api_key: None,
        }
    }

    /// Sets the base URL (vLLM: ending in `/v1`; Azure: the resource URL; Bedrock: an endpoint
    /// override). A trailing `/` is removed; an empty string means none.
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        let trimmed = url.trim().trim_end_matches('/');
        self.base_url = (!trimmed.is_empty()).then(|| trimmed.to_owned());
        self
    }

    /// Sets the API key; an empty key means none.
    #[must_use]
    pub fn with_api_key(mut self, key: Secret) -> Self {
        self.api_key = (!key.is_empty()).then_some(key);
        self
    }

    /// The parsed identifier.
    #[must_use]
    pub fn identifier(&self) -> &ModelIdentifier {
        &self.identifier
    }

    /// The serving platform.
    #[must_use]
    pub fn provider(&self) -> ProviderKind {
        self.identifier.provider()
    }

    /// The model id sent upstream.
    #[must_use]
    pub fn model(&self) -> &str {
        self.identifier.model()
    }

    /// The family that picks the prompt layout.
    #[must_use]
    pub fn family(&self) -> &ModelFamily {
        &self.family
    }

    /// The base URL, without a trailing `/`.
    #[must_use]
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }

    /// The API key, if any.
    #[must_use]
    pub fn api_key(&self) -> Option<&Secret> {
        self.api_key.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ModelIdentifier {
        ModelIdentifier::parse(s).unwrap()
    }

    #[test]
    fn empty_url_and_key_mean_none() {
        let ep = ModelEndpoint::new(id("mistral"), ModelFamily::Mistral)
            .with_base_url("  ")
            .with_api_key(Secret::new(""));
        assert_eq!(ep.base_url(), None);
        assert_eq!(ep.api_key(), None);
    }

    #[test]
    fn accessors_expose_the_parts() {
        let ep = ModelEndpoint::new(id("azure/gpt-4o"), ModelFamily::Gpt)
            .with_base_url("https://res.openai.azure.com//")
            .with_api_key(Secret::new("azure-key-1"));
        assert_eq!(ep.provider(), ProviderKind::AzureOpenAi);
        assert_eq!(ep.model(), "gpt-4o");
        assert_eq!(ep.family(), &ModelFamily::Gpt);
        assert_eq!(ep.base_url(), Some("https://res.openai.azure.com"));
        assert_eq!(ep.api_key().map(Secret::expose), Some("azure-key-1"));
        assert!(!format!("{ep:?}").contains("azure-key-1"));
    }

    #[test]
    fn equal_endpoints_hash_equal_so_clients_can_be_cached() {
        use std::collections::HashSet;
        let a = ModelEndpoint::new(id("m"), ModelFamily::Mistral).with_base_url("http://h/v1");
        let b = ModelEndpoint::new(id("m"), ModelFamily::Mistral).with_base_url("http://h/v1/");
        let c = a.clone().with_api_key(Secret::new("other"));
        let set: HashSet<_> = [a, b, c].into_iter().collect();
        assert_eq!(set.len(), 2);
    }
}
