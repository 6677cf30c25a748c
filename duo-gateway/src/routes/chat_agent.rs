//! `POST /v2/chat/agent`: Duo Chat's ReAct agent.
//!
//! The request carries the conversation, the agent's steps so far and the self-hosted model in
//! `model_metadata`. The gateway renders the `chat/react` prompt for the model's family (the
//! tools offered are those the caller's token may use), streams the model's output with
//! `Observation:` as stop sequence, and answers NDJSON events as the output is parsed:
//! `action`, `final_answer_delta`, `unknown`, `error`, and a closing `usage`
//! (see [`wire::AgentEvent`] and [`react_parser`] for the grammar).
//!
//! Checks, in order: body shape (422; a scratchpad on a non-assistant message is 400, as the
//! reference), the `duo_classic_chat` or `duo_chat` scope (403 `Unauthorized to access duo
//! chat`), one `include_<category>_context` scope per additional-context item (403
//! `Unauthorized to access include_<category>_context`), then the model. A model failure before
//! the answer starts is an HTTP error (429 with `Retry-After` for rate limits, else 503); after
//! it started, an `error` line.

pub mod inputs;
pub mod react_parser;
pub mod stream;
pub mod tools;
pub mod wire;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use duo_core::{Feature, UnitPrimitive};

use crate::error::ApiError;
use crate::model_selection::select;
use crate::request_body::parse_body;
use crate::state::{AppState, RequestLog};
use crate::wire::ModelMetadata;
use duo_auth::Caller;

/// The prompt definition that serves the agent.
pub const PROMPT_ID: &str = "chat/react";

/// `POST /v2/chat/agent`.
pub async fn agent(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    log: RequestLog,
    body: Bytes,
) -> Result<Response, ApiError> {
    log.set_feature(Feature::DuoChat);
    let request: wire::AgentRequest = parse_body(&body)?;
    let question = inputs::validate(&request)?;
    if !caller.can_any(&[UnitPrimitive::DuoClassicChat, UnitPrimitive::DuoChat]) {
        return Err(ApiError::Forbidden(
            "Unauthorized to access duo chat".into(),
        ));
    }
    if let Some(missing) = inputs::context_primitives(&request).find(|up| !caller.can(*up)) {
        return Err(ApiError::Forbidden(format!(
            "Unauthorized to access {missing}"
        )));
    }
    let metadata = ModelMetadata::required(request.model_metadata.as_ref())?;
    let endpoint = select(metadata.fields(), &state.config().custom_models, &log)?;
    log.set_model(&endpoint);
    let definition = state.resolve_prompt(PROMPT_ID, endpoint.family(), "^1.0.0")?;

    let offered = tools::tools_for(&caller);
    let prompt_inputs = inputs::prompt_inputs(&request, question, &offered, inputs::current_date());
    let mut model_request = definition
        .render(&prompt_inputs)
        .map_err(|e| ApiError::Validation(e.to_string()))?;
    state.config().duo_chat.apply(PROMPT_ID, &mut model_request);

    let model = state.model(&endpoint).await?;
    let upstream = model
        .generate_stream(&model_request)
        .await
        .map_err(ApiError::model)?;
    Ok(stream::response(upstream, endpoint.model().to_owned()))
}
