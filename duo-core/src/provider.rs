//! [`ProviderKind`] and [`ModelIdentifier`]: which serving platform a model lives on.

use std::fmt;

use crate::Error;

/// The serving platforms the gateway speaks to.
///
/// Deliberately not `#[non_exhaustive]`: every crate matches on it without a catch-all arm, so
/// a new platform does not compile until each place that must know it (the registry's builder,
/// the endpoint rules, the prefixes) says what it does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// vLLM or any server with OpenAI's `/v1/completions` and `/v1/chat/completions`.
    OpenAiCompatible,
    /// Azure OpenAI deployments.
    AzureOpenAi,
    /// AWS Bedrock (Converse API).
    Bedrock,
    /// Anthropic's Messages API (`api.anthropic.com`, or a server of the same API).
    Anthropic,
    /// OpenAI's platform (`api.openai.com`, or a server of the same API): Chat Completions,
    /// with the reasoning models' rules.
    OpenAi,
    /// Google Vertex AI: Gemini (`generateContent`) and Claude on Vertex (`rawPredict`), with
    /// the operator's Google credentials.
    VertexAi,
}

/// Where a model's endpoint and key may come from: one rule per platform
/// ([`ProviderKind::endpoint_source`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointSource {
    /// The request names the endpoint, and its key if it needs one (vLLM, Azure OpenAI): a
    /// request without an endpoint is refused.
    Request,
    /// The request may name its own endpoint and key (both are then used, and nothing of the
    /// operator's); without an endpoint the call goes to the operator's base URL with the
    /// operator's key (or the request's key, when it names one). The operator's key never goes
    /// to a request-supplied endpoint.
    RequestOrOperator,
    /// The operator's configuration only; a request's endpoint is ignored: platforms whose calls
    /// carry the operator's cloud credentials (Bedrock's SigV4, Vertex AI's Google access
    /// token), which must not be sent to a host a caller names.
    Operator,
}

impl ProviderKind {
    /// Every platform, in a stable order.
    pub const ALL: [Self; 6] = [
        Self::OpenAiCompatible,
        Self::AzureOpenAi,
        Self::Bedrock,
        Self::Anthropic,
        Self::OpenAi,
        Self::VertexAi,
    ];

    /// A short, stable name for logs and metrics labels.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OpenAiCompatible => "openai_compatible",
            Self::AzureOpenAi => "azure_openai",
            Self::Bedrock => "bedrock",
            Self::Anthropic => "anthropic",
            Self::OpenAi => "openai",
            Self::VertexAi => "vertex_ai",
        }
    }

    /// Where the model's endpoint and key come from.
    #[must_use]
    pub const fn endpoint_source(self) -> EndpointSource {
        match self {
            Self::OpenAiCompatible | Self::AzureOpenAi => EndpointSource::Request,
            Self::Anthropic | Self::OpenAi => EndpointSource::RequestOrOperator,
            Self::Bedrock | Self::VertexAi => EndpointSource::Operator,
        }
    }

    /// Whether the model's endpoint comes from the operator's configuration only, never from a
    /// request ([`EndpointSource::Operator`]).
    #[must_use]
    pub const fn endpoint_from_operator_only(self) -> bool {
        matches!(self.endpoint_source(), EndpointSource::Operator)
    }

    /// The provider an identifier prefix names (`custom_openai`, `openai`, `hosted_vllm`, `bedrock`,
    /// `azure`, `anthropic`, `vertex_ai`).
    #[must_use]
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        match prefix {
            "custom_openai"
            | "hosted_vllm"
            | "text-completion-openai"
            | "text-completion-custom_openai" => Some(Self::OpenAiCompatible),
            "azure" | "azure_ai" => Some(Self::AzureOpenAi),
            "bedrock" | "bedrock_converse" => Some(Self::Bedrock),
            "anthropic" => Some(Self::Anthropic),
            "openai" => Some(Self::OpenAi),
            "vertex_ai" => Some(Self::VertexAi),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed GitLab `model_identifier`: `provider/model`, as LiteLLM spells it.
///
/// The identifier is split at the **first** `/`; without a `/` it means `custom_openai/<identifier>`.
///
/// ```
/// use duo_core::{ModelIdentifier, ProviderKind};
/// let id = ModelIdentifier::parse("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0").unwrap();
/// assert_eq!(id.provider(), ProviderKind::Bedrock);
/// assert_eq!(id.model(), "anthropic.claude-3-5-sonnet-20240620-v1:0");
/// let bare = ModelIdentifier::parse("Mistral-7B-Instruct-v0.3").unwrap();
/// assert_eq!(bare.to_string(), "custom_openai/Mistral-7B-Instruct-v0.3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelIdentifier {
    provider: ProviderKind,
    prefix: String,
    model: String,
}

