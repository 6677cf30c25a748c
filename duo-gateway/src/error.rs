//! [`ApiError`]: every error the API answers, mapped to HTTP in one place.
//!
//! Bodies follow GitLab's gateway: `{"detail": …}` for everything but authentication, which
//! [`duo_auth`] answers as `{"error": …}`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use duo_core::Error as ModelError;
use serde_json::json;

/// The `detail` GitLab's gateway sends for a model failure that is not a rate limit.
pub const INFERENCE_FAILED: &str = "Inference failed";
/// The `detail` GitLab's gateway sends for an upstream 429.
pub const TOO_MANY_REQUESTS: &str = "Too many requests. Please try again later.";

/// Which API family an error is answered for: `/v1/prompts` maps upstream HTTP errors to 421.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Code suggestions and everything else.
    Default,
    /// `/v1/prompts` and `/v2/prompts`.
    Prompts,
}

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or breaks a limit (422).
    #[error("{0}")]
    Validation(String),
    /// The request is well-formed but cannot be served as asked (400).
    #[error("{0}")]
    BadRequest(String),
    /// The caller's token lacks the feature's unit primitive (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such resource, e.g. an unknown prompt id (404).
    #[error("{0}")]
    NotFound(String),
    /// A part of the gateway itself failed (503), e.g. the documentation index.
    #[error("{0}")]
    Unavailable(String),
    /// The model call failed.
    #[error("{error}")]
    Model {
        /// What went wrong upstream.
        error: ModelError,
        /// Which mapping applies.
        surface: Surface,
    },
}

impl From<duo_core::limits::TooLong> for ApiError {
    fn from(e: duo_core::limits::TooLong) -> Self {
        Self::Validation(e.to_string())
    }
}

impl ApiError {
    /// A model error answered on the default surface.
    #[must_use]
    pub fn model(error: ModelError) -> Self {
        Self::Model {
            error,
            surface: Surface::Default,
        }
    }

    /// A model error answered on the `/v1/prompts` surface.
    #[must_use]
    pub fn prompt_model(error: ModelError) -> Self {
        Self::Model {
            error,
            surface: Surface::Prompts,
        }
    }

    /// The status and `detail` this error is answered with, and a `Retry-After` if any.
    #[must_use]
    pub fn status_and_detail(&self) -> (StatusCode, String, Option<Duration>) {
        match self {
            Self::Validation(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone(), None),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone(), None),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone(), None),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m.clone(), None),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m.clone(), None),
            Self::Model { error, surface } => model_status(error, *surface),
        }
    }
}

/// What the upstream said, redacted and cut; its status phrase when it said nothing (an empty
/// message, or the providers' text for an empty error body).
fn upstream_reason(status: u16, message: &str) -> String {
    let empty = message.trim().is_empty() || message == format!("HTTP {status} with an empty body");
    if empty {
        return StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Upstream error")
            .to_owned();
    }
    duo_logging::upstream_text::reason(message)
}

fn model_status(error: &ModelError, surface: Surface) -> (StatusCode, String, Option<Duration>) {
    match error {
        ModelError::RateLimited { retry_after, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            TOO_MANY_REQUESTS.into(),
            *retry_after,
        ),
        ModelError::InvalidRequest(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone(), None),
        ModelError::EgressRefused { rule, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "model endpoint refused: {rule}; an operator allows link-local destinations \
                 with custom_models.allow_link_local_endpoints"
            ),
            None,
        ),
        ModelError::ContentFiltered { .. } => (
            StatusCode::BAD_REQUEST,
            "The model's content filter refused this request".into(),
            None,
        ),
        ModelError::UpstreamAuth {
            status, message, ..
        }
        | ModelError::UpstreamStatus {
            status, message, ..
        } if surface == Surface::Prompts => (
            // GitLab's instance reads the status first ("400: …") in its connection test.
            StatusCode::MISDIRECTED_REQUEST,
            format!("{status}: {}", upstream_reason(*status, message)),
            None,
        ),
        ModelError::UpstreamStatus {
            status, message, ..
        } if (400..500).contains(status) && *status != 408 => (
            StatusCode::BAD_REQUEST,
            format!(
                "the model server rejected the request (HTTP {status}): {}",
                upstream_reason(*status, message)
            ),
            None,
        ),
        ModelError::UpstreamStatus { status, .. } if (300..400).contains(status) => (
            StatusCode::BAD_GATEWAY,
            format!(
                "the model server answered HTTP {status} (a redirect), which the gateway does \
                 not follow"
            ),
            None,
        ),
        ModelError::ResponseTooLarge { what, limit, .. } => (
            StatusCode::BAD_GATEWAY,
            format!(
                "the model server sent {what} larger than the gateway's limit of {limit} bytes \
                 (providers.http.max_response_bytes / max_event_bytes)"
            ),
            None,
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            INFERENCE_FAILED.into(),
            None,
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail, retry_after) = self.status_and_detail();
        if let Self::Model { error, .. } = &self {
            let text = duo_logging::upstream_text::redacted(&error.to_string());
            tracing::warn!(error = %text, kind = error.kind(), "model call failed");
        }
        let mut response = (status, Json(json!({ "detail": detail }))).into_response();
        if let Some(after) = retry_after
            && let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Set when a request body missed its read deadline; put in the request's extensions so the
/// router can answer 408 instead of the extractor's rejection.
#[derive(Debug, Clone, Default)]
pub struct BodyTimedOut(Arc<AtomicBool>);

impl BodyTimedOut {
    /// Marks the deadline as missed.
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the body missed its deadline.
    #[must_use]
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(status: u16) -> ModelError {
        ModelError::from_status(
            "vLLM at http://h/v1",
            status,
            "boom",
            Some(Duration::from_secs(7)),
        )
    }

    #[test]
    fn model_errors_map_to_the_reference_catalogue() {
        let cases = [
            (ApiError::model(up(429)), 429, TOO_MANY_REQUESTS, Some(7)),
            (ApiError::model(up(500)), 503, INFERENCE_FAILED, None),
            (ApiError::model(up(401)), 503, INFERENCE_FAILED, None),
            (
                ApiError::model(up(400)),
                400,
                "the model server rejected the request (HTTP 400): boom",
                None,
            ),
            (ApiError::prompt_model(up(401)), 421, "401: boom", None),
            (ApiError::prompt_model(up(404)), 421, "404: boom", None),
            (
                ApiError::prompt_model(ModelError::from_status(
                    "u",
                    400,
                    "HTTP 400 with an empty body",
                    None,
                )),
                421,
                "400: Bad Request",
                None,
            ),
            (
                ApiError::prompt_model(up(429)),
                429,
                TOO_MANY_REQUESTS,
                Some(7),
            ),
            (
                ApiError::prompt_model(ModelError::Connect {
                    upstream: "u".into(),
                    message: "refused".into(),
                }),
                503,
                INFERENCE_FAILED,
                None,
            ),
        ];
        for (err, status, detail, retry) in cases {
            let (s, d, r) = err.status_and_detail();
            assert_eq!(s.as_u16(), status, "{err:?}");
            assert_eq!(d, detail);
            assert_eq!(r.map(|d| d.as_secs()), retry);
        }
    }

    #[test]
    fn client_errors_keep_their_message() {
        let (s, d, _) = ApiError::Forbidden("Unauthorized to access code completions".into())
            .status_and_detail();
        assert_eq!(
            (s.as_u16(), d.as_str()),
            (403, "Unauthorized to access code completions")
        );
        let (s, _, _) = ApiError::Validation("x".into()).status_and_detail();
        assert_eq!(s.as_u16(), 422);
    }
}
