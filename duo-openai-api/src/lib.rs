//! # duo-openai-api
//!
//! An OpenAI-compatible API over the models an operator names, so the OpenAI-speaking tools of a
//! company (IDE plugins, scripts, the official `openai` clients) use the same upstream clients,
//! logs and metrics as GitLab Duo. The duo gateway mounts it (Cargo feature `openai-api`, on by
//! default); another axum service can mount it alone.
//!
//! - `GET /v1/models`, `GET /v1/models/{model}`: the configured models (OpenAI's list shape).
//! - `POST /v1/chat/completions`: `messages` → a chat prompt; JSON or SSE
//!   (`chat.completion.chunk`, `stream_options.include_usage`, `data: [DONE]`).
//! - `POST /v1/completions`: `prompt` (and `suffix`) → a text or fill-in-the-middle prompt.
//! - Auth: `Authorization: Bearer <key>` with one of `openai_api.api_keys` /
//!   `openai_api.api_keys_file`, checked by this API's own layer (GitLab tokens do not apply).
//! - Errors: OpenAI's shape `{"error": {"message", "type", "param", "code"}}` ([`OpenAiError`]).
//!
//! [`OpenAiState`] holds what the routes need: the resolved [`OpenAiApi`] settings (client keys
//! as digests, models with their upstream keys), and the provider [`Registry`] the application
//! shares with its other routes. [`router`] gives the routes with that state. Calls are logged
//! and measured when the registry's clients are decorated with `duo_logging::Logged` and the
//! router sits behind `duo_logging::RequestLogLayer`, as in the gateway:
//!
//! ```
//! use std::sync::Arc;
//! use duo_logging::{Logged, Metrics, RequestLogLayer, RequestLogSettings};
//! use duo_openai_api::{OpenAiApiConfig, OpenAiState};
//! use duo_providers::{ProviderConfig, Registry};
//! use serde_json::{Value, json};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let vllm_url = "http://vllm:8000/v1";
//! # // the doctest's vLLM: a fake on loopback
//! # let vllm = duo_testkit::openai::FakeOpenAi::start().await;
//! # vllm.set_default(duo_testkit::openai::Reply::answer("fn add(a: i32, b: i32) -> i32 { a + b }"));
//! # let vllm_url = vllm.url();
//! // `[openai_api]` (OPENAI_API.md), here from JSON
//! let config: OpenAiApiConfig = serde_json::from_value(json!({
//!     "enabled": true,
//!     "api_keys": ["sk-team-a"],
//!     "models": [{"name": "codestral", "identifier": "custom_openai/Codestral-22B-v0.1", "endpoint": vllm_url}],
//! }))?;
//! let metrics = Arc::new(Metrics::new());
//! let for_clients = Arc::clone(&metrics);
//! let registry = Registry::new(ProviderConfig::default()).with_decorator(move |endpoint, model| {
//!     Arc::new(Logged::new(model, Arc::clone(&for_clients), endpoint.family().key()))
//! });
//! let state = OpenAiState::new(&config, Arc::new(registry))?;
//! let app = duo_openai_api::router(state)
//!     .layer(RequestLogLayer::new(RequestLogSettings::default(), metrics));
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let base_url = format!("http://{}/v1", listener.local_addr()?);
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! // What any OpenAI client does with `base_url` and a client key:
//! let completion: Value = reqwest::Client::new()
//!     .post(format!("{base_url}/chat/completions"))
//!     .bearer_auth("sk-team-a")
//!     .json(&json!({"model": "codestral", "messages": [{"role": "user", "content": "Add in Rust"}]}))
//!     .send().await?.error_for_status()?.json().await?;
//! assert_eq!(completion["choices"][0]["message"]["content"], "fn add(a: i32, b: i32) -> i32 { a + b }");
//! # Ok(()) }
//! ```
//!
//! `OPENAI_API.md` in this crate is the operator's page: settings, errors, streaming.

mod config;
mod error;
mod keys;
mod models;
mod request;
mod routes;
mod sse;
mod tools;
mod wire;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use duo_providers::Registry;

