//! An OpenAI-compatible API over the models the operator names in `[openai_api]`, so the
//! OpenAI-speaking tools of a company (IDE plugins, scripts, the official `openai` clients) use
//! the same gateway, upstream clients, logs and metrics as GitLab.
//!
//! - `GET /v1/models`, `GET /v1/models/{model}`: the configured models (OpenAI's list shape).
//! - `POST /v1/chat/completions`: `messages` → a chat prompt; JSON or SSE
//!   (`chat.completion.chunk`, `stream_options.include_usage`, `data: [DONE]`).
//! - `POST /v1/completions`: `prompt` (and `suffix`) → a text or fill-in-the-middle prompt.
//! - Auth: `Authorization: Bearer <key>` with one of `openai_api.api_keys` /
//!   `openai_api.api_keys_file`, checked by this API's own layer (GitLab tokens do not apply).
//! - Errors: OpenAI's shape `{"error": {"message", "type", "param", "code"}}` ([`OpenAiError`]).
//!
//! The routes exist only when `openai_api.enabled` is true. See `OPENAI_API.md` in this crate.

pub mod config;
pub mod error;
mod keys;
mod models;
mod request;
mod routes;
mod sse;
pub mod wire;

use axum::Router;
use axum::routing::{get, post};

pub use config::{ClientKeyEntry, OpenAiApiConfig, OpenAiModelConfig};
pub use error::OpenAiError;
pub use keys::ClientName;
#[cfg(fuzzing)]
pub(crate) use routes::{chat_completions, completions};

use crate::config::ConfigError;
use crate::state::AppState;
use keys::ClientKeys;
use models::Models;

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
}

/// The OpenAI-compatible routes with their own key check, to `merge` into the gateway's router;
/// empty when `openai_api.enabled` is false.
pub fn router(state: &AppState) -> Router<AppState> {
    let api = state.openai_api();
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
}
