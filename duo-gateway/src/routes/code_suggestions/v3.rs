//! `POST /v3/code/completions` and `POST /v4/code/suggestions`: `prompt_components` and a
//! top-level `model_metadata`. Both share the body and the non-streaming answer; v3 streams raw
//! text, v4 server-sent events ([`super::sse`]).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use duo_core::Feature;
use duo_prompts::code::{ContextItem, CurrentFile};
use serde_json::Value;

use super::enabled_feature_flags;
use super::language_server::supports_advanced_context;
use super::pipeline::{self, Answer, Kind, PromptSource, Served, Suggestion};
use super::sse;
use super::wire_v3::{
    CodeContextPayload, CompletionRequest, CompletionResponse, ComponentMetadata, EditorPayload,
    ModelInfo, ResponseMetadata, StreamStart,
};
use crate::error::ApiError;
use crate::request_body::{check_len, check_opt_len, parse_body};
use crate::state::{AppState, RequestLog};
use crate::streaming;
use crate::wire::{Choice, ModelMetadata};
use duo_auth::Caller;

/// The 403 `detail` of both routes, for both features.
const DENIED: &str = "Unauthorized to access code suggestions";
/// The most components a request may carry.
const MAX_COMPONENTS: usize = 100;

/// Which route: they differ only in how they stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    V3,
    V4,
}

/// `POST /v3/code/completions`.
pub async fn v3_completions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    suggest(Api::V3, &state, &caller, &log, &headers, &body).await
}

/// `POST /v4/code/suggestions`.
pub async fn v4_suggestions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    suggest(Api::V4, &state, &caller, &log, &headers, &body).await
}

/// A validated body: the deciding editor component, the context items, the model.
struct Parsed {
    kind: Kind,
    editor: EditorPayload,
    context: Vec<ContextItem>,
    model_metadata: Option<ModelMetadata>,
}

