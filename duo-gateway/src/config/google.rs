//! GitLab's names for the Vertex AI settings (`[google_cloud_platform]`, `[vertex_text_model]`,
//! read from `AIGW_GOOGLE_CLOUD_PLATFORM__*` and `AIGW_VERTEX_TEXT_MODEL__*`), and how they fill
//! what `[providers.vertex]` leaves unset.

use duo_core::Secret;
use duo_providers::vertex::VertexSettings;
use serde::Deserialize;

/// `[google_cloud_platform]`, as GitLab's gateway names it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoogleCloudPlatformConfig {
    /// The project of Vertex AI calls (`AIGW_GOOGLE_CLOUD_PLATFORM__PROJECT`).
    pub project: Option<String>,
    /// Their location (`AIGW_GOOGLE_CLOUD_PLATFORM__LOCATION`).
    pub location: Option<String>,
    /// A service-account key as JSON text
    /// (`AIGW_GOOGLE_CLOUD_PLATFORM__SERVICE_ACCOUNT_JSON_KEY`).
    pub service_account_json_key: Option<Secret>,
}

/// `[vertex_text_model]`, as GitLab's gateway names it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VertexTextModelConfig {
    /// The location of Vertex AI calls (`AIGW_VERTEX_TEXT_MODEL__LOCATION`).
    pub location: Option<String>,
    /// Their host or base URL (`AIGW_VERTEX_TEXT_MODEL__ENDPOINT`).
    pub endpoint: Option<String>,
}

/// `vertex` with what it leaves unset taken from GitLab's sections: the project and key from
/// `[google_cloud_platform]`, the location from `[vertex_text_model]` then
/// `[google_cloud_platform]`, the endpoint from `[vertex_text_model]`.
#[must_use]
pub fn with_gitlab_names(
    mut vertex: VertexSettings,
    gcp: &GoogleCloudPlatformConfig,
    text_model: &VertexTextModelConfig,
) -> VertexSettings {
    fn fill(slot: &mut Option<String>, from: &[&Option<String>]) {
        if slot.as_deref().is_none_or(|v| v.trim().is_empty()) {
            *slot = from
                .iter()
                .find_map(|v| v.as_deref().filter(|v| !v.trim().is_empty()))
                .map(str::to_owned);
        }
    }
    fill(&mut vertex.project, &[&gcp.project]);
    fill(&mut vertex.location, &[&text_model.location, &gcp.location]);
    fill(&mut vertex.endpoint, &[&text_model.endpoint]);
    if vertex.credentials_json.is_none() {
        vertex
            .credentials_json
            .clone_from(&gcp.service_account_json_key);
    }
    vertex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_vertex_wins_and_gitlabs_names_fill_the_rest() {
        let gcp = GoogleCloudPlatformConfig {
            project: Some("gitlab-project".into()),
            location: Some("europe-west1".into()),
            service_account_json_key: Some(Secret::new("{}")),
        };
        let text = VertexTextModelConfig {
            location: Some("europe-west4".into()),
            endpoint: None,
        };
        let merged = with_gitlab_names(VertexSettings::default(), &gcp, &text);
        assert_eq!(merged.project.as_deref(), Some("gitlab-project"));
        assert_eq!(merged.location.as_deref(), Some("europe-west4"));
        assert_eq!(merged.endpoint, None);
        assert!(merged.credentials_json.is_some());
        let own = VertexSettings {
            project: Some("own".into()),
            location: Some(" ".into()),
            ..VertexSettings::default()
        };
        let merged = with_gitlab_names(own, &gcp, &VertexTextModelConfig::default());
        assert_eq!(merged.project.as_deref(), Some("own"));
        assert_eq!(merged.location.as_deref(), Some("europe-west1"));
    }
}
