//! `GET /monitoring/healthz` and `GET /monitoring/ready`.
//!
//! Liveness answers as long as the process serves. Readiness answers the verdict of
//! [`crate::readiness::Readiness`]: the models of `[readiness]`, probed and cached.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
    });
    (status, Json(body)).into_response()
}
