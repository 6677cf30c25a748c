//! The code-suggestion routes of every API generation GitLab instances use:
//!
//! - `POST /v2/code/completions` (alias `/v2/completions`), `POST /v2/code/generations`
//!   (module `v2`): flat model fields, raw-text streaming;
//! - `POST /v3/code/completions`, `POST /v4/code/suggestions` (module `v3`): `prompt_components` and
//!   a top-level `model_metadata`; v3 streams raw text, v4 server-sent events (module `sse`).
//!
//! Each version parses and validates its body, checks the caller's scope, and hands one
//! `pipeline::Suggestion` to `pipeline::serve`, the shared path for model selection, prompt
//! resolution, input building and the model call; then shapes the answer its own way.

mod language_server;
mod pipeline;
mod sse;
mod v2;
mod v3;
mod wire_v3;

use axum::http::HeaderMap;

pub use v2::{completions, generations};
pub use v3::{v3_completions, v4_suggestions};

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
