//! # duo-logging
//!
//! What an operator sees, and what they can keep from being seen:
//!
//! - [`init`] sets up `tracing` from a [`LoggingConfig`] (`AIGW_LOGGING__*`): level and
//!   per-target filters, JSON lines with the reference gateway's key names or human text, stdout
//!   or a daily-rotated file. [`subscriber`] builds the same subscriber for any writer, and
//!   [`LogCapture`] collects its output in tests.
//! - [`RequestLogLayer`]: one line per HTTP request (target `duo::access`) when the response body
//!   ends or is dropped, with the correlation id (`X-Request-ID`, echoed), route, status,
//!   durations, time to first byte, and what handlers and models recorded on the request's
//!   [`RequestLogHandle`]. Never the `Authorization` header, tokens or API keys.
//! - The LLM log ([`LlmLogger`], target `duo::llm`): prompts and answers, off unless the
//!   operator or (when allowed) the GitLab instance turns it on, with secrets redacted by a
//!   [`Redactor`] and each field capped.
//! - [`Logged`]: a [`duo_core::LanguageModel`] decorator, applied once per client (a provider
//!   registry's decorator), that takes each call's request from the request scope
//!   ([`in_request`], which [`RequestLogLayer`] sets up), times calls, counts tokens and
//!   errors, and feeds the request log, the model-call line (target `duo::model`) and the
//!   [`Metrics`], so providers and routes carry no logging code.
//! - [`Metrics`]: Prometheus metrics in a registry the application owns.
//! - [`upstream_text`]: an upstream's error text with secrets redacted and cut short, before it
//!   is shown to a client or logged.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, body::Body, http::Request, routing::get};
//! use duo_logging::{LoggingConfig, Metrics, RequestLogLayer, RequestLogSettings};
//! use tower::ServiceExt as _; // `oneshot`: one request through the router, without a server
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = LoggingConfig::default();
//! let _guard = duo_logging::init(&config)?;
//! let metrics = Arc::new(Metrics::new());
//! let settings = RequestLogSettings {
//!     llm_log_allowed_by_header: true, // custom models enabled
//!     ..RequestLogSettings::from_config(&config)?
//! };
//! let layer = RequestLogLayer::new(settings, metrics.clone());
//! let app = Router::new().route("/hello", get(|| async { "hello" })).layer(layer);
//!
//! let response = app.oneshot(Request::get("/hello").body(Body::empty())?).await?;
//! assert_eq!(response.status(), 200);
//! drop(response); // the access line (target `duo::access`) is written when the body ends
//! // Serve `metrics.render()` on the metrics port: the request is counted under its route.
//! let counted = r#"http_requests_total{handler="/hello",method="GET",status="2xx"} 1"#;
//! assert!(metrics.render().contains(counted), "{}", metrics.render());
//! # Ok(()) }
//! ```

mod call;
mod capture;
mod config;
mod context;
mod handle;
mod init;
mod json_format;
mod llm_log;
mod logged;
mod metrics;
mod names;
mod redact;
mod request_log;
mod scope;
pub mod upstream_text;

pub use call::MODEL_TARGET;
pub use capture::{CaptureWriter, LogCapture};
pub use config::{ConfigError, LoggingConfig};
pub use context::RequestContext;
pub use handle::{RequestLogHandle, RequestRecord};
pub use init::{InitError, LoggingGuard, init, subscriber};
pub use json_format::{JsonFields, JsonFormat};
pub use llm_log::{LLM_TARGET, LlmLogger, Prepared};
pub use logged::Logged;
pub use metrics::Metrics;
pub use redact::{Redactor, cap};
pub use request_log::{
    ACCESS_TARGET, LoggedBody, REQUEST_SPAN_TARGET, RequestLog, RequestLogLayer,
    RequestLogSettings, ResponseFuture,
};
pub use scope::{current_request, in_request};