impl ModelIdentifier {
    /// Parses `prefix/model` or a bare model name.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the identifier is empty, has an empty model part, or a
    /// prefix that names no supported provider (e.g. `watsonx/…`).
    pub fn parse(identifier: &str) -> Result<Self, Error> {
        let identifier = identifier.trim();
        if identifier.is_empty() {
            return Err(Error::InvalidRequest("model identifier is empty".into()));
        }
        let Some((prefix, model)) = identifier.split_once('/') else {
            return Ok(Self::new(
                ProviderKind::OpenAiCompatible,
                "custom_openai",
                identifier,
            ));
        };
        let provider = ProviderKind::from_prefix(prefix).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "model identifier '{identifier}' names an unsupported provider '{prefix}'; \
                 use custom_openai/, hosted_vllm/, openai/, bedrock/, azure/, anthropic/ or vertex_ai/ (a served model name \
                 that contains '/' needs the prefix, e.g. custom_openai/{identifier})"
            ))
        })?;
        if model.trim().is_empty() {
            return Err(Error::InvalidRequest(format!(
                "model identifier '{identifier}' has no model after '{prefix}/'"
            )));
        }
        Ok(Self::new(provider, prefix, model))
    }

    /// Builds an identifier from its parts.
    pub fn new(
        provider: ProviderKind,
        prefix: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        Self {
            provider,
            prefix: prefix.into(),
            model: model.into(),
        }
    }

    /// The provider the prefix selects.
    #[must_use]
    pub fn provider(&self) -> ProviderKind {
        self.provider
    }

    /// The prefix as given (`custom_openai`, `hosted_vllm`, …).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The model id sent upstream: the served model name, Bedrock model id or Azure deployment.
    #[must_use]
    pub fn model(&self) -> &str {
        &self.model
    }
}

impl fmt::Display for ModelIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix, self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_platform_once_with_a_distinct_name() {
        // `position` is an exhaustive match (a new variant does not compile without an arm);
        // ALL must then hold each variant once, in that order.
        let position = |kind: ProviderKind| match kind {
            ProviderKind::OpenAiCompatible => 0,
            ProviderKind::AzureOpenAi => 1,
            ProviderKind::Bedrock => 2,
            ProviderKind::Anthropic => 3,
            ProviderKind::OpenAi => 4,
            ProviderKind::VertexAi => 5,
        };
        let positions: Vec<usize> = ProviderKind::ALL.into_iter().map(position).collect();
        assert_eq!(positions, (0..ProviderKind::ALL.len()).collect::<Vec<_>>());
        let mut names: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ProviderKind::ALL.len());
    }

    #[test]
    fn only_platforms_signed_with_operator_credentials_refuse_request_endpoints() {
        let operator_only: Vec<_> = ProviderKind::ALL
            .into_iter()
            .filter(|k| k.endpoint_from_operator_only())
            .collect();
        assert_eq!(
            operator_only,
            [ProviderKind::Bedrock, ProviderKind::VertexAi]
        );
        let operator_default: Vec<_> = ProviderKind::ALL
            .into_iter()
            .filter(|k| k.endpoint_source() == EndpointSource::RequestOrOperator)
            .collect();
        assert_eq!(
            operator_default,
            [ProviderKind::Anthropic, ProviderKind::OpenAi]
        );
    }

    #[test]
    fn prefixes_pick_the_provider() {
        for (id, provider, model) in [
            (
                "custom_openai/Mistral-7B",
                ProviderKind::OpenAiCompatible,
                "Mistral-7B",
            ),
            ("openai/gpt-4o", ProviderKind::OpenAi, "gpt-4o"),
            (
                "hosted_vllm/codestral",
                ProviderKind::OpenAiCompatible,
                "codestral",
            ),
            (
                "azure/gpt-35-turbo",
                ProviderKind::AzureOpenAi,
                "gpt-35-turbo",
            ),
            (
                "anthropic/claude-sonnet-4-5",
                ProviderKind::Anthropic,
                "claude-sonnet-4-5",
            ),
            (
                "bedrock/apac.anthropic.claude-3-5-sonnet-20241022-v2:0",
                ProviderKind::Bedrock,
                "apac.anthropic.claude-3-5-sonnet-20241022-v2:0",
            ),
        ] {
            let parsed = ModelIdentifier::parse(id).unwrap();
            assert_eq!(parsed.provider(), provider, "{id}");
            assert_eq!(parsed.model(), model, "{id}");
            assert_eq!(parsed.to_string(), id);
        }
    }

    #[test]
    fn splits_at_the_first_slash_only() {
        let id = ModelIdentifier::parse("custom_openai/meta-llama/Meta-Llama-3-8B").unwrap();
        assert_eq!(id.prefix(), "custom_openai");
        assert_eq!(id.model(), "meta-llama/Meta-Llama-3-8B");
    }

    #[test]
    fn bare_names_mean_custom_openai() {
        let id = ModelIdentifier::parse("  codestral-22b ").unwrap();
        assert_eq!(id.provider(), ProviderKind::OpenAiCompatible);
        assert_eq!(id.prefix(), "custom_openai");
        assert_eq!(id.model(), "codestral-22b");
    }

    #[test]
    fn bad_identifiers_are_client_errors_that_say_why() {
        let err = ModelIdentifier::parse("").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid request: model identifier is empty"
        );
        let err = ModelIdentifier::parse("watsonx/granite").unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)));
        assert!(err.to_string().contains("unsupported provider 'watsonx'"));
        let err = ModelIdentifier::parse("bedrock/").unwrap_err();
        assert!(err.to_string().contains("has no model after 'bedrock/'"));
    }

    #[test]
    fn provider_names_are_stable() {
        assert_eq!(ProviderKind::OpenAiCompatible.as_str(), "openai_compatible");
        assert_eq!(ProviderKind::AzureOpenAi.to_string(), "azure_openai");
        assert_eq!(ProviderKind::Bedrock.as_str(), "bedrock");
        assert_eq!(ProviderKind::Anthropic.as_str(), "anthropic");
        assert_eq!(ProviderKind::OpenAi.as_str(), "openai");
        assert_eq!(ProviderKind::VertexAi.as_str(), "vertex_ai");
        assert_eq!(
            ProviderKind::from_prefix("vertex_ai"),
            Some(ProviderKind::VertexAi)
        );
        assert!(ProviderKind::VertexAi.endpoint_from_operator_only());
        assert_eq!(ProviderKind::from_prefix("watsonx"), None);
    }
}
