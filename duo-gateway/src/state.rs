//! [`AppState`]: everything a request needs, built once at start-up and shared.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use duo_core::reasoning::StripReasoning;
use duo_core::{Feature, LanguageModel, ModelEndpoint, ModelFamily, WholeAnswer};
use duo_logging::{LlmLogger, Logged, Metrics, RequestLogHandle, RequestLogSettings};
use duo_prompts::{PromptDefinition, PromptRegistry, ResolveError};
use duo_providers::Registry;

use duo_auth::Authenticator;

use crate::config::{Config, ConfigError};
use crate::docs_search::DocsSearch;
use crate::error::ApiError;
use crate::readiness::Readiness;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A prompt definition failed to load.
    #[error("prompt definitions: {0}")]
    Prompts(#[from] duo_prompts::LoadError),
    /// The authentication settings are unusable.
    #[error("authentication: {0}")]
    Auth(#[from] duo_auth::AuthConfigError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(String),
    /// The server failed while running.
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// The shared state behind every route; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    prompts: PromptRegistry,
    models: Arc<Registry>,
    auth: Arc<Authenticator>,
    metrics: Arc<Metrics>,
    llm_log: LlmLogger,
    readiness: Readiness,
    docs: DocsSearch,
    #[cfg(feature = "openai-api")]
    openai: duo_openai_api::OpenAiState,
}

impl AppState {
    /// Validates `config`, loads the prompt definitions, and builds the clients.
    ///
    /// # Errors
    /// The first part that cannot be built, naming the setting or file.
    pub fn new(config: Config) -> Result<Self, StartError> {
        // The OpenAI-compatible API is checked below, as it is built.
        config.validate_values()?;
        let prompts = PromptRegistry::load(config.prompts.dir.as_deref())?;
        let mut providers = config.provider_config()?;
        let allow_link_local =
            config.custom_models.allow_link_local_endpoints || providers.egress.allows_link_local();
        providers.egress = providers.egress.allow_link_local(allow_link_local);
        let metrics = Arc::new(Metrics::new());
        // Built as a first request would build it: an unusable setting fails here, naming it.
        // Each client is wrapped in the logging decorator once, when it is built; every call
        // is logged on the request that makes it (the request scope of RequestLogLayer).
        let decorator_metrics = Arc::clone(&metrics);
        let registry = Registry::try_new(providers)
            .map_err(|e| match e {
                duo_core::Error::Config(message) => ConfigError(format!("providers.{message}")),
                other => ConfigError(format!("providers: {other}")),
            })?
            .with_decorator(move |endpoint, model| {
                Arc::new(Logged::new(
                    model,
                    Arc::clone(&decorator_metrics),
                    endpoint.family().key(),
                ))
            });
        // The OIDC fetches go through the model calls' client: the egress policy, and the
        // operator's CA bundle (a GitLab instance with an internal CA), read once. Each fetch
        // carries its own timeout (the JWKS fetch timeout).
        let http = registry
            .http_client()
            .ok_or_else(|| ConfigError("providers.http: the HTTP client was not built".into()))?;
        let auth = Arc::new(Authenticator::new(&config.auth_config(), http)?);
        let models = Arc::new(registry);
        #[cfg(feature = "openai-api")]
        let openai = duo_openai_api::OpenAiState::new(&config.openai_api, Arc::clone(&models))
            .map_err(|e| ConfigError(e.to_string()))?;
        let readiness = Readiness::new(&config.readiness);
        let docs = DocsSearch::open(&config.docs_search);
        let llm_log = LlmLogger::from_config(&config.logging)
            .map_err(|e| ConfigError(format!("logging: {e}")))?;
        Ok(Self(Arc::new(Inner {
            llm_log,
            config,
            prompts,
            models,
            auth,
            metrics,
            readiness,
            docs,
            #[cfg(feature = "openai-api")]
            openai,
        })))
    }

    /// The effective configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The prompt definitions.
    #[must_use]
    pub fn prompts(&self) -> &PromptRegistry {
        &self.0.prompts
    }

    /// The upstream clients.
    #[must_use]
    pub fn models(&self) -> &Registry {
        &self.0.models
    }

    /// The authenticator.
    #[must_use]
    pub fn auth(&self) -> &Arc<Authenticator> {
        &self.0.auth
    }

    /// The metrics registry.
    #[must_use]
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.0.metrics
    }

    /// The request-log settings derived from the config.
    #[must_use]
    pub fn request_log_settings(&self) -> RequestLogSettings {
        let config = &self.0.config;
        RequestLogSettings {
            llm_log_allowed_by_header: config.custom_models.enabled,
            bypass_auth_warning: config.auth.bypass_external,
            llm_log: self.0.llm_log.clone(),
            user_id_salt: config.logging.user_id_salt.clone(),
            ..RequestLogSettings::default()
        }
    }

    pub(crate) fn readiness(&self) -> &Readiness {
        &self.0.readiness
    }

    /// The documentation index, opened at start, or why there is none.
    #[must_use]
    pub fn docs_search(&self) -> &DocsSearch {
        &self.0.docs
    }

    /// The OpenAI-compatible API's state: its keys and models, resolved at start, and this
    /// state's registry and metrics.
    #[cfg(feature = "openai-api")]
    pub(crate) fn openai(&self) -> &duo_openai_api::OpenAiState {
        &self.0.openai
    }

    /// The OpenAI-compatible API's resolved settings: its models and where they are served.
    #[cfg(feature = "openai-api")]
    #[must_use]
    pub fn openai_api(&self) -> &duo_openai_api::OpenAiApi {
        self.0.openai.api()
    }

    /// Resolves a prompt definition, mapping the registry's errors to the reference's statuses.
    pub(crate) fn resolve_prompt(
        &self,
        prompt_id: &str,
        family: &ModelFamily,
        constraint: &str,
    ) -> Result<&PromptDefinition, ApiError> {
        self.0
            .prompts
            .resolve(prompt_id, family, constraint)
            .map_err(|e| match e {
                ResolveError::NotFound { .. } => {
                    ApiError::NotFound(format!("Prompt '{prompt_id}' not found"))
                }
                ResolveError::InvalidConstraint { .. } => {
                    ApiError::Validation("Invalid version constraint".into())
                }
                ResolveError::NoMatchingVersion { .. } => {
                    ApiError::BadRequest("No prompt version found matching the query".into())
                }
                other => ApiError::Validation(other.to_string()),
            })
    }

    /// Whether an operator definition serves `family` (unknown to this version) for `prompt_id`.
    pub(crate) fn has_operator_family(&self, prompt_id: &str, family: &ModelFamily) -> bool {
        self.0.prompts.resolve(prompt_id, family, "*").is_ok()
    }

    /// The client for `endpoint` (built once per endpoint, already logged and measured), and
    /// for families that reason aloud (`ModelFamily::strips_reasoning`) with `<think>…</think>`
    /// stripped from its answers. Its calls are recorded on the request in scope, labelled with
    /// the feature and model the route recorded on it first (`RequestLog::set_feature`,
    /// `RequestLog::set_model`).
    pub(crate) async fn model(
        &self,
        endpoint: &ModelEndpoint,
    ) -> Result<Arc<dyn LanguageModel>, ApiError> {
        let model = self
            .0
            .models
            .model(endpoint)
            .await
            .map_err(ApiError::model)?;
        let model: Arc<dyn LanguageModel> = if self.0.config.custom_models.disable_streaming {
            Arc::new(WholeAnswer(model))
        } else {
            model
        };
        Ok(StripReasoning::when(
            endpoint.family().strips_reasoning(),
            model,
        ))
    }
}

/// The request's log record, when the request-log layer is installed (`router` installs it).
#[derive(Clone, Default)]
pub struct RequestLog(Option<RequestLogHandle>);

impl RequestLog {
    /// Records the feature served.
    pub fn set_feature(&self, feature: Feature) {
        if let Some(h) = &self.0 {
            h.set_feature(feature.as_str());
        }
    }

    /// Records that the request's model endpoint was not used.
    pub fn set_model_endpoint_ignored(&self) {
        if let Some(h) = &self.0 {
            h.set_model_endpoint_ignored();
        }
    }

    /// Records the model called.
    pub fn set_model(&self, endpoint: &ModelEndpoint) {
        if let Some(h) = &self.0 {
            h.set_model_family(endpoint.family().key());
            h.set_model_provider(endpoint.provider().as_str());
            h.set_model_identifier(endpoint.identifier().to_string());
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestLog {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<RequestLogHandle>().cloned()))
    }
}
