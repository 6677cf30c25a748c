//! The API, one module per family of routes, assembled by [`router`].

pub mod chat_agent;
pub mod chat_v1;
pub mod code_suggestions;
mod json_errors;
pub mod monitoring;
pub mod prompts;
pub mod search;
pub mod user_token;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use duo_logging::RequestLogLayer;
use serde_json::json;

use crate::state::AppState;

/// The gateway's API as an axum [`Router`], ready to serve or to mount in another app.
///
/// GitLab's routes require a valid token (checked before the body is read); `/monitoring/*`
/// does not. Every request gets one request-log line and an `X-Request-ID`.
///
/// When you serve it yourself, set `TCP_NODELAY` on accepted sockets, as [`Gateway`] does:
/// without it a reply written in two parts (headers, then the body) can wait ~40 ms for the
/// client's delayed ACK. With axum:
///
/// ```no_run
/// # async fn run(state: duo_gateway::AppState) -> std::io::Result<()> {
/// use axum::serve::ListenerExt;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5052")
///     .await?
///     .tap_io(|tcp| {
///         let _ = tcp.set_nodelay(true);
///     });
/// axum::serve(listener, duo_gateway::router(state)).await
/// # }
/// ```
///
/// [`Gateway`]: crate::Gateway
pub fn router(state: AppState) -> Router {
    let config = state.config();
    let api = Router::new()
        .route("/v2/code/completions", post(code_suggestions::completions))
        .route("/v2/completions", post(code_suggestions::completions))
        .route("/v2/code/generations", post(code_suggestions::generations))
        .route(
            "/v3/code/completions",
            post(code_suggestions::v3_completions),
        )
        .route(
            "/v4/code/suggestions",
            post(code_suggestions::v4_suggestions),
        )
        .route(
            "/v1/code/user_access_token",
            post(user_token::user_access_token),
        )
        .route("/v1/prompts/{*prompt_id}", post(prompts::invoke_v1))
        .route("/v2/prompts/{*prompt_id}", post(prompts::invoke_v2))
        .route("/v2/chat/agent", post(chat_agent::agent))
        .route("/v1/search/gitlab-docs", post(search::gitlab_docs))
        .route("/v1/chat/{chat_invokable}", post(chat_v1::chat))
        .route_layer(axum::middleware::from_fn_with_state(
            state.auth().clone(),
            duo_auth::require_auth,
        ));
    let monitoring = Router::new()
        .route("/monitoring/healthz", get(monitoring::healthz))
        .route("/monitoring/ready", get(monitoring::ready));
    let log_settings = state.request_log_settings();
    let body_limit = config.fastapi.body_limit_bytes;
    let metrics = Arc::clone(state.metrics());
    #[cfg(feature = "openai-api")]
    let openai = duo_openai_api::router(state.openai().clone());
    #[cfg(not(feature = "openai-api"))]
    let openai = Router::new();
    Router::new()
        .merge(api)
        .merge(monitoring)
        .with_state(state)
        .merge(openai)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(json_errors::json_errors))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestLogLayer::new(log_settings, metrics))
}

/// The metrics listener's router: `GET /metrics` in Prometheus text format.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(
                |axum::extract::State(state): axum::extract::State<AppState>| async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        state.metrics().render(),
                    )
                },
            ),
        )
        .with_state(state)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "detail": "Not Found" })),
    )
        .into_response()
}
