//! `GET /monitoring/healthz` and `GET /monitoring/ready`.
//!
//! Liveness answers as long as the process serves. Readiness probes the models the operator
//! listed in `[readiness]` (concurrently, each with a timeout) and caches the verdict briefly so
//! that a probing load balancer does not turn into load on the model servers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use duo_core::{ModelEndpoint, ModelFamily, ModelIdentifier};
use serde_json::json;
use tokio::sync::Mutex;

use crate::config::ReadinessConfig;
use crate::state::AppState;

/// `GET /monitoring/healthz`.
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /monitoring/ready`.
pub async fn ready(State(state): State<AppState>) -> Response {
    let verdict = state.readiness().check(&state).await;
    let status = if verdict.failed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let checks: Vec<_> = verdict
        .checks
        .iter()
        .map(|c| json!({ "model": c.model, "ok": c.error.is_none(), "error": c.error }))
        .collect();
    let body = json!({
        "status": if verdict.failed.is_empty() { "ok" } else { "unavailable" },
        "failed": verdict.failed,
        "checks": checks,
    });
    (status, Json(body)).into_response()
}

/// One probed model's result.
#[derive(Debug, Clone)]
struct Check {
    model: String,
    error: Option<String>,
}

/// The outcome of one round of probes.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    checks: Vec<Check>,
    failed: Vec<String>,
}

/// The readiness prober with its cache.
pub struct Readiness {
    endpoints: Vec<ModelEndpoint>,
    cache_for: Duration,
    timeout: Duration,
    cached: Mutex<Option<(Instant, Arc<Verdict>)>>,
}

impl Readiness {
    /// Builds the prober from config (identifiers were validated at start).
    #[must_use]
    pub fn new(config: &ReadinessConfig) -> Self {
        let endpoints = config
            .models
            .iter()
            .filter_map(|m| {
                let id = ModelIdentifier::parse(&m.identifier).ok()?;
                let family = ModelFamily::parse(m.family.as_deref().unwrap_or("general"));
                let mut ep = ModelEndpoint::new(id, family);
                if let Some(url) = &m.endpoint {
                    ep = ep.with_base_url(url.clone());
                }
                if let Some(key) = &m.api_key {
                    ep = ep.with_api_key(key.clone());
                }
                Some(ep)
            })
            .collect();
        Self {
            endpoints,
            cache_for: Duration::from_secs(config.cache_s),
            timeout: Duration::from_secs(config.timeout_s.max(1)),
            cached: Mutex::new(None),
        }
    }

    /// Probes every configured model, or returns the cached verdict while it is fresh. One probe
    /// round runs at a time; concurrent callers wait for it and share its verdict.
    pub async fn check(&self, state: &AppState) -> Arc<Verdict> {
        let mut cached = self.cached.lock().await;
        if let Some((at, verdict)) = cached.as_ref()
            && at.elapsed() < self.cache_for
        {
            return Arc::clone(verdict);
        }
        let probes = self.endpoints.iter().map(|ep| async move {
            let name = ep.identifier().to_string();
            let result = tokio::time::timeout(self.timeout, async {
                let model = state.models().model(ep).await?;
                model.probe().await
            })
            .await;
            let error = match result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => {
                    // The full (redacted) text goes to the log; the unauthenticated answer
                    // names the error's kind and status only.
                    let text = crate::upstream_text::redacted(&e.to_string());
                    tracing::warn!(model = %name, error = %text, "readiness probe failed");
                    Some(match e.upstream_status() {
                        Some(status) => format!("{} (HTTP {status})", e.kind()),
                        None => e.kind().to_owned(),
                    })
                }
                Err(_) => Some(format!("timeout (no answer within {:?})", self.timeout)),
            };
            Check { model: name, error }
        });
        let checks = futures::future::join_all(probes).await;
        let failed = checks
            .iter()
            .filter(|c| c.error.is_some())
            .map(|c| c.model.clone())
            .collect();
        let verdict = Arc::new(Verdict { checks, failed });
        *cached = Some((Instant::now(), Arc::clone(&verdict)));
        verdict
    }
}
