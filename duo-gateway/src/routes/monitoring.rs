//! `GET /monitoring/healthz` and `GET /monitoring/ready`.
//!
//! Liveness answers as long as the process serves. Readiness answers the verdict of
//! [`crate::readiness::Readiness`]: the models of `[readiness]`, probed and cached, and says
//! whether a documentation index is loaded (and how many documents it holds), which does not
//! decide readiness: code suggestions are served without one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::docs_search::DocsSearch;
use crate::state::AppState;

/// `GET /monitoring/healthz`.
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /monitoring/ready`.
pub async fn ready(State(state): State<AppState>) -> Response {
    let verdict = state.readiness().check(state.models()).await;
    let status = if verdict.failed().is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let checks: Vec<_> = verdict
        .checks()
        .iter()
        .map(|c| json!({ "model": c.model, "ok": c.error.is_none(), "error": c.error }))
        .collect();
    let body = json!({
        "status": if verdict.failed().is_empty() { "ok" } else { "unavailable" },
        "failed": verdict.failed(),
        "checks": checks,
        "docs_search": docs_search(state.docs_search()),
    });
    (status, Json(body)).into_response()
}

/// The documentation index as readiness reports it: loaded or not, its size, and why not (a
/// short kind; the file name and the message are in the start-up log only).
fn docs_search(docs: &DocsSearch) -> serde_json::Value {
    match docs {
        DocsSearch::NotConfigured => json!({ "loaded": false, "documents": 0, "error": null }),
        DocsSearch::Ready(index) => {
            json!({ "loaded": true, "documents": index.documents(), "error": null })
        }
        DocsSearch::Unavailable { kind, .. } => {
            json!({ "loaded": false, "documents": 0, "error": kind })
        }
    }
}