async fn suggest(
    api: Api,
    state: &AppState,
    caller: &Caller,
    log: &RequestLog,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let Parsed {
        kind,
        editor,
        context,
        model_metadata,
    } = parse(body)?;
    log.set_feature(kind.feature());
    // The reference refuses gateway-issued (IDE direct access) tokens on these routes, for
    // completions as well as generations: those tokens serve `/v2/code/completions` only.
    if !caller.can(kind.feature().unit_primitive()) || caller.gateway_issued {
        return Err(ApiError::Forbidden(DENIED.into()));
    }
    let metadata = ModelMetadata::required(model_metadata.as_ref())?;
    check_model_metadata(metadata)?;
    if let Some(provider) = editor.model_provider.as_deref() {
        return Err(ApiError::Validation(format!(
            "prompt_components[0].payload.model_provider: '{provider}' is a GitLab-managed \
             provider, which this gateway does not serve; name the self-hosted model in \
             model_metadata"
        )));
    }
    let context = if supports_advanced_context(headers) {
        context
    } else {
        Vec::new()
    };
    let EditorPayload {
        file_name,
        content_above_cursor,
        content_below_cursor,
        language_identifier,
        stream,
        prompt_id,
        prompt_version,
        prompt_enhancer,
        ..
    } = editor;
    let (prompt_id, constraint, source) = match kind {
        Kind::Completions => (
            Feature::CodeCompletions.prompt_id(),
            "^1.0.0",
            PromptSource::Render {
                instruction: None,
                enhancer: None,
            },
        ),
        Kind::Generations => (
            prompt_id
                .as_deref()
                .filter(|id| !id.is_empty())
                .unwrap_or(Feature::CodeGenerations.prompt_id()),
            prompt_version
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or("^1.0.0"),
            PromptSource::Render {
                instruction: prompt_enhancer
                    .as_ref()
                    .and_then(|e| e.get("user_instruction"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                enhancer: prompt_enhancer,
            },
        ),
    };
    let served = pipeline::serve(
        state,
        caller,
        log,
        Suggestion {
            kind,
            model: metadata.fields(),
            prompt_id,
            constraint,
            file: CurrentFile::normalized(
                file_name,
                language_identifier.as_deref(),
                content_above_cursor,
                content_below_cursor,
            ),
            context,
            source,
            stream: stream.unwrap_or(false),
            denied: DENIED,
        },
    )
    .await?;
    let engine = metadata
        .provider
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or("litellm");
    Ok(respond(api, engine, headers, served))
}

/// The answer in the route's shape.
fn respond(api: Api, engine: &str, headers: &HeaderMap, served: Served) -> Response {
    let model = ModelInfo {
        engine: engine.to_owned(),
        name: served.family.key().to_owned(),
        lang: served.lang,
    };
    let metadata = ResponseMetadata {
        model: model.clone(),
        timestamp: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        enabled_feature_flags: enabled_feature_flags(headers),
        region: None,
    };
    match (served.answer, api) {
        (Answer::Stream(stream), Api::V3) => streaming::raw_text(stream),
        (Answer::Stream(stream), Api::V4) => sse::response(
            &StreamStart {
                metadata: &metadata,
            },
            stream,
        ),
        (Answer::Done(generation), _) => {
            let choices = if generation.text.is_empty() {
                Vec::new()
            } else {
                vec![Choice {
                    text: generation.text,
                    index: 0,
                    finish_reason: "length",
                }]
            };
            Json(CompletionResponse {
                choices,
                metadata,
                model,
            })
            .into_response()
        }
    }
}

/// Parses and validates the body; errors name the field, e.g. `prompt_components[2].payload.name`.
fn parse(body: &[u8]) -> Result<Parsed, ApiError> {
    let request: CompletionRequest = parse_body(body)?;
    let count = request.prompt_components.len();
    if count == 0 || count > MAX_COMPONENTS {
        return Err(ApiError::Validation(format!(
            "prompt_components: must have 1 to {MAX_COMPONENTS} items, not {count}"
        )));
    }
    let mut editor = None;
    let mut context = Vec::new();
    for (i, component) in request.prompt_components.into_iter().enumerate() {
        match parse_component(i, component)? {
            Component::Editor(kind, payload) if i == 0 => editor = Some((kind, payload)),
            Component::Editor(..) => {} // only the first component decides
            Component::Context(_) if i == 0 => {
                return Err(ApiError::Validation(
                    "prompt_components[0].type: the first component must be \
                     code_editor_completion or code_editor_generation"
                        .into(),
                ));
            }
            Component::Context(item) => context.push(item),
        }
    }
    let Some((kind, editor)) = editor else {
        return Err(ApiError::Validation(
            "prompt_components[0]: missing the editor component".into(),
        ));
    };
    Ok(Parsed {
        kind,
        editor,
        context,
        model_metadata: request.model_metadata,
    })
}

/// One parsed component.
enum Component {
    Editor(Kind, EditorPayload),
    Context(ContextItem),
}

fn parse_component(i: usize, component: Value) -> Result<Component, ApiError> {
    let Value::Object(mut fields) = component else {
        return Err(ApiError::Validation(format!(
            "prompt_components[{i}]: must be an object with type and payload"
        )));
    };
    let kind = match fields.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(_) => {
            return Err(ApiError::Validation(format!(
                "prompt_components[{i}].type: must be a string"
            )));
        }
        None => {
            return Err(ApiError::Validation(format!(
                "prompt_components[{i}].type: field required"
            )));
        }
    };
    if let Some(metadata) = fields.remove("metadata").filter(|m| !m.is_null()) {
        let metadata: ComponentMetadata = from_field(i, "metadata", metadata)?;
        check_len(
            &format!("prompt_components[{i}].metadata.source"),
            &metadata.source,
            255,
        )?;
        check_len(
            &format!("prompt_components[{i}].metadata.version"),
            &metadata.version,
            255,
        )?;
    }
    let payload = fields.remove("payload").ok_or_else(|| {
        ApiError::Validation(format!("prompt_components[{i}].payload: field required"))
    })?;
    match kind.as_str() {
        "code_editor_completion" | "code_editor_generation" => {
            let kind = if kind == "code_editor_completion" {
                Kind::Completions
            } else {
                Kind::Generations
            };
            let payload: EditorPayload = from_field(i, "payload", payload)?;
            check_editor(i, kind, &payload)?;
            Ok(Component::Editor(kind, payload))
        }
        "code_context" => {
            let p: CodeContextPayload = from_field(i, "payload", payload)?;
            let field = |name: &str| format!("prompt_components[{i}].payload.{name}");
            check_len(&field("type"), &p.kind, 1024)?;
            check_len(&field("name"), &p.name, 1024)?;
            check_len(&field("content"), &p.content, 100_000)?;
            Ok(Component::Context(ContextItem {
                kind: p.kind,
                name: p.name,
                content: p.content,
            }))
        }
        other => Err(ApiError::Validation(format!(
            "prompt_components[{i}].type: unknown component type '{}'; expected \
             code_editor_completion, code_editor_generation or code_context",
            other.chars().take(100).collect::<String>()
        ))),
    }
}

fn from_field<T: serde::de::DeserializeOwned>(
    i: usize,
    name: &str,
    value: Value,
) -> Result<T, ApiError> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::Validation(format!("prompt_components[{i}].{name}: {e}")))
}

