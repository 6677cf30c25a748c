//! The deprecated `POST /v1/chat/{chat_invokable}`: a ready prompt sent to a self-hosted model.
//!
//! Older GitLab instances and GitLab's own troubleshooting docs still call it (most often as
//! `/v1/chat/agent`). The caller sends the prompt (a string or messages) and the model; the
//! gateway sends it as a chat call with the defaults of GitLab's gateway (temperature 0.2,
//! top_p 0.95, 2048 tokens, the family's stop tokens, 30 s), unless `params` says otherwise, and
//! answers `{"response", "metadata"}` or, with `stream`, the raw text chunks.
//!
//! Only `provider: litellm` (self-hosted) is served; GitLab-managed providers (Anthropic) are
//! refused with 422.

pub mod wire;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use duo_core::{
    Feature, GenerationParams, Message, ModelFamily, ModelRequest, Prompt, UnitPrimitive,
};
use serde_json::Value;

use crate::error::ApiError;
use crate::model_selection::{ModelFields, select};
use crate::request_body::{check_len, check_opt_len, parse_body};
use crate::state::{AppState, RequestLog};
use crate::streaming;
use duo_auth::Caller;
use wire::{ChatRequest, ChatResponse, ChatResponseMetadata, Params, PromptPayload};

/// The invokables, the unit primitive each needs, and the feature it is logged as.
const INVOKABLES: &[(&str, UnitPrimitive, Feature)] = &[
    ("explain_code", UnitPrimitive::DuoChat, Feature::ExplainCode),
    ("write_tests", UnitPrimitive::DuoChat, Feature::WriteTests),
    (
        "refactor_code",
        UnitPrimitive::DuoChat,
        Feature::RefactorCode,
    ),
    (
        "explain_vulnerability",
        UnitPrimitive::ExplainVulnerability,
        Feature::ExplainVulnerability,
    ),
    (
        "summarize_comments",
        UnitPrimitive::SummarizeComments,
        Feature::SummarizeComments,
    ),
    (
        "troubleshoot_job",
        UnitPrimitive::TroubleshootJob,
        Feature::TroubleshootJob,
    ),
    ("agent", UnitPrimitive::DuoChat, Feature::DuoChat),
];

/// The invokables' names (for the fuzz targets).
#[cfg(fuzzing)]
pub(crate) fn invokables() -> impl Iterator<Item = &'static str> {
    INVOKABLES.iter().map(|(name, ..)| *name)
}

/// GitLab's defaults for this route.
const DEFAULT_TEMPERATURE: f32 = 0.2;
const DEFAULT_TOP_P: f32 = 0.95;
const DEFAULT_MAX_TOKENS: u32 = 2048;
const TIMEOUT: Duration = Duration::from_secs(30);

