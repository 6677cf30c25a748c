//! Entry points for the fuzz targets in `fuzz/`, compiled only with `--cfg fuzzing` (as
//! `cargo fuzz` builds): not public API. They run the routes' own handlers on a body, as the
//! router does after the client key was checked.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;

use crate::OpenAiState;

/// `POST /v1/chat/completions` on `body`.
pub async fn chat_completions(state: &OpenAiState, body: Bytes) -> Response {
    crate::routes::chat_completions(State(state.clone()), None, Ok(body)).await
}

/// `POST /v1/completions` on `body`.
pub async fn completions(state: &OpenAiState, body: Bytes) -> Response {
    crate::routes::completions(State(state.clone()), None, Ok(body)).await
}
