//! `POST /v2/code/completions` (alias `/v2/completions`) and `POST /v2/code/generations`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use duo_core::{Feature, Message, ModelFamily, Prompt};
use duo_prompts::PromptDefinition;
use serde_json::Value;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::model_selection::{ModelFields, select};
use crate::state::{AppState, RequestLog};
use crate::streaming;
use crate::wire::{
    Choice, CodeSuggestionsRequest, CodeSuggestionsResponse, ModelInfo, ResponseMetadata,
    TokensConsumption, check_len, check_opt_len, parse_body,
};

/// Which of the two features a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Completions,
    Generations,
}

impl Kind {
    fn feature(self) -> Feature {
        match self {
            Self::Completions => Feature::CodeCompletions,
            Self::Generations => Feature::CodeGenerations,
        }
    }

    /// Family keys the reference accepts with `model_provider: litellm`.
    fn accepted_families(self) -> &'static [&'static str] {
        match self {
            Self::Completions => &[
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
            ],
            Self::Generations => &[
                "codegemma",
                "codellama",
                "codestral",
                "deepseekcoder",
                "llama3",
                "mistral",
                "mixtral",
                "claude_3",
                "gpt",
            ],
        }
    }

    fn forbidden(self) -> ApiError {
        ApiError::Forbidden(match self {
            Self::Completions => "Unauthorized to access code completions".into(),
            Self::Generations => "Unauthorized to access code generations".into(),
        })
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
    let allowed = caller.can(kind.feature().unit_primitive())
        && !(kind == Kind::Generations && caller.gateway_issued);
    if !allowed {
        return Err(kind.forbidden());
    }
    let request: CodeSuggestionsRequest = parse_body(body)?;
    validate(&request)?;
    let family_key = request
        .model_name
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    check_provider(kind, request.model_provider.as_deref(), family_key, state)?;

    let endpoint = select(
        ModelFields {
            family: request.model_name.as_deref(),
            identifier: request.model_identifier.as_deref(),
            endpoint: request.model_endpoint.as_deref(),
            api_key: request.model_api_key.as_ref(),
        },
        &state.config().custom_models,
    )?;
    log.set_model(&endpoint);
    let family = endpoint.family().clone();
    let prompt_id = match kind {
        Kind::Completions => Feature::CodeCompletions.prompt_id(),
        Kind::Generations => request
            .prompt_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .unwrap_or(Feature::CodeGenerations.prompt_id()),
    };
    let definition = state.resolve_prompt(prompt_id, &family, "^1.0.0")?;

    let (file, context) = to_current_file(&request);
    let lang = duo_prompts::code::language_of(&file);

    let model_request = match (request.prompt_version, &request.prompt) {
        (2, Some(Value::String(text))) if !text.is_empty() && kind == Kind::Completions => {
            definition.passthrough(Prompt::Text(text.clone()))
        }
        (3, Some(messages)) => definition.passthrough(Prompt::Chat(parse_messages(messages)?)),
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
        _ => {
            let inputs = match kind {
                Kind::Completions => {
                    let Some(inputs) =
                        duo_prompts::code::completion_inputs(&family, &file, &context)
                    else {
                        // As the reference: no language, no suggestion, and no model call.
                        return Ok(json_answer(headers, &family, lang, String::new(), None));
                    };
                    inputs
                }
                Kind::Generations => {
                    let instruction = match &request.prompt {
                        Some(Value::String(s)) => Some(s.as_str()),
                        _ => None,
                    };
                    duo_prompts::code::generation_inputs(&family, &file, instruction, &context)
                }
            };
            render(definition, &inputs)?
        }
    };

    let model = state.model(&endpoint, kind.feature(), log).await?;
    if request.stream {
        let stream = model
            .generate_stream(&model_request)
            .await
            .map_err(ApiError::model)?;
        return Ok(streaming::raw_text(stream));
    }
    let generation = model
        .generate(&model_request)
        .await
        .map_err(ApiError::model)?;
    Ok(json_answer(
        headers,
        &family,
        lang,
        generation.text,
        generation.usage.map(|u| TokensConsumption {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
        }),
    ))
}

fn render(
    definition: &PromptDefinition,
    inputs: &serde_json::Map<String, Value>,
) -> Result<duo_core::ModelRequest, ApiError> {
    definition
        .render(inputs)
        .map_err(|e| ApiError::Validation(e.to_string()))
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
    let accepted = kind
        .accepted_families()
        .contains(&family_key.to_ascii_lowercase().as_str())
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
            kind.accepted_families().join(", ")
        )))
    }
}

fn to_current_file(
    r: &CodeSuggestionsRequest,
) -> (
    duo_prompts::code::CurrentFile,
    Vec<duo_prompts::code::ContextItem>,
) {
    let file = duo_prompts::code::CurrentFile {
        file_name: r.current_file.file_name.trim().to_owned(),
        language_identifier: r
            .current_file
            .language_identifier
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_ascii_lowercase),
        content_above_cursor: r.current_file.content_above_cursor.clone(),
        content_below_cursor: r.current_file.content_below_cursor.clone(),
    };
    let context = r
        .context
        .iter()
        .map(|c| duo_prompts::code::ContextItem {
            kind: c.kind.clone(),
            name: c.name.clone(),
            content: c.content.clone(),
        })
        .collect();
    (file, context)
}

/// A version-3 `prompt`: a list of `{role, content}`.
fn parse_messages(value: &Value) -> Result<Vec<Message>, ApiError> {
    let messages: Vec<Message> = serde_json::from_value(value.clone()).map_err(|e| {
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
            engine: "litellm",
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

/// The flags the instance pushed in `x-gitlab-enabled-feature-flags`, echoed back.
pub fn enabled_feature_flags(headers: &HeaderMap) -> Vec<String> {
    headers
        .get("x-gitlab-enabled-feature-flags")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
