//! `POST /v1/prompts/{prompt_id}` and `POST /v2/prompts/{prompt_id}`: every Duo feature served by a
//! named prompt (slash commands, commit messages, MR summaries, root-cause analysis, the model
//! "test connection" check …).

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use duo_core::Feature;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::model_selection::select;
use crate::request_body::{check_len, parse_body};
use crate::state::{AppState, RequestLog};
use crate::streaming;
use crate::wire::{ModelMetadata, PromptRequest};
use duo_auth::Caller;

/// Which response shape: v1 answers a JSON string, v2 an object with `content` and `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// `POST /v1/prompts/{prompt_id}`.
pub async fn invoke_v1(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    Path(prompt_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    invoke(Version::V1, &state, &caller, &log, &prompt_id, &body).await
}

/// `POST /v2/prompts/{prompt_id}`.
pub async fn invoke_v2(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    Path(prompt_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    invoke(Version::V2, &state, &caller, &log, &prompt_id, &body).await
}

async fn invoke(
    version: Version,
    state: &AppState,
    caller: &Caller,
    log: &RequestLog,
    prompt_id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let prompt_id = prompt_id.trim_matches('/');
    duo_core::limits::check_field("prompt_id", prompt_id)?;
    // An operator's prompt id names no known feature: it is served (and counted) as Duo Chat.
    log.set_feature(Feature::from_prompt_id(prompt_id).unwrap_or(Feature::DuoChat));
    let request: PromptRequest = parse_body(body)?;
    let constraint = request.prompt_version.as_deref().unwrap_or("^1.0.0");
    check_len("prompt_version", constraint, 50)?;
    let metadata = ModelMetadata::required(request.model_metadata.as_ref())?;
    let endpoint = select(metadata.fields(), &state.config().custom_models, log)?;
    log.set_model(&endpoint);
    let definition = state.resolve_prompt(prompt_id, endpoint.family(), constraint)?;
    if !caller.can(definition.unit_primitive()) {
        return Err(ApiError::Forbidden(format!(
            "Unauthorized to access '{prompt_id}'"
        )));
    }

    let mut inputs = request.inputs;
    if !inputs.contains_key("current_date") {
        inputs.insert("current_date".into(), Value::String(current_date()));
    }
    let mut model_request = definition
        .render(&inputs)
        .map_err(|e| ApiError::Validation(e.to_string()))?;
    state.config().duo_chat.apply(prompt_id, &mut model_request);
    let model = state.model(&endpoint).await?;

    if request.stream {
        let stream = model
            .generate_stream(&model_request)
            .await
            .map_err(ApiError::prompt_model)?;
        return Ok(match version {
            Version::V1 => streaming::raw_text(stream),
            Version::V2 => streaming::json_lines(stream, endpoint.model().to_owned()),
        });
    }
    let generation = model
        .generate(&model_request)
        .await
        .map_err(ApiError::prompt_model)?;
    Ok(match version {
        Version::V1 => Json(Value::String(generation.text)).into_response(),
        Version::V2 => {
            let mut body = json!({ "content": generation.text });
            if let Some(usage) = generation.usage {
                body["usage"] = streaming::usage_json(endpoint.family().key(), usage);
            }
            Json(body).into_response()
        }
    })
}

/// Today as GitLab's gateway spells it, e.g. `August 22, 2026`.
fn current_date() -> String {
    let format = time::macros::format_description!("[month repr:long] [day padding:none], [year]");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn current_date_is_long_form() {
        let d = super::current_date();
        let parts: Vec<&str> = d.split(' ').collect();
        assert_eq!(parts.len(), 3, "{d}");
        assert!(parts[1].ends_with(','), "{d}");
        assert_eq!(parts[2].len(), 4, "{d}");
    }
}
