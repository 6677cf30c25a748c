//! Turning a request's model fields into a [`ModelEndpoint`], with the custom-models switch and
//! the SSRF guard applied.
//!
//! The endpoint of a self-hosted model arrives with every request, chosen by whoever holds a valid
//! token: it is honoured only when `custom_models.enabled` is set (or it is on the operator's
//! allow-list), and never toward link-local or cloud-metadata addresses unless the operator allows
//! them. (Host names are checked as written; a name that resolves to such an address is not
//! resolved here.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use duo_core::{ModelEndpoint, ModelFamily, ModelIdentifier, ProviderKind, Secret};

use crate::config::CustomModelsConfig;
use crate::error::ApiError;

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

/// Host names of cloud metadata services.
const METADATA_HOSTS: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
];

/// Builds the endpoint the request names.
///
/// # Errors
/// [`ApiError::Validation`] for a missing family, a bad identifier, a missing or refused endpoint.
pub fn select(
    fields: ModelFields<'_>,
    policy: &CustomModelsConfig,
) -> Result<ModelEndpoint, ApiError> {
    let family_key = fields
        .family
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            ApiError::Validation("model name (the model family, e.g. codestral) is required".into())
        })?;
    let url = fields.endpoint.map(str::trim).filter(|u| !u.is_empty());
    if let Some(url) = url {
        check_endpoint(url, policy)?;
    }
    let family = ModelFamily::parse(family_key);
    let identifier = match fields.identifier.map(str::trim).filter(|i| !i.is_empty()) {
        Some(id) => ModelIdentifier::parse(id),
        None => ModelIdentifier::parse(family_key),
    }
    .map_err(|e| ApiError::Validation(e.to_string()))?;

    let mut endpoint = ModelEndpoint::new(identifier, family);
    if let Some(url) = url {
        endpoint = endpoint.with_base_url(url);
    }
    if let Some(key) = fields.api_key {
        endpoint = endpoint.with_api_key(key.clone());
    }
    if endpoint.base_url().is_none() && endpoint.provider() != ProviderKind::Bedrock {
        return Err(ApiError::Validation(format!(
            "a model endpoint is required for '{}' (the base URL of the model server, e.g. http://vllm:8000/v1)",
            endpoint.identifier()
        )));
    }
    Ok(endpoint)
}

/// Applies the custom-models switch and the SSRF guard to a request-supplied URL.
fn check_endpoint(url: &str, policy: &CustomModelsConfig) -> Result<(), ApiError> {
    let allow_listed = policy.allowed_endpoints.iter().any(|allowed| {
        url.trim_end_matches('/')
            .starts_with(allowed.trim_end_matches('/'))
    });
    if !policy.enabled && !allow_listed {
        return Err(ApiError::Validation(
            "specifying custom models endpoint is disabled: set AIGW_CUSTOM_MODELS__ENABLED=true \
             (custom_models.enabled) to serve self-hosted models"
                .into(),
        ));
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| ApiError::Validation(format!("model endpoint is not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::Validation(format!(
            "model endpoint must be an http or https URL, not '{}'",
            parsed.scheme()
        )));
    }
    let refused = match parsed.host() {
        None => {
            return Err(ApiError::Validation("model endpoint has no host".into()));
        }
        Some(url::Host::Ipv4(ip)) => is_link_local(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_link_local(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            METADATA_HOSTS.contains(&name.as_str())
        }
    };
    if refused && !policy.allow_link_local_endpoints && !allow_listed {
        return Err(ApiError::Validation(
            "model endpoint points at a link-local or cloud-metadata address, which is refused; \
             set custom_models.allow_link_local_endpoints to allow it"
                .into(),
        ));
    }
    Ok(())
}

/// Link-local and metadata-service addresses.
fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_link_local(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_link_local(v4);
            }
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
    }
}

fn v4_link_local(v4: Ipv4Addr) -> bool {
    v4.is_link_local() || v4 == Ipv4Addr::new(100, 100, 100, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn builds_the_endpoint_from_request_fields() {
        let key = Secret::new("k");
        let ep = select(
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
        let ep = select(fields("mistral", "", "http://h/v1"), &enabled()).unwrap();
        assert_eq!(ep.identifier().to_string(), "custom_openai/mistral");
    }

    #[test]
    fn bedrock_needs_no_endpoint_but_others_do() {
        let ep = select(
            ModelFields {
                family: Some("claude_3"),
                identifier: Some("bedrock/anthropic.claude"),
                ..ModelFields::default()
            },
            &enabled(),
        )
        .unwrap();
        assert_eq!(ep.provider(), ProviderKind::Bedrock);
        let err = select(
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
    fn request_endpoints_need_custom_models_enabled_or_the_allow_list() {
        let off = CustomModelsConfig::default();
        let err = select(
            fields("codestral", "", "http://internal-server.local/ssrf"),
            &off,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("specifying custom models endpoint is disabled")
        );
        let listed = CustomModelsConfig {
            allowed_endpoints: vec!["http://vllm:8000/v1/".into()],
            ..CustomModelsConfig::default()
        };
        assert!(select(fields("codestral", "", "http://vllm:8000/v1"), &listed).is_ok());
        assert!(select(fields("codestral", "", "http://vllm:9000/v1"), &listed).is_err());
    }

    #[test]
    fn link_local_and_metadata_endpoints_are_refused_unless_allowed() {
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/v1",
            "http://[::ffff:169.254.169.254]/",
            "http://[fd00:ec2::254]/",
            "http://100.100.100.200/",
            "http://metadata.google.internal./computeMetadata",
            "http://METADATA/",
        ] {
            let err = select(fields("mistral", "", url), &enabled()).unwrap_err();
            assert!(
                err.to_string().contains("link-local or cloud-metadata"),
                "{url}: {err}"
            );
        }
        let allow = CustomModelsConfig {
            allow_link_local_endpoints: true,
            ..enabled()
        };
        assert!(select(fields("mistral", "", "http://169.254.169.254/v1"), &allow).is_ok());
        assert!(select(fields("mistral", "", "http://10.0.0.5:8000/v1"), &enabled()).is_ok());
    }

    #[test]
    fn malformed_fields_are_validation_errors() {
        for (f, id, url, needle) in [
            ("", "", "http://h/v1", "model name"),
            (
                "mistral",
                "vertex_ai/x",
                "http://h/v1",
                "unsupported provider",
            ),
            ("mistral", "", "not a url", "not a valid URL"),
            ("mistral", "", "file:///etc/passwd", "http or https"),
        ] {
            let err = select(fields(f, id, url), &enabled()).unwrap_err();
            assert!(matches!(err, ApiError::Validation(_)));
            assert!(err.to_string().contains(needle), "{err}");
        }
    }
}