/// `POST /v1/chat/{chat_invokable}`.
pub async fn chat(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    Path(invokable): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some((_, primitive, feature)) = INVOKABLES.iter().find(|(name, ..)| *name == invokable)
    else {
        return Err(ApiError::NotFound("Not found".into()));
    };
    log.set_feature(*feature);
    if !caller.can(*primitive) {
        return Err(ApiError::Forbidden(format!(
            "Unauthorized to access {primitive}"
        )));
    }
    let request: ChatRequest = parse_body(&body)?;
    let payload = validate(&request)?;
    let model_key = payload.model.as_deref().map(str::trim).unwrap_or_default();
    let family = ModelFamily::parse(model_key);
    let endpoint = select(
        ModelFields {
            family: Some(model_key),
            identifier: payload.model_identifier.as_deref(),
            endpoint: payload.model_endpoint.as_deref(),
            api_key: payload.model_api_key.as_ref(),
        },
        &state.config().custom_models,
        &log,
    )?;
    log.set_model(&endpoint);
    let model_request =
        ModelRequest::new(Prompt::Chat(messages(&payload.content)?)).with_params(params(
            payload.params.as_ref(),
            &family,
            state.config().duo_chat.max_tokens,
        ));

    let model = state.model(&endpoint).await?;
    if request.stream.unwrap_or(false) {
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
    Ok(Json(ChatResponse {
        response: generation.text,
        metadata: ChatResponseMetadata {
            provider: "litellm",
            model: model_key.to_owned(),
            timestamp: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        },
    })
    .into_response())
}

/// The schema's limits and the self-hosted-only rule; returns the one payload.
fn validate(request: &ChatRequest) -> Result<&PromptPayload, ApiError> {
    let [component] = request.prompt_components.as_slice() else {
        return Err(ApiError::Validation(format!(
            "prompt_components: exactly one component is required, not {}",
            request.prompt_components.len()
        )));
    };
    check_len("prompt_components[0].type", &component.kind, 100)?;
    check_len(
        "prompt_components[0].metadata.source",
        &component.metadata.source,
        100,
    )?;
    check_len(
        "prompt_components[0].metadata.version",
        &component.metadata.version,
        100,
    )?;
    let payload = &component.payload;
    match payload.provider.as_deref() {
        Some("litellm") => {}
        other => {
            return Err(ApiError::Validation(format!(
                "payload.provider {}: this gateway serves self-hosted models only, with provider \
                 'litellm'",
                other.map_or_else(
                    || "is missing".to_owned(),
                    |p| format!("'{p}' is not served")
                )
            )));
        }
    }
    let model = payload.model.as_deref().map(str::trim).unwrap_or_default();
    if model.is_empty() {
        return Err(ApiError::Validation(
            "payload.model: the model family (e.g. mistral) is required with provider 'litellm'"
                .into(),
        ));
    }
    if !ModelFamily::parse(model).is_known() {
        return Err(ApiError::Validation(format!(
            "payload.model: unknown model '{model}'"
        )));
    }
    check_opt_len(
        "payload.model_endpoint",
        payload.model_endpoint.as_deref(),
        255,
    )?;
    check_opt_len(
        "payload.model_identifier",
        payload.model_identifier.as_deref(),
        1000,
    )?;
    if let Some(p) = &payload.params {
        validate_params(p)?;
    }
    Ok(payload)
}

fn validate_params(p: &Params) -> Result<(), ApiError> {
    if let Some(stops) = &p.stop_sequences {
        if stops.is_empty() || stops.len() > 10 {
            return Err(ApiError::Validation(
                "payload.params.stop_sequences: 1 to 10 sequences".into(),
            ));
        }
        for (i, s) in stops.iter().enumerate() {
            check_len(&format!("payload.params.stop_sequences[{i}]"), s, 225)?;
        }
    }
    if let Some(t) = p.temperature
        && !(0.0..=1.0).contains(&t)
    {
        return Err(ApiError::Validation(
            "payload.params.temperature: must be between 0 and 1".into(),
        ));
    }
    if let Some(m) = p.max_tokens_to_sample
        && !(1..=8192).contains(&m)
    {
        return Err(ApiError::Validation(
            "payload.params.max_tokens_to_sample: must be between 1 and 8192".into(),
        ));
    }
    Ok(())
}

/// A string becomes one user message; a list is 1 to 100 `{role, content}` messages.
fn messages(content: &Value) -> Result<Vec<Message>, ApiError> {
    match content {
        Value::String(text) => {
            check_len("payload.content", text, 400_000)?;
            Ok(vec![Message::user(text.clone())])
        }
        Value::Array(items) => {
            if items.is_empty() || items.len() > 100 {
                return Err(ApiError::Validation(
                    "payload.content: 1 to 100 messages".into(),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    <Message as serde::Deserialize>::deserialize(item).map_err(|e| {
                        ApiError::Validation(format!(
                            "payload.content[{i}]: expected {{role: user|assistant|system, content}}: {e}"
                        ))
                    })
                })
                .collect()
        }
        _ => Err(ApiError::Validation(
            "payload.content: a string or a list of {role, content} messages".into(),
        )),
    }
}

/// GitLab's defaults (the max tokens `duo_chat.max_tokens` when set), overridden by `params`;
/// stop tokens per family when none are given.
fn params(p: Option<&Params>, family: &ModelFamily, chat_cap: Option<u32>) -> GenerationParams {
    GenerationParams {
        max_tokens: Some(
            p.and_then(|p| p.max_tokens_to_sample)
                .or(chat_cap)
                .unwrap_or(DEFAULT_MAX_TOKENS),
        ),
        temperature: Some(p.and_then(|p| p.temperature).unwrap_or(DEFAULT_TEMPERATURE)),
        top_p: Some(DEFAULT_TOP_P),
        stop: match p.and_then(|p| p.stop_sequences.as_ref()) {
            Some(stops) => stops.clone(),
            None => family_stops(family)
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        },
        timeout: Some(TIMEOUT),
        reasoning_effort: None,
    }
}

/// The stop tokens GitLab's gateway sends per family on this route.
fn family_stops(family: &ModelFamily) -> &'static [&'static str] {
    match family {
        ModelFamily::Mistral => &["</new_code>"],
        ModelFamily::CodeGemma => &[
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            "<|file_separator|>",
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let p = params(None, &ModelFamily::Mistral, None);
        assert_eq!(p.max_tokens, Some(2048));
        assert_eq!(
            params(None, &ModelFamily::Mistral, Some(512)).max_tokens,
            Some(512)
        );
        assert_eq!(p.temperature, Some(0.2));
        assert_eq!(p.top_p, Some(0.95));
        assert_eq!(p.stop, ["</new_code>"]);
        assert_eq!(params(None, &ModelFamily::CodeGemma, None).stop.len(), 4);
        assert!(params(None, &ModelFamily::Mixtral, None).stop.is_empty());
        let given = Params {
            stop_sequences: Some(vec!["Observation:".into()]),
            temperature: Some(0.1),
            max_tokens_to_sample: Some(4096),
        };
        // The request's own max tokens win over the operator's chat cap.
        let p = params(Some(&given), &ModelFamily::Mistral, Some(512));
        assert_eq!(
            (p.max_tokens, p.temperature, p.stop.as_slice()),
            (
                Some(4096),
                Some(0.1),
                ["Observation:".to_owned()].as_slice()
            )
        );
    }

    #[test]
    fn content_is_a_string_or_messages() {
        let m = messages(&Value::String("Hello".into())).unwrap();
        assert_eq!(m, vec![Message::user("Hello")]);
        let m = messages(&serde_json::json!([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])).unwrap();
        assert_eq!(m.len(), 2);
        for bad in [
            serde_json::json!([]),
            serde_json::json!([{"role": "robot", "content": "x"}]),
            serde_json::json!(42),
        ] {
            assert!(
                matches!(messages(&bad), Err(ApiError::Validation(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_invokable_has_the_reference_primitive() {
        let names: Vec<_> = INVOKABLES.iter().map(|(n, ..)| *n).collect();
        assert_eq!(
            names,
            [
                "explain_code",
                "write_tests",
                "refactor_code",
                "explain_vulnerability",
                "summarize_comments",
                "troubleshoot_job",
                "agent"
            ]
        );
        let agent = INVOKABLES.iter().find(|(n, ..)| *n == "agent").unwrap();
        assert_eq!(agent.1, UnitPrimitive::DuoChat);
    }
}
