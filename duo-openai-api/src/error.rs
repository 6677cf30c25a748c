//! [`OpenAiError`]: every error of the OpenAI-compatible API, answered in OpenAI's shape
//! `{"error": {"message", "type", "param", "code"}}`; model errors are mapped in one function,
//! [`OpenAiError::upstream`].

use std::borrow::Cow;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use duo_core::Error;

use crate::wire::{ErrorBody, ErrorDetail};

const INVALID_REQUEST: &str = "invalid_request_error";
const SERVER_ERROR: &str = "server_error";

/// An error answered to an OpenAI client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAiError {
    status: StatusCode,
    message: String,
    kind: &'static str,
    param: Option<String>,
    /// Ours (`&'static`), or an upstream's passed through.
    code: Option<Cow<'static, str>>,
    retry_after: Option<Duration>,
}

impl OpenAiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
            retry_after: None,
        }
    }

    fn code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// 400 `invalid_request_error` about the request field `param` (e.g. `messages[1].role`).
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, INVALID_REQUEST, message);
        e.param = Some(param.into());
        e
    }

    /// The request field at fault, if any.
    #[must_use]
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// 400 `invalid_request_error` about the body as a whole (not JSON, not an object, …).
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, INVALID_REQUEST, message)
    }

    /// A body the server would not read (too large, not UTF-8 …), with axum's status.
    pub fn rejected(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, INVALID_REQUEST, message)
    }

    /// 401: no bearer token.
    pub fn missing_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            INVALID_REQUEST,
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' with one \
             of the keys the gateway's operator configured in openai_api.api_keys.",
        )
        .code("invalid_api_key")
    }

    /// 401: a bearer token that is not a configured key (never echoed).
    pub fn invalid_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            INVALID_REQUEST,
            "Incorrect API key provided. Ask the gateway's operator for a key.",
        )
        .code("invalid_api_key")
    }

    /// 404 `model_not_found` for a model name the config does not list.
    pub fn model_not_found(model: &str) -> Self {
        let mut e = Self::new(
            StatusCode::NOT_FOUND,
            INVALID_REQUEST,
            format!(
                "The model '{}' does not exist; GET /v1/models lists the models served here.",
                duo_logging::upstream_text::shorten(model, 200)
            ),
        )
        .code("model_not_found");
        e.param = Some("model".into());
        e
    }

    /// The answer to a failed model call: the one place model errors get their status.
    ///
    /// | error | status | `type` / `code` |
    /// |---|---|---|
    /// | rate limited | 429 + `Retry-After` | `requests` / `rate_limit_exceeded` |
    /// | invalid request, upstream 400/413/422, content filter | 400 | `invalid_request_error` |
    /// | connect failure, upstream 503 | 503 | `server_error` / `upstream_unavailable` |
    /// | timeout, upstream 408/504 | 504 | `server_error` / `upstream_timeout` |
    /// | gateway misconfiguration | 500 | `server_error` / `gateway_misconfigured` |
    /// | the model's endpoint breaks the egress policy | 500 | `server_error` / `egress_refused` |
    /// | anything else (upstream 5xx/401/403/404, broken or malformed stream) | 502 | `server_error` / `upstream_error` |
    ///
    /// Messages never carry the upstream's URL or credentials (the full error goes to the log).
    #[must_use]
    pub fn upstream(error: &Error) -> Self {
        match error {
            Error::RateLimited { retry_after, .. } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "requests",
                    "The model server is rate limiting requests; try again later.",
                )
                .code("rate_limit_exceeded");
                e.retry_after = *retry_after;
                e
            }
            Error::InvalidRequest(message) => {
                Self::new(StatusCode::BAD_REQUEST, INVALID_REQUEST, message.clone())
            }
            Error::ContentFiltered { .. } => Self::new(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "The model's content filter refused this request.",
            )
            .code("content_filter"),
            Error::UpstreamStatus {
                status,
                message,
                code,
                ..
            } if matches!(status, 400 | 413 | 422) => Self::new(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                format!(
                    "The model server rejected the request (HTTP {status}): {}",
                    duo_logging::upstream_text::reason(message)
                ),
            )
            // the model server's own code (`context_length_exceeded`) tells a client what to
            // fix; it is a short identifier (see `Error::with_upstream_code`), redacted anyway
            .code(match code {
                Some(code) => Cow::Owned(duo_logging::upstream_text::reason(code)),
                None => Cow::Borrowed("upstream_rejected_request"),
            }),
            Error::Connect { .. } | Error::UpstreamStatus { status: 503, .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                SERVER_ERROR,
                "The model server is unavailable; try again later.",
            )
            .code("upstream_unavailable"),
            Error::Timeout { .. }
            | Error::UpstreamStatus {
                status: 408 | 504, ..
            } => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                SERVER_ERROR,
                "The model server did not answer in time.",
            )
            .code("upstream_timeout"),
            Error::Config(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                SERVER_ERROR,
                "The gateway cannot reach this model as configured; ask its operator.",
            )
            .code("gateway_misconfigured"),
            Error::EgressRefused { .. } => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                SERVER_ERROR,
                "The gateway's egress policy refuses this model's endpoint (a link-local or \
                 cloud-metadata address); ask its operator.",
            )
            .code("egress_refused"),
            other => {
                let detail = match other.upstream_status() {
                    Some(status) => format!(" (HTTP {status})"),
                    None => String::new(),
                };
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    SERVER_ERROR,
                    format!("The model server failed{detail}."),
                )
                .code("upstream_error")
            }
        }
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message sent to the client.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code.as_deref(),
            },
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response();
        if let Some(after) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo_core::TimeoutPhase;

    fn mapped(e: &Error) -> (u16, &'static str, Option<String>, Option<u64>) {
        let m = OpenAiError::upstream(e);
        (
            m.status.as_u16(),
            m.kind,
            m.code.map(Cow::into_owned),
            m.retry_after.map(|d| d.as_secs()),
        )
    }

    #[test]
    fn model_errors_map_to_openai_statuses() {
        let up = |s| Error::from_status("vLLM at http://10.0.0.5/v1", s, "msg", None);
        let limited = Error::from_status("u", 429, "slow", Some(Duration::from_secs(7)));
        assert_eq!(
            mapped(&limited),
            (429, "requests", Some("rate_limit_exceeded".into()), Some(7))
        );
        assert_eq!(mapped(&up(500)).0, 502);
        assert_eq!(mapped(&up(401)).0, 502);
        assert_eq!(mapped(&up(404)).0, 502);
        assert_eq!(mapped(&up(503)).0, 503);
        assert_eq!(mapped(&up(504)).0, 504);
        assert_eq!(
            mapped(&up(400)),
            (
                400,
                INVALID_REQUEST,
                Some("upstream_rejected_request".into()),
                None
            )
        );
        let with_code = up(400).with_upstream_code(Some("context_length_exceeded"));
        assert_eq!(
            mapped(&with_code),
            (
                400,
                INVALID_REQUEST,
                Some("context_length_exceeded".into()),
                None
            )
        );
        let timeout = Error::Timeout {
            upstream: "u".into(),
            phase: TimeoutPhase::FirstByte,
            after: Duration::from_secs(1),
        };
        assert_eq!(
            mapped(&timeout),
            (504, SERVER_ERROR, Some("upstream_timeout".into()), None)
        );
        let connect = Error::Connect {
            upstream: "u".into(),
            message: "refused".into(),
        };
        assert_eq!(mapped(&connect).0, 503);
        assert_eq!(mapped(&Error::Config("x".into())).0, 500);
        assert_eq!(mapped(&Error::InvalidRequest("bad".into())).0, 400);
        let broken = Error::BrokenStream {
            upstream: "u".into(),
            message: "cut".into(),
        };
        assert_eq!(
            mapped(&broken),
            (502, SERVER_ERROR, Some("upstream_error".into()), None)
        );
    }

    #[test]
    fn messages_do_not_reveal_the_upstream() {
        let e = Error::from_status("vLLM at http://10.0.0.5/v1", 500, "internal", None);
        let m = OpenAiError::upstream(&e);
        assert!(!m.message.contains("10.0.0.5"), "{}", m.message);
        assert_eq!(m.message, "The model server failed (HTTP 500).");
    }

    #[test]
    fn long_texts_are_shortened_at_char_boundaries() {
        assert_eq!(duo_logging::upstream_text::shorten("abc", 5), "abc");
        assert_eq!(duo_logging::upstream_text::shorten("ééé", 3), "é…");
    }
}
