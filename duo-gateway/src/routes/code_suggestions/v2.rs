//! `POST /v2/code/completions` (alias `/v2/completions`) and `POST /v2/code/generations`: flat
//! model fields, `current_file`, `prompt_version` 1 (build the prompt), 2 (a ready string) or 3
//! (ready messages).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use duo_core::{Feature, Message, ModelFamily, Prompt};
use duo_prompts::code::{ContextItem, CurrentFile};
use serde_json::Value;

use super::enabled_feature_flags;
use super::pipeline::{self, Answer, Kind, PromptSource, Suggestion};
use crate::error::ApiError;
use crate::model_selection::ModelFields;
use crate::request_body::{check_len, check_opt_len, parse_body};
use crate::state::{AppState, RequestLog};
use crate::streaming;
use crate::wire::{
    Choice, CodeSuggestionsRequest, CodeSuggestionsResponse, ModelInfo, ResponseMetadata,
    TokensConsumption,
};
use duo_auth::Caller;

/// The engine the v2 routes answer with: the provider label of self-hosted models.
const ENGINE: &str = "litellm";

/// Family keys the reference accepts with `model_provider: litellm`.
fn accepted_families(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Completions => &[
            "codegemma",
            "codellama",
            "codestral",
            "codestral-2501",
            "codestral-2508",
            "deepseekcoder",
            "llama3",
            "mistral",
            "mixtral",
            "claude_3",
            "gpt",
            "qwen2p5-coder-7b",
            "qwen",
            "gemini",
            "general",
        ],
        Kind::Generations => &[
            "codegemma",
            "codellama",
            "codestral",
            "deepseekcoder",
            "llama3",
            "mistral",
            "mixtral",
            "claude_3",
            "gpt",
            "qwen",
            "gemini",
            "general",
        ],
    }
}

/// The 403 `detail` of each v2 route.
fn denied(kind: Kind) -> &'static str {
    match kind {
        Kind::Completions => "Unauthorized to access code completions",
        Kind::Generations => "Unauthorized to access code generations",
    }
}

/// `POST /v2/code/completions`.
pub async fn completions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    suggest(Kind::Completions, &state, &caller, &log, &headers, &body).await
}

/// `POST /v2/code/generations`.
pub async fn generations(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    suggest(Kind::Generations, &state, &caller, &log, &headers, &body).await
}

async fn suggest(
    kind: Kind,
    state: &AppState,
    caller: &Caller,
    log: &RequestLog,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    log.set_feature(kind.feature());
    // Gateway-issued (IDE direct access) tokens serve completions only, as in the reference.
    let allowed = caller.can(kind.feature().unit_primitive())
        && !(kind == Kind::Generations && caller.gateway_issued);
    if !allowed {
        return Err(ApiError::Forbidden(denied(kind).into()));
    }
    let request: CodeSuggestionsRequest = parse_body(body)?;
    validate(&request)?;
    let family_key = request
        .model_name
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    check_provider(kind, request.model_provider.as_deref(), family_key, state)?;

    let CodeSuggestionsRequest {
        prompt_version,
        current_file,
        model_name,
        model_endpoint,
        model_api_key,
        model_identifier,
        stream,
        context,
        prompt_id,
        prompt,
        ..
    } = request;
    let source = prompt_source(kind, prompt_version, prompt)?;
    let prompt_id = match kind {
        Kind::Completions => Feature::CodeCompletions.prompt_id(),
        Kind::Generations => prompt_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .unwrap_or(Feature::CodeGenerations.prompt_id()),
    };
    let served = pipeline::serve(
        state,
        caller,
        log,
        Suggestion {
            kind,
            model: ModelFields {
                family: model_name.as_deref(),
                identifier: model_identifier.as_deref(),
                endpoint: model_endpoint.as_deref(),
                api_key: model_api_key.as_ref(),
            },
            prompt_id,
            constraint: "^1.0.0",
            file: to_current_file(current_file),
            context: context.into_iter().map(to_context_item).collect(),
            source,
            stream,
            denied: denied(kind),
        },
    )
    .await?;
    Ok(match served.answer {
        Answer::Stream(stream) => streaming::raw_text(stream),
        Answer::Done(generation) => json_answer(
            headers,
            &served.family,
            served.lang,
            generation.text,
            generation.usage.map(|u| TokensConsumption {
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
            }),
        ),
    })
}

/// `prompt_version` 2 with a prompt string (completions) and 3 send the client's prompt; the rest
/// render the family's definition.
fn prompt_source(
    kind: Kind,
    prompt_version: u8,
    prompt: Option<Value>,
) -> Result<PromptSource, ApiError> {
    Ok(match (prompt_version, prompt) {
        (2, Some(Value::String(text))) if !text.is_empty() && kind == Kind::Completions => {
            PromptSource::Passthrough(Prompt::Text(text))
        }
        (3, Some(messages)) => PromptSource::Passthrough(Prompt::Chat(parse_messages(messages)?)),
        (3, None) => {
            return Err(ApiError::Validation(
                "prompt: prompt_version 3 requires a list of {role, content} messages".into(),
            ));
        }
        (2, None | Some(Value::Null)) if kind == Kind::Generations => {
            return Err(ApiError::Validation(
                "prompt: prompt_version 2 requires a prompt string".into(),
            ));
        }
        (_, prompt) => PromptSource::Render {
            instruction: match (kind, prompt) {
                (Kind::Generations, Some(Value::String(s))) => Some(s),
                _ => None,
            },
            enhancer: None,
        },
    })
}

