//! Turning a request's model fields into a [`ModelEndpoint`], with the custom-models switch
//! applied.
//!
//! The endpoint of a self-hosted model arrives with every request, chosen by whoever holds a valid
//! token: it is honoured only when `custom_models.enabled` is set or its origin (scheme, host and
//! port, compared exactly after parsing) is on the operator's `custom_models.allowed_endpoints`.
//! Where it may connect is the egress policy's decision, made in duo-providers for every
//! endpoint, allow-listed or not (link-local and metadata addresses are refused, after DNS too).
//! A `bedrock/` model's endpoint is the operator's alone: a request-supplied one is ignored
//! (as GitLab's gateway does) and the request log says so.

use duo_core::{EndpointSource, ModelEndpoint, ModelFamily, ModelIdentifier, Secret};

use crate::config::CustomModelsConfig;
use crate::error::ApiError;
use crate::state::RequestLog;
use crate::wire::ModelMetadata;

/// The model fields of a request, flat (code suggestions) or from `model_metadata`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ModelFields<'a> {
    /// The family key (`model_name` / `model_metadata.name`).
    pub family: Option<&'a str>,
    /// `provider/model` (`model_identifier` / `model_metadata.identifier`).
    pub identifier: Option<&'a str>,
    /// The model server's URL.
    pub endpoint: Option<&'a str>,
    /// The model server's key.
    pub api_key: Option<&'a Secret>,
}

/// Builds the endpoint the request names.
///
/// # Errors
/// [`ApiError::Validation`] for a missing family, a bad identifier, a missing or refused endpoint.
pub fn select(
    fields: ModelFields<'_>,
    policy: &CustomModelsConfig,
    log: &RequestLog,
) -> Result<ModelEndpoint, ApiError> {
    let family_key = fields
        .family
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            ApiError::Validation("model name (the model family, e.g. codestral) is required".into())
        })?;
    let family = ModelFamily::parse(family_key);
    let identifier = match fields.identifier.map(str::trim).filter(|i| !i.is_empty()) {
        Some(id) => ModelIdentifier::parse(id),
        None => ModelIdentifier::parse(family_key),
    };
    let mut url = fields.endpoint.map(str::trim).filter(|u| !u.is_empty());
    let operator_only = identifier
        .as_ref()
        .is_ok_and(|id| id.provider().endpoint_from_operator_only());
    if let (Some(_), Ok(identifier)) = (url, &identifier)
        && operator_only
    {
        tracing::warn!(
            identifier = %identifier,
            "ignoring the request's model endpoint for a bedrock model: Bedrock calls go only \
             to the operator's endpoint (providers.bedrock.endpoint_url)"
        );
        log.set_model_endpoint_ignored();
        url = None;
    }
    if let Some(url) = url {
        check_endpoint(url, policy)?;
    }
    let identifier = identifier.map_err(|e| ApiError::Validation(e.to_string()))?;

    let mut endpoint = ModelEndpoint::new(identifier, family);
    if let Some(url) = url {
        endpoint = endpoint.with_base_url(url);
    }
    if let Some(key) = fields.api_key {
        endpoint = endpoint.with_api_key(key.clone());
    }
    if endpoint.base_url().is_none()
        && endpoint.provider().endpoint_source() == EndpointSource::Request
    {
        return Err(ApiError::Validation(format!(
            "a model endpoint is required for '{}' (the base URL of the model server, e.g. http://vllm:8000/v1)",
            endpoint.identifier()
        )));
    }
    Ok(endpoint)
}

/// Applies the custom-models switch and the allow-list to a request-supplied URL.
fn check_endpoint(url: &str, policy: &CustomModelsConfig) -> Result<(), ApiError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| ApiError::Validation(format!("model endpoint is not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::Validation(format!(
            "model endpoint must be an http or https URL, not '{}'",
            parsed.scheme()
        )));
    }
    if parsed.host().is_none() {
        return Err(ApiError::Validation("model endpoint has no host".into()));
    }
    if !policy.enabled && !allow_listed(&parsed, &policy.allowed_endpoints) {
        return Err(ApiError::Validation(
            "specifying custom models endpoint is disabled: set AIGW_CUSTOM_MODELS__ENABLED=true \
             (custom_models.enabled) to serve self-hosted models, or list the endpoint in \
             custom_models.allowed_endpoints"
                .into(),
        ));
    }
    Ok(())
}

/// Whether `url`'s origin (scheme, host, port; default ports filled in) is exactly one of the
/// allow-listed ones. A URL with user info never matches.
fn allow_listed(url: &url::Url, allowed: &[String]) -> bool {
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    let origin = url.origin();
    allowed
        .iter()
        .filter_map(|a| url::Url::parse(a.trim()).ok())
        .any(|a| a.origin() == origin)
}