pub use config::{ClientKeyEntry, OpenAiApiConfig, OpenAiModelConfig};
pub use error::OpenAiError;
pub use keys::ClientName;

use keys::ClientKeys;
use models::Models;

/// Settings of `[openai_api]` that cannot be used; the message names the setting (e.g.
/// `openai_api.models[1].identifier`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The OpenAI-compatible API's resolved settings: client keys (as digests) and models (with
/// their upstream keys read from the environment or files), built once at start.
#[derive(Debug)]
pub struct OpenAiApi {
    enabled: bool,
    keys: ClientKeys,
    models: Models,
    /// Unix seconds at start, the `created` of listed models.
    started: u64,
}

impl OpenAiApi {
    /// Resolves `[openai_api]`; when it is disabled nothing is read and nothing is served.
    ///
    /// # Errors
    /// An invalid model entry, an unreadable key file, an unset key variable, or no client key,
    /// naming the setting (e.g. `openai_api.models[1].identifier`).
    pub fn from_config(config: &OpenAiApiConfig) -> Result<Self, ConfigError> {
        if !config.enabled {
            return Ok(Self::disabled());
        }
        let keys = ClientKeys::resolve(config)?;
        let models = Models::resolve(&config.models)?;
        if models.len() == 0 {
            return Err(ConfigError(
                "openai_api.models: the OpenAI-compatible API is enabled but lists no model".into(),
            ));
        }
        Ok(Self {
            enabled: true,
            keys,
            models,
            started: routes::now(),
        })
    }

    /// An API that serves nothing.
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            keys: ClientKeys::none(),
            models: Models::default(),
            started: 0,
        }
    }

    /// Whether the routes are served.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The model names clients may use, in configuration order.
    pub fn model_names(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|m| m.name.as_str())
    }

    /// Each model's name and the endpoint it is served from (upstream key resolved), in
    /// configuration order.
    pub fn endpoints(&self) -> impl Iterator<Item = (&str, &duo_core::ModelEndpoint)> {
        self.models.iter().map(|m| (m.name.as_str(), &m.endpoint))
    }
}

/// What the routes need, cheap to clone: the resolved API settings, and the provider registry
/// shared with the rest of the application.
#[derive(Clone, Debug)]
pub struct OpenAiState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    api: OpenAiApi,
    registry: Arc<Registry>,
}

impl OpenAiState {
    /// Resolves `config` (see [`OpenAiApi::from_config`]) and keeps the shared parts.
    ///
    /// # Errors
    /// As [`OpenAiApi::from_config`].
    pub fn new(config: &OpenAiApiConfig, registry: Arc<Registry>) -> Result<Self, ConfigError> {
        Ok(Self::from_api(OpenAiApi::from_config(config)?, registry))
    }

    /// The state of already resolved settings.
    #[must_use]
    pub fn from_api(api: OpenAiApi, registry: Arc<Registry>) -> Self {
        Self(Arc::new(Inner { api, registry }))
    }

    /// The resolved settings.
    #[must_use]
    pub fn api(&self) -> &OpenAiApi {
        &self.0.api
    }

    fn registry(&self) -> &Registry {
        &self.0.registry
    }
}

/// The OpenAI-compatible routes with their own key check, to serve or to `merge` into another
/// router; empty when `openai_api.enabled` is false.
pub fn router(state: OpenAiState) -> Router {
    let api = state.api();
    if !api.is_enabled() {
        return Router::new();
    }
    tracing::info!(
        client_keys = api.keys.len(),
        models = %api.model_names().collect::<Vec<_>>().join(", "),
        "OpenAI-compatible API enabled"
    );
    Router::new()
        .route("/v1/models", get(routes::list_models))
        .route("/v1/models/{*model}", get(routes::retrieve_model))
        .route("/v1/chat/completions", post(routes::chat_completions))
        .route("/v1/completions", post(routes::completions))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            keys::require_key,
        ))
        .with_state(state)
}
