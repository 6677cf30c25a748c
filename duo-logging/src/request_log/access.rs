//! [`Pending`]: a request on its way, and the access line written when it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, Request, StatusCode};
use tracing::{Level, Span};

use super::Shared;
use crate::handle::RequestLogHandle;
use crate::metrics::Label;

/// The target of the per-request line.
pub const ACCESS_TARGET: &str = "duo::access";

/// Longest path written to the log.
const MAX_PATH_CHARS: usize = 512;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The body was sent to its end.
    Completed,
    /// The client went away (future or body dropped before the end).
    Cancelled,
    /// The response body failed mid-way.
    BodyError,
    /// The inner service returned an error instead of a response.
    ServiceError,
}

/// What the layer knows about a request until it ends.
#[derive(Debug)]
pub(crate) struct Pending {
    shared: Arc<Shared>,
    pub(crate) handle: RequestLogHandle,
    method: Method,
    path: String,
    route: Option<Arc<str>>,
    start: Instant,
    status: Option<StatusCode>,
    response_start: Option<Duration>,
    first_chunk: Option<Duration>,
    pub(crate) span: Option<Span>,
}

impl Pending {
    pub(super) fn new<B>(
        shared: Arc<Shared>,
        handle: RequestLogHandle,
        request: &Request<B>,
        start: Instant,
        span: Option<Span>,
    ) -> Self {
        let path = crate::redact::cap(request.uri().path(), MAX_PATH_CHARS)
            .0
            .to_owned();
        Self {
            shared,
            handle,
            method: request.method().clone(),
            path,
            route: matched_route(request),
            start,
            status: None,
            response_start: None,
            first_chunk: None,
            span,
        }
    }

    pub(super) fn response_started(&mut self, status: StatusCode) {
        self.status = Some(status);
        self.response_start = Some(self.start.elapsed());
    }

    pub(crate) fn first_chunk_seen(&mut self) {
        if self.first_chunk.is_none() {
            self.first_chunk = Some(self.start.elapsed());
        }
    }

    /// Writes the access line and records the HTTP metrics.
    pub(crate) fn finish(self, end: End) {
        let duration = self.start.elapsed();
        let status = match (self.status, end) {
            (Some(status), _) => status,
            (None, End::ServiceError) => StatusCode::INTERNAL_SERVER_ERROR,
            // The client left before a response existed (nginx's "client closed request").
            (None, _) => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        };
        let mut r = self.handle.snapshot();
        match end {
            End::BodyError if r.error_kind.is_none() => {
                r.error_kind = Some("response_body".into());
            }
            End::ServiceError if r.error_kind.is_none() => {
                r.error_kind = Some("service".into());
            }
            _ => {}
        }
        let route: Arc<str> = match (self.route, &r.route) {
            (Some(route), _) => route,
            (None, Some(route)) => Arc::from(route.as_str()),
            (None, None) => Arc::from("unmatched"),
        };
        self.shared
            .metrics
            .record_http(Label(Arc::clone(&route)), &self.method, status, duration);

        let ctx = self.handle.context();
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        let level = if r.auth_bypassed {
            Level::WARN
        } else {
            Level::INFO
        };
        macro_rules! access_line {
            ($level:expr) => {
                tracing::event!(
                    target: ACCESS_TARGET,
                    parent: None,
                    $level,
                    correlation_id = self.handle.correlation_id(),
                    method = self.method.as_str(),
                    path = self.path.as_str(),
                    route = &*route,
                    status_code = status.as_u16(),
                    duration_s = duration.as_secs_f64(),
                    response_start_duration_s = secs(self.response_start),
                    first_chunk_duration_s = secs(self.first_chunk),
                    stream_cancelled = end == End::Cancelled,
                    feature = r.feature.as_deref(),
                    model_family = r.model_family.as_deref(),
                    model_provider = r.model_provider.as_deref(),
                    model_identifier = r.model_identifier.as_deref(),
                    upstream_duration_s = secs(r.upstream_duration),
                    input_tokens = r.input_tokens,
                    output_tokens = r.output_tokens,
                    error_kind = r.error_kind.as_deref(),
                    error_message = r.error_message.as_deref(),
                    client_type = ctx.client_type.as_deref(),
                    client_version = ctx.client_version.as_deref(),
                    gitlab_instance_id = ctx.gitlab_instance_id.as_deref(),
                    gitlab_global_user_id = ctx.gitlab_global_user_id.as_deref(),
                    gitlab_realm = ctx.gitlab_realm.as_deref(),
                    gitlab_version = ctx.gitlab_version.as_deref(),
                    gitlab_host_name = ctx.gitlab_host_name.as_deref(),
                    gitlab_language_server_version = ctx.language_server_version.as_deref(),
                    user_agent = ctx.user_agent.as_deref(),
                    duration_request = ctx.duration_request,
                    auth_bypassed = r.auth_bypassed,
                    llm_log = self.handle.llm_log_enabled(),
                    "{} {} {}",
                    self.method,
                    self.path,
                    status.as_u16()
                )
            };
        }
        if level == Level::WARN {
            access_line!(Level::WARN);
        } else {
            access_line!(Level::INFO);
        }
    }
}

#[cfg(feature = "axum")]
fn matched_route<B>(request: &Request<B>) -> Option<Arc<str>> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| Arc::from(p.as_str()))
}

#[cfg(not(feature = "axum"))]
fn matched_route<B>(_request: &Request<B>) -> Option<Arc<str>> {
    None
}
