//! [`VertexSettings`]: the operator's Vertex AI project, location, endpoint and Google
//! credentials (`[providers.vertex]`).

use std::path::PathBuf;

use duo_core::{Error, Secret};
use reqwest::Url;
use serde::Deserialize;

/// Read for the project when `project` is unset (LiteLLM's and GitLab's docs' name).
pub const PROJECT_ENV: &str = "VERTEXAI_PROJECT";
/// Read for the location when `location` is unset.
pub const LOCATION_ENV: &str = "VERTEXAI_LOCATION";
/// The service-account key file of Application Default Credentials.
pub const CREDENTIALS_ENV: &str = "GOOGLE_APPLICATION_CREDENTIALS";
/// Google's name for another metadata server address (`host[:port]`).
pub const METADATA_HOST_ENV: &str = "GCE_METADATA_HOST";
/// The location when none is configured.
pub const DEFAULT_LOCATION: &str = "us-central1";

/// The operator's side of Vertex AI: every `vertex_ai/<model>` call goes to this project,
/// location and endpoint with these credentials; a request's endpoint is never used (the calls
/// carry the operator's Google access token).
///
/// ```
/// let s: duo_providers::vertex::VertexSettings = toml::from_str(
///     "project = \"acme-ai\"\nlocation = \"europe-west4\"",
/// ).unwrap();
/// let r = s.resolve().unwrap();
/// assert_eq!(r.base.as_str(), "https://europe-west4-aiplatform.googleapis.com/");
/// assert_eq!(r.project, "acme-ai");
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VertexSettings {
    /// The Google Cloud project; unset: `VERTEXAI_PROJECT` (the gateway also reads GitLab's
    /// `AIGW_GOOGLE_CLOUD_PLATFORM__PROJECT`), else the metadata server's project.
    pub project: Option<String>,
    /// The region (`us-central1`, `europe-west4`, …, or `global`); unset: `VERTEXAI_LOCATION`,
    /// else `us-central1`.
    pub location: Option<String>,
    /// The API's host or base URL; unset: `https://{location}-aiplatform.googleapis.com`
    /// (`https://aiplatform.googleapis.com` for `global`). A full URL
    /// (`http://127.0.0.1:8080`) points the client at a private endpoint or a test server.
    pub endpoint: Option<String>,
    /// A service-account key file (JSON); unset: `credentials_json`, else
    /// `GOOGLE_APPLICATION_CREDENTIALS`, else the metadata server's default service account.
    pub credentials_file: Option<PathBuf>,
    /// A service-account key itself, as JSON text (GitLab's
    /// `AIGW_GOOGLE_CLOUD_PLATFORM__SERVICE_ACCOUNT_JSON_KEY`); never printed.
    pub credentials_json: Option<Secret>,
    /// Overrides the key file's `token_uri` (where the signed assertion is exchanged).
    pub token_uri: Option<String>,
    /// The metadata server (`host[:port]`); unset: `GCE_METADATA_HOST`, else
    /// `metadata.google.internal`. Only token and project requests go there.
    pub metadata_host: Option<String>,
    /// The `anthropic_version` of Claude calls (default `vertex-2023-10-16`).
    pub anthropic_version: String,
    /// Claude's `max_tokens` when a prompt sets none: the API requires one (default 4096).
    pub default_max_tokens: u32,
}

impl Default for VertexSettings {
    fn default() -> Self {
        Self {
            project: None,
            location: None,
            endpoint: None,
            credentials_file: None,
            credentials_json: None,
            token_uri: None,
            metadata_host: None,
            anthropic_version: "vertex-2023-10-16".to_owned(),
            default_max_tokens: 4096,
        }
    }
}

/// Where Google's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// A service-account key file, exchanged for tokens with the JWT-bearer grant.
    ServiceAccount(PathBuf),
    /// A service-account key given as JSON text.
    ServiceAccountJson(Secret),
    /// The metadata server at this base URL (`http://metadata.google.internal`).
    MetadataServer(Url),
}

/// [`VertexSettings`] with the environment's fallbacks applied and checked.
#[derive(Debug, Clone)]
pub struct ResolvedVertex {
    /// The project, if known without asking the metadata server.
    pub project: String,
    /// The location.
    pub location: String,
    /// The API's base URL.
    pub base: Url,
    /// The credentials.
    pub credentials: CredentialSource,
}

