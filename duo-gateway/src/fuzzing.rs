//! Entry points for the fuzz targets in `fuzz/`, compiled only with `--cfg fuzzing` (as
//! `cargo fuzz` builds): not public API.
//!
//! [`call`] runs a route's own handler on a body, with a bypassed caller (every scope) and a
//! state whose model registry builds and checks each client but hands out a stand-in that answers
//! without I/O (`duo_providers::fuzzing::StandIn`): parsing, validation, model selection, prompt
//! resolution and rendering, and the answer's shaping are the production code. The JWT helpers
//! are in `duo_auth::fuzzing`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use duo_core::Secret;

use crate::config::Config;
use crate::routes::{chat_agent, chat_v1, code_suggestions, prompts};
use crate::state::{AppState, RequestLog};
use duo_openai_api::{ClientKeyEntry, OpenAiModelConfig};

/// The chat agent's pieces the `react_parser` target drives directly.
pub use crate::routes::chat_agent::{react_parser::ReactParser, stream::lines, wire::AgentEvent};

/// The model name the OpenAI-compatible routes serve in [`state`].
pub const OPENAI_MODEL: &str = "fuzz-model";

/// A route that takes a body, with its path parameter where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /v2/code/completions`.
    V2Completions,
    /// `POST /v2/code/generations`.
    V2Generations,
    /// `POST /v3/code/completions`.
    V3Completions,
    /// `POST /v4/code/suggestions`.
    V4Suggestions,
    /// `POST /v1/prompts/{prompt_id}`.
    PromptsV1(String),
    /// `POST /v2/prompts/{prompt_id}`.
    PromptsV2(String),
    /// `POST /v2/chat/agent`.
    ChatAgent,
    /// `POST /v1/chat/{chat_invokable}`.
    ChatV1(String),
    /// `POST /v1/chat/completions` (OpenAI-compatible).
    OpenAiChat,
    /// `POST /v1/completions` (OpenAI-compatible).
    OpenAiCompletions,
}

/// The state the routes run with: request-supplied endpoints honoured (`custom_models.enabled`),
/// Bedrock with a region and static keys (so nothing is looked up), the OpenAI-compatible API on
/// with one model, [`OPENAI_MODEL`].
///
/// # Panics
/// If that configuration does not start (a bug in this function).
#[must_use]
pub fn state() -> AppState {
    let mut config = Config::default();
    config.custom_models.enabled = true;
    config.providers.bedrock.region = Some("us-east-1".into());
    config.providers.bedrock.access_key_id = Some("AKIDFUZZ".into());
    config.providers.bedrock.secret_access_key = Some(Secret::new("fuzz-secret"));
    config.openai_api.enabled = true;
    config.openai_api.api_keys = vec![ClientKeyEntry::Plain(Secret::new("fuzz-client-key"))];
    config.openai_api.models = vec![OpenAiModelConfig {
        name: OPENAI_MODEL.into(),
        identifier: "custom_openai/fuzz".into(),
        endpoint: Some("http://127.0.0.1:9/v1".into()),
        api_key: None,
        api_key_env: None,
        api_key_file: None,
        family: Some("mistral".into()),
    }];
    #[allow(clippy::expect_used)]
    AppState::new(config).expect("the fuzz configuration starts")
}

/// The prompt ids [`state`]'s registry knows, for [`Route::PromptsV1`] and [`Route::PromptsV2`].
#[must_use]
pub fn prompt_ids(state: &AppState) -> Vec<String> {
    state
        .prompts()
        .prompt_ids()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The names `/v1/chat/{chat_invokable}` serves, for [`Route::ChatV1`].
#[must_use]
pub fn chat_invokables() -> Vec<String> {
    chat_v1::invokables().map(str::to_owned).collect()
}

/// Runs `route`'s handler on `headers` and `body` as the router would after authentication.
pub async fn call(state: &AppState, route: &Route, headers: HeaderMap, body: Bytes) -> Response {
    let caller = || {
        Extension(duo_auth::fuzzing::bypass_caller(
            Some("1".into()),
            Some("2".into()),
        ))
    };
    let log = RequestLog::default;
    let st = || State(state.clone());
    let result = match route {
        Route::V2Completions => {
            code_suggestions::completions(st(), caller(), log(), headers, body).await
        }
        Route::V2Generations => {
            code_suggestions::generations(st(), caller(), log(), headers, body).await
        }
        Route::V3Completions => {
            code_suggestions::v3_completions(st(), caller(), log(), headers, body).await
        }
        Route::V4Suggestions => {
            code_suggestions::v4_suggestions(st(), caller(), log(), headers, body).await
        }
        Route::PromptsV1(id) => {
            prompts::invoke_v1(st(), caller(), log(), Path(id.clone()), body).await
        }
        Route::PromptsV2(id) => {
            prompts::invoke_v2(st(), caller(), log(), Path(id.clone()), body).await
        }
        Route::ChatAgent => chat_agent::agent(st(), caller(), log(), body).await,
        Route::ChatV1(name) => chat_v1::chat(st(), caller(), log(), Path(name.clone()), body).await,
        Route::OpenAiChat => {
            return duo_openai_api::fuzzing::chat_completions(state.openai(), body).await;
        }
        Route::OpenAiCompletions => {
            return duo_openai_api::fuzzing::completions(state.openai(), body).await;
        }
    };
    result.unwrap_or_else(IntoResponse::into_response)
}
