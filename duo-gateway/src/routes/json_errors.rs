//! Every error answered as JSON: axum's own rejections (405 without a body, 400 for a path that
//! is not UTF-8, 413 over the body limit …) are plain text, and GitLab's clients expect
//! `{"detail": …}` as FastAPI answers. A request body that missed its read deadline is a 408.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::BodyTimedOut;

/// The longest plain-text rejection kept as the `detail`; longer ones get the status's reason.
const MAX_DETAIL_BYTES: usize = 4096;

/// The `detail` of a 413.
pub(crate) const BODY_TOO_LARGE: &str =
    "Request body is larger than the gateway accepts (fastapi.body_limit_bytes)";
/// The `detail` of a 408.
pub(crate) const BODY_TIMED_OUT: &str =
    "Request body was not received in time (fastapi.body_read_timeout_s)";

/// Rewrites non-JSON error answers as `{"detail": …}`, keeping status and headers (`Allow`).
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let timed_out = request.extensions().get::<BodyTimedOut>().cloned();
    let response = next.run(request).await;
    if timed_out.is_some_and(|t| t.is_set()) {
        let mut response = (
            StatusCode::REQUEST_TIMEOUT,
            axum::Json(json!({ "detail": BODY_TIMED_OUT })),
        )
            .into_response();
        // the rest of the body is unread: the connection cannot carry another request
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_DETAIL_BYTES)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => BODY_TOO_LARGE.to_owned(),
        // FastAPI's wording
        StatusCode::METHOD_NOT_ALLOWED => "Method Not Allowed".to_owned(),
        _ if text.is_empty() => status.canonical_reason().unwrap_or("Error").to_owned(),
        _ => text,
    };
    let body = serde_json::to_vec(&json!({ "detail": detail })).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}