impl VertexSettings {
    /// Whether the operator set anything that names a project (so start-up can check the rest
    /// instead of the first Vertex request).
    #[must_use]
    pub fn is_configured(&self) -> bool {
        self.project
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty())
            || std::env::var(PROJECT_ENV).is_ok_and(|p| !p.trim().is_empty())
    }

    /// Applies the environment's fallbacks and checks the result.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting: no project, an endpoint that is not a host or an
    /// http(s) URL, a bad location or metadata host, a zero `default_max_tokens`.
    pub fn resolve(&self) -> Result<ResolvedVertex, Error> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let location = self
            .location
            .clone()
            .filter(|l| !l.trim().is_empty())
            .or_else(|| env(LOCATION_ENV))
            .unwrap_or_else(|| DEFAULT_LOCATION.to_owned());
        let location = location.trim().to_owned();
        if !location
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::Config(format!(
                "vertex.location: '{location}' is not a Google Cloud location (like us-central1)"
            )));
        }
        let project = self
            .project
            .clone()
            .filter(|p| !p.trim().is_empty())
            .or_else(|| env(PROJECT_ENV))
            .map(|p| p.trim().to_owned())
            .ok_or_else(|| {
                Error::Config(
                    "vertex.project: no Google Cloud project (set providers.vertex.project, \
                     AIGW_GOOGLE_CLOUD_PLATFORM__PROJECT or VERTEXAI_PROJECT)"
                        .into(),
                )
            })?;
        let base = match self.endpoint.as_deref().map(str::trim) {
            Some(e) if !e.is_empty() => endpoint_url(e, "vertex.endpoint")?,
            _ if location == "global" => Url::parse("https://aiplatform.googleapis.com")
                .map_err(|e| Error::Config(e.to_string()))?,
            _ => endpoint_url(
                &format!("{location}-aiplatform.googleapis.com"),
                "vertex.endpoint",
            )?,
        };
        let file = self.credentials_file.clone().or_else(|| {
            self.credentials_json
                .is_none()
                .then(|| env(CREDENTIALS_ENV).map(PathBuf::from))
                .flatten()
        });
        let inline = self.credentials_json.clone().filter(|k| !k.is_empty());
        let credentials = match (file, inline) {
            (Some(path), _) => CredentialSource::ServiceAccount(path),
            (None, Some(key)) => CredentialSource::ServiceAccountJson(key),
            (None, None) => {
                let host = self
                    .metadata_host
                    .clone()
                    .or_else(|| env(METADATA_HOST_ENV))
                    .unwrap_or_else(|| "metadata.google.internal".to_owned());
                CredentialSource::MetadataServer(
                    Url::parse(&format!("http://{}", host.trim()))
                        .ok()
                        .filter(|u| u.path() == "/" && u.query().is_none())
                        .ok_or_else(|| {
                            Error::Config(format!(
                                "vertex.metadata_host: '{host}' is not a host[:port]"
                            ))
                        })?,
                )
            }
        };
        if self.default_max_tokens == 0 {
            return Err(Error::Config(
                "vertex.default_max_tokens: must be at least 1".into(),
            ));
        }
        if self.anthropic_version.trim().is_empty() {
            return Err(Error::Config(
                "vertex.anthropic_version: must not be empty".into(),
            ));
        }
        if let Some(uri) = &self.token_uri {
            endpoint_url(uri, "vertex.token_uri")?;
        }
        Ok(ResolvedVertex {
            project,
            location,
            base,
            credentials,
        })
    }
}

/// A host (`https://` is assumed) or an http(s) URL.
fn endpoint_url(raw: &str, key: &str) -> Result<Url, Error> {
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| Error::Config(format!("{key}: '{raw}' is not a host or URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::Config(format!(
            "{key}: '{raw}' must be a host or an http(s) URL"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> VertexSettings {
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn the_endpoint_follows_the_location_and_accepts_a_host_or_a_url() {
        let r = settings("project = \"p\"\nlocation = \"global\"\nmetadata_host = \"127.0.0.1:9\"")
            .resolve()
            .unwrap();
        assert_eq!(r.base.as_str(), "https://aiplatform.googleapis.com/");
        assert_eq!(
            r.credentials,
            CredentialSource::MetadataServer(Url::parse("http://127.0.0.1:9").unwrap())
        );
        let r = settings("project = \"p\"\nendpoint = \"vertex.internal.example\"")
            .resolve()
            .unwrap();
        assert_eq!(r.base.as_str(), "https://vertex.internal.example/");
        let r = settings(
            "project = \"p\"\nendpoint = \"http://127.0.0.1:8080\"\ncredentials_file = \"/k.json\"",
        )
        .resolve()
        .unwrap();
        assert_eq!(r.base.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(
            r.credentials,
            CredentialSource::ServiceAccount("/k.json".into())
        );
    }

    #[test]
    fn bad_settings_name_their_key() {
        for (toml, says) in [
            (
                "project = \"p\"\nlocation = \"US Central\"",
                "vertex.location",
            ),
            ("project = \"p\"\nendpoint = \"ftp://x\"", "vertex.endpoint"),
            (
                "project = \"p\"\nmetadata_host = \"h/path\"",
                "vertex.metadata_host",
            ),
            (
                "project = \"p\"\ndefault_max_tokens = 0\nmetadata_host = \"h\"",
                "vertex.default_max_tokens",
            ),
            (
                "project = \"p\"\ntoken_uri = \"not a url\"\nmetadata_host = \"h\"",
                "vertex.token_uri",
            ),
        ] {
            let err = settings(toml).resolve().unwrap_err();
            assert!(err.to_string().contains(says), "{toml}: {err}");
        }
    }
}
