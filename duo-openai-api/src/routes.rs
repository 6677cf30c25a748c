//! The handlers: `GET /v1/models`, `GET /v1/models/{model}`, `POST /v1/chat/completions`,
//! `POST /v1/completions`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use duo_core::LanguageModel;
use duo_logging::RequestLogHandle;
use serde::Serialize;

use crate::OpenAiState;
use crate::error::OpenAiError;
use crate::models::OpenAiModel;
use crate::request::{self, Parsed, parse_json};
use crate::sse::{self, Framer, Kind};
use crate::wire::{
    AssistantMessage, ChatChoice, ChatCompletion, ModelList, ModelObject, TextChoice,
    TextCompletion, Usage,
};

/// `owned_by` of every listed model.
const OWNER: &str = "duo-gateway";

/// `GET /v1/models`: the configured models, in configuration order.
pub(crate) async fn list_models(State(state): State<OpenAiState>) -> Response {
    let api = state.api();
    let data = api
        .models
        .iter()
        .map(|m| model_object(m, api.started))
        .collect();
    json(&ModelList {
        object: "list",
        data,
    })
}

/// `GET /v1/models/{model}`: one model, or 404 `model_not_found`.
pub(crate) async fn retrieve_model(
    State(state): State<OpenAiState>,
    Path(model): Path<String>,
) -> Response {
    let api = state.api();
    match api.models.get(&model) {
        Some(m) => json(&model_object(m, api.started)),
        None => OpenAiError::model_not_found(&model).into_response(),
    }
}

fn model_object(m: &OpenAiModel, created: u64) -> ModelObject<'_> {
    ModelObject {
        id: &m.name,
        object: "model",
        created,
        owned_by: OWNER,
    }
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(state): State<OpenAiState>,
    log: Option<Extension<RequestLogHandle>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let log = log.map(|Extension(h)| h);
    let parsed = read(body)
        .and_then(|b| parse_json(&b))
        .and_then(request::chat);
    answer(&state, log, parsed, Kind::Chat).await
}

/// `POST /v1/completions`.
pub(crate) async fn completions(
    State(state): State<OpenAiState>,
    log: Option<Extension<RequestLogHandle>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let log = log.map(|Extension(h)| h);
    let parsed = read(body)
        .and_then(|b| parse_json(&b))
        .and_then(request::completion);
    answer(&state, log, parsed, Kind::Text).await
}

/// The body, or axum's rejection (e.g. 413 over `fastapi.body_limit_bytes`) in OpenAI's shape.
fn read(body: Result<Bytes, BytesRejection>) -> Result<Bytes, OpenAiError> {
    body.map_err(|e| OpenAiError::rejected(e.status(), e.body_text()))
}

async fn answer(
    state: &OpenAiState,
    log: Option<RequestLogHandle>,
    parsed: Result<Parsed, OpenAiError>,
    kind: Kind,
) -> Response {
    let feature = match kind {
        Kind::Chat => "openai_chat_completions",
        Kind::Text => "openai_completions",
    };
    if let Some(h) = &log {
        h.set_feature(feature);
    }
    match call(state, log.as_ref(), parsed, kind).await {
        Ok(response) => response,
        Err(e) => {
            if let Some(h) = &log {
                h.set_error(format!("openai_{}", e.status().as_u16()), e.message());
            }
            e.into_response()
        }
    }
}

async fn call(
    state: &OpenAiState,
    log: Option<&RequestLogHandle>,
    parsed: Result<Parsed, OpenAiError>,
    kind: Kind,
) -> Result<Response, OpenAiError> {
    let parsed = parsed?;
    let model = state
        .api()
        .models
        .get(&parsed.model)
        .ok_or_else(|| OpenAiError::model_not_found(&parsed.model))?;
    let endpoint = &model.endpoint;
    if let Some(h) = &log {
        h.set_model_family(endpoint.family().key());
        h.set_model_provider(endpoint.provider().as_str());
        h.set_model_identifier(endpoint.identifier().to_string());
    }
    // Decorated once by the registry: the call is logged on this request (its scope).
    let client = state
        .registry()
        .model(endpoint)
        .await
        .map_err(|e| upstream_error(&e))?;
    let created = now();
    let id = match kind {
        Kind::Chat => format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        Kind::Text => format!("cmpl-{}", uuid::Uuid::new_v4().simple()),
    };
    if parsed.stream {
        let events = client
            .generate_stream(&parsed.request)
            .await
            .map_err(|e| upstream_error(&e))?;
        let framer = Framer {
            id,
            created,
            model: parsed.model,
            kind,
            include_usage: parsed.include_usage,
        };
        return Ok(sse::response(events, framer, client.upstream().to_owned()));
    }
    let generation = client
        .generate(&parsed.request)
        .await
        .map_err(|e| upstream_error(&e))?;
    let usage = generation.usage.map(Usage::from);
    let finish_reason = generation.finish_reason.as_str();
    Ok(match kind {
        Kind::Chat => json(&ChatCompletion {
            id: &id,
            object: "chat.completion",
            created,
            model: &parsed.model,
            choices: &[ChatChoice {
                index: 0,
                message: AssistantMessage {
                    role: "assistant",
                    content: (!generation.text.is_empty() || generation.tool_calls.is_empty())
                        .then_some(generation.text.as_str()),
                    tool_calls: generation
                        .tool_calls
                        .iter()
                        .map(crate::tools::call_out)
                        .collect(),
                },
                logprobs: None,
                finish_reason,
            }],
            usage,
        }),
        Kind::Text => json(&TextCompletion {
            id: &id,
            object: "text_completion",
            created,
            model: &parsed.model,
            choices: &[TextChoice {
                text: &generation.text,
                index: 0,
                logprobs: None,
                finish_reason: Some(finish_reason),
            }],
            usage: usage.map(Some),
        }),
    })
}

/// Logs the model error in full (the client gets the mapped, URL-free message).
fn upstream_error(e: &duo_core::Error) -> OpenAiError {
    tracing::warn!(error = %e, kind = e.kind(), "model call failed (OpenAI-compatible API)");
    OpenAiError::upstream(e)
}

/// A JSON response with a `Content-Length` (one write).
fn json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize an OpenAI response");
            OpenAiError::upstream(&duo_core::Error::Config(e.to_string())).into_response()
        }
    }
}

/// Unix seconds.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
