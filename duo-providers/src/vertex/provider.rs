//! [`VertexProvider`]: the operator's Vertex AI settings resolved once, and the one
//! [`GoogleAuth`] every Vertex model shares, built on first use.

use std::sync::Arc;

use duo_core::{Error, ModelEndpoint};
use tokio::sync::OnceCell;

use super::credentials::GoogleAuth;
use super::model::VertexModel;
use super::settings::{CredentialSource, ResolvedVertex, VertexSettings};
use crate::{EgressPolicy, HttpClient, HttpSettings};

/// What every Vertex model shares.
#[derive(Debug)]
struct Shared {
    vertex: ResolvedVertex,
    auth: Arc<GoogleAuth>,
}

/// Builds [`VertexModel`]s for the operator's project; the settings are resolved and the
/// credentials loaded on the first model (a gateway that serves no Vertex model never needs a
/// project), and a failure is reported to that request and tried again on the next.
#[derive(Debug)]
pub struct VertexProvider {
    settings: VertexSettings,
    shared: OnceCell<Shared>,
}

impl VertexProvider {
    /// Resolves the settings, loads the credentials (no token is fetched) and checks the
    /// endpoint against the egress policy: what the first Vertex request would find out.
    ///
    /// # Errors
    /// As [`model`](Self::model).
    pub fn check(
        &self,
        http: &HttpClient,
        http_settings: &HttpSettings,
        egress: &EgressPolicy,
    ) -> Result<(), Error> {
        self.shared(http, http_settings, egress).map(drop)
    }

    fn shared(
        &self,
        http: &HttpClient,
        http_settings: &HttpSettings,
        egress: &EgressPolicy,
    ) -> Result<Shared, Error> {
        let vertex = self.settings.resolve()?;
        // The endpoint is the operator's, yet the policy still holds: a literal metadata or
        // link-local address is never connected to (reqwest asks no resolver for literals).
        egress
            .check_url(&vertex.base)
            .map_err(|refused| Error::EgressRefused {
                upstream: format!("Vertex AI at {}", refused.host()),
                rule: refused.to_string(),
            })?;
        let auth = match &vertex.credentials {
            CredentialSource::ServiceAccount(path) => {
                GoogleAuth::service_account(path, self.settings.token_uri.as_deref(), http.clone())?
            }
            CredentialSource::ServiceAccountJson(key) => GoogleAuth::service_account_json(
                key.expose(),
                "vertex.credentials_json",
                self.settings.token_uri.as_deref(),
                http.clone(),
            )?,
            CredentialSource::MetadataServer(base) => {
                // the metadata server is on the host's own link: never through a proxy
                let direct = HttpSettings {
                    proxy: crate::ProxySettings::default(),
                    ..http_settings.clone()
                };
                let metadata = HttpClient::new(
                    &direct,
                    http.connect_timeout(),
                    &egress.clone().allow_link_local(true),
                )?;
                GoogleAuth::metadata_server(base, metadata)?
            }
        };
        Ok(Shared {
            vertex,
            auth: Arc::new(auth),
        })
    }

    /// A provider for `settings`.
    #[must_use]
    pub fn new(settings: VertexSettings) -> Self {
        Self {
            settings,
            shared: OnceCell::new(),
        }
    }

    /// The client for `endpoint` (its base URL and key, which came from a request, are not
    /// used); `http` carries the calls, and a client allowed to reach link-local addresses is
    /// built from `http_settings` and `egress` for the metadata server only.
    ///
    /// # Errors
    /// [`Error::Config`] for unusable settings or credentials, [`Error::InvalidRequest`] for a
    /// bad model id.
    pub async fn model(
        &self,
        endpoint: &ModelEndpoint,
        http: &HttpClient,
        http_settings: &HttpSettings,
        egress: &EgressPolicy,
    ) -> Result<VertexModel, Error> {
        let shared = self
            .shared
            .get_or_try_init(|| async { self.shared(http, http_settings, egress) })
            .await?;
        VertexModel::new(
            http,
            Arc::clone(&shared.auth),
            &shared.vertex,
            endpoint.model(),
            &self.settings.anthropic_version,
            self.settings.default_max_tokens,
        )
    }
}