/// The limits of the reference's editor payloads.
fn check_editor(i: usize, kind: Kind, p: &EditorPayload) -> Result<(), ApiError> {
    let field = |name: &str| format!("prompt_components[{i}].payload.{name}");
    check_len(&field("file_name"), p.file_name.trim(), 255)?;
    check_len(
        &field("content_above_cursor"),
        &p.content_above_cursor,
        100_000,
    )?;
    check_len(
        &field("content_below_cursor"),
        &p.content_below_cursor,
        100_000,
    )?;
    check_opt_len(
        &field("language_identifier"),
        p.language_identifier.as_deref(),
        255,
    )?;
    check_opt_len(&field("prompt_id"), p.prompt_id.as_deref(), 255)?;
    check_opt_len(&field("prompt_version"), p.prompt_version.as_deref(), 50)?;
    match (kind, &p.prompt) {
        (_, None) => {}
        (Kind::Generations, Some(Value::String(s))) => check_len(&field("prompt"), s, 400_000)?,
        (Kind::Completions, Some(Value::String(_) | Value::Array(_))) => {}
        (Kind::Generations, Some(_)) => {
            return Err(ApiError::Validation(format!(
                "{}: must be a string",
                field("prompt")
            )));
        }
        (Kind::Completions, Some(_)) => {
            return Err(ApiError::Validation(format!(
                "{}: must be a string or a list of messages",
                field("prompt")
            )));
        }
    }
    Ok(())
}

/// The limits of `model_metadata`; GitLab-managed and Amazon Q models are not served.
fn check_model_metadata(m: &ModelMetadata) -> Result<(), ApiError> {
    check_opt_len("model_metadata.provider", m.provider.as_deref(), 255)?;
    check_opt_len("model_metadata.name", m.name.as_deref(), 255)?;
    check_opt_len("model_metadata.endpoint", m.endpoint.as_deref(), 255)?;
    check_opt_len("model_metadata.identifier", m.identifier.as_deref(), 1000)?;
    if m.api_key
        .as_ref()
        .is_some_and(|k| k.expose().chars().count() > 2000)
    {
        return Err(ApiError::Validation(
            "model_metadata.api_key: must have at most 2000 characters".into(),
        ));
    }
    if let Some(provider @ ("gitlab" | "amazon_q")) = m.provider.as_deref() {
        return Err(ApiError::Validation(format!(
            "model_metadata.provider: '{provider}' models are GitLab-managed, which this gateway \
             does not serve"
        )));
    }
    Ok(())
}