/// The field maxima of the reference's schema.
fn validate(r: &CodeSuggestionsRequest) -> Result<(), ApiError> {
    if !(1..=3).contains(&r.prompt_version) {
        return Err(ApiError::Validation(format!(
            "prompt_version: must be 1, 2 or 3, not {}",
            r.prompt_version
        )));
    }
    let f = &r.current_file;
    check_len("current_file.file_name", &f.file_name, 255)?;
    check_opt_len(
        "current_file.language_identifier",
        f.language_identifier.as_deref(),
        255,
    )?;
    check_len(
        "current_file.content_above_cursor",
        &f.content_above_cursor,
        100_000,
    )?;
    check_len(
        "current_file.content_below_cursor",
        &f.content_below_cursor,
        100_000,
    )?;
    check_opt_len("project_path", r.project_path.as_deref(), 255)?;
    check_opt_len("model_name", r.model_name.as_deref(), 50)?;
    check_opt_len("model_endpoint", r.model_endpoint.as_deref(), 255)?;
    check_opt_len("model_identifier", r.model_identifier.as_deref(), 1000)?;
    if r.model_api_key
        .as_ref()
        .is_some_and(|k| k.expose().chars().count() > 2000)
    {
        return Err(ApiError::Validation(
            "model_api_key: must have at most 2000 characters".into(),
        ));
    }
    if r.telemetry.len() > 10 {
        return Err(ApiError::Validation("telemetry: at most 10 items".into()));
    }
    if r.context.len() > 100 {
        return Err(ApiError::Validation("context: at most 100 items".into()));
    }
    for (i, item) in r.context.iter().enumerate() {
        check_len(&format!("context[{i}].type"), &item.kind, 1024)?;
        check_len(&format!("context[{i}].name"), &item.name, 1024)?;
        check_len(&format!("context[{i}].content"), &item.content, 500_000)?;
    }
    Ok(())
}

/// Self-hosted models come with `model_provider: litellm`; GitLab-managed providers are not served.
fn check_provider(
    kind: Kind,
    provider: Option<&str>,
    family_key: &str,
    state: &AppState,
) -> Result<(), ApiError> {
    match provider {
        None | Some("litellm") => {}
        Some(other) => {
            return Err(ApiError::Validation(format!(
                "model_provider '{other}' is a GitLab-managed provider, which this gateway does not \
                 serve; self-hosted models use 'litellm'"
            )));
        }
    }
    if family_key.is_empty() {
        return Ok(()); // `select` reports the missing name
    }
    let family = ModelFamily::parse(family_key);
    let accepted = accepted_families(kind).contains(&family_key.to_ascii_lowercase().as_str())
        || (!family.is_known() && state.has_operator_family(kind.feature().prompt_id(), &family));
    if accepted {
        Ok(())
    } else {
        Err(ApiError::Validation(format!(
            "model_name '{family_key}' is not supported for {}; supported: {}",
            match kind {
                Kind::Completions => "code completions",
                Kind::Generations => "code generations",
            },
            accepted_families(kind).join(", ")
        )))
    }
}

/// The editor's file as the prompt inputs take it ([`CurrentFile::normalized`]).
fn to_current_file(f: crate::wire::CurrentFile) -> CurrentFile {
    CurrentFile::normalized(
        f.file_name,
        f.language_identifier.as_deref(),
        f.content_above_cursor,
        f.content_below_cursor,
    )
}

fn to_context_item(c: crate::wire::ContextItem) -> ContextItem {
    ContextItem {
        kind: c.kind,
        name: c.name,
        content: c.content,
    }
}

/// A version-3 `prompt`: a list of `{role, content}`.
fn parse_messages(value: Value) -> Result<Vec<Message>, ApiError> {
    let messages: Vec<Message> = serde_json::from_value(value).map_err(|e| {
        ApiError::Validation(format!(
            "prompt: expected a list of {{role, content}} messages: {e}"
        ))
    })?;
    if messages.is_empty() {
        return Err(ApiError::Validation(
            "prompt: the message list is empty".into(),
        ));
    }
    Ok(messages)
}

fn json_answer(
    headers: &HeaderMap,
    family: &ModelFamily,
    lang: Option<String>,
    text: String,
    tokens: Option<TokensConsumption>,
) -> Response {
    let choices = if text.is_empty() {
        Vec::new()
    } else {
        vec![Choice {
            text,
            index: 0,
            finish_reason: "length",
        }]
    };
    Json(CodeSuggestionsResponse {
        id: "id",
        object: "text_completion",
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        model: ModelInfo {
            engine: ENGINE,
            name: family.key().to_owned(),
            lang,
            tokens_consumption_metadata: tokens,
        },
        experiments: Vec::new(),
        metadata: ResponseMetadata {
            enabled_feature_flags: enabled_feature_flags(headers),
        },
        choices,
    })
    .into_response()
}