impl ModelMetadata {
    /// The metadata a request must carry: the gateway serves self-hosted models only, so there
    /// is no GitLab-managed default to fall back to.
    ///
    /// # Errors
    /// [`ApiError::Validation`] when the request names no model.
    pub fn required(metadata: Option<&Self>) -> Result<&Self, ApiError> {
        metadata.ok_or_else(|| {
            ApiError::Validation(
                "model_metadata is required: this gateway serves self-hosted models, named in \
                 model_metadata (name, endpoint, identifier, api_key)"
                    .into(),
            )
        })
    }

    /// The model fields it names, for [`select`].
    #[must_use]
    pub fn fields(&self) -> ModelFields<'_> {
        ModelFields {
            family: self.name.as_deref(),
            identifier: self.identifier.as_deref(),
            endpoint: self.endpoint.as_deref(),
            api_key: self.api_key.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo_core::ProviderKind;

    fn enabled() -> CustomModelsConfig {
        CustomModelsConfig {
            enabled: true,
            ..CustomModelsConfig::default()
        }
    }

    fn fields<'a>(family: &'a str, id: &'a str, url: &'a str) -> ModelFields<'a> {
        ModelFields {
            family: Some(family),
            identifier: Some(id),
            endpoint: Some(url),
            api_key: None,
        }
    }

    fn pick(f: ModelFields<'_>, policy: &CustomModelsConfig) -> Result<ModelEndpoint, ApiError> {
        select(f, policy, &RequestLog::default())
    }

    #[test]
    fn builds_the_endpoint_from_request_fields() {
        let key = Secret::new("k");
        let ep = pick(
            ModelFields {
                api_key: Some(&key),
                ..fields(
                    "codestral",
                    "custom_openai/Codestral-22B",
                    "http://vllm:8000/v1/",
                )
            },
            &enabled(),
        )
        .unwrap();
        assert_eq!(ep.model(), "Codestral-22B");
        assert_eq!(ep.family(), &ModelFamily::Codestral);
        assert_eq!(ep.base_url(), Some("http://vllm:8000/v1"));
        assert_eq!(ep.api_key().map(Secret::expose), Some("k"));
    }

    #[test]
    fn empty_identifier_means_the_family_name_on_custom_openai() {
        let ep = pick(fields("mistral", "", "http://h/v1"), &enabled()).unwrap();
        assert_eq!(ep.identifier().to_string(), "custom_openai/mistral");
    }

    #[test]
    fn bedrock_ignores_a_request_endpoint_but_others_need_one() {
        let ep = pick(
            fields(
                "claude_3",
                "bedrock/anthropic.claude",
                "http://attacker.example:9000",
            ),
            &CustomModelsConfig::default(),
        )
        .unwrap();
        assert_eq!(ep.provider(), ProviderKind::Bedrock);
        assert_eq!(ep.base_url(), None, "the request's endpoint is dropped");
        let err = pick(
            ModelFields {
                family: Some("gpt"),
                identifier: Some("azure/gpt-4o"),
                ..ModelFields::default()
            },
            &enabled(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("a model endpoint is required for 'azure/gpt-4o'"),
            "{err}"
        );
    }

    #[test]
    fn the_allow_list_compares_scheme_host_and_port_exactly() {
        let off = CustomModelsConfig::default();
        let err = pick(
            fields("codestral", "", "http://internal-server.local/ssrf"),
            &off,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("specifying custom models endpoint is disabled")
        );
        let listed = CustomModelsConfig {
            allowed_endpoints: vec!["http://vllm:8000/v1/".into(), "https://Models.Corp".into()],
            ..CustomModelsConfig::default()
        };
        for ok in [
            "http://vllm:8000/v1",
            "http://VLLM:8000/other/path",
            "https://models.corp:443/v1",
        ] {
            assert!(pick(fields("codestral", "", ok), &listed).is_ok(), "{ok}");
        }
        for refused in [
            "http://vllm:9000/v1",
            "https://vllm:8000/v1",
            "http://vllm:8000.evil.example/v1",
            "http://vllm:8000@evil.example/v1",
            "http://user:pw@vllm:8000/v1",
            "http://vllm.evil.example:8000/v1",
            "http://models.corp/v1",
        ] {
            assert!(
                pick(fields("codestral", "", refused), &listed).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn malformed_fields_are_validation_errors() {
        for (f, id, url, needle) in [
            ("", "", "http://h/v1", "model name"),
            (
                "mistral",
                "watsonx/x",
                "http://h/v1",
                "unsupported provider",
            ),
            ("mistral", "", "not a url", "not a valid URL"),
            ("mistral", "", "file:///etc/passwd", "http or https"),
        ] {
            let err = pick(fields(f, id, url), &enabled()).unwrap_err();
            assert!(matches!(err, ApiError::Validation(_)));
            assert!(err.to_string().contains(needle), "{err}");
        }
    }
}
