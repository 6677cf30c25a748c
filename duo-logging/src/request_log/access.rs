//! [`Pending`]: a request on its way, and the access line written when it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use tracing::Level;

use super::{Shared, route_str};
use crate::handle::RequestLogHandle;

/// The target of the per-request line.
pub const ACCESS_TARGET: &str = "duo::access";

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

/// What the layer knows about a request until it ends (the request line is in the handle).
#[derive(Debug)]
pub(crate) struct Pending {
    shared: Arc<Shared>,
    pub(crate) handle: RequestLogHandle,
    start: Instant,
    status: Option<StatusCode>,
    response_start: Option<Duration>,
    first_chunk: Option<Duration>,
}

impl Pending {
    pub(super) fn new(shared: Arc<Shared>, handle: RequestLogHandle, start: Instant) -> Self {
        Self {
            shared,
            handle,
            start,
            status: None,
            response_start: None,
            first_chunk: None,
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
        let r = self.handle.recorded();
        let error_kind = r.error_kind.as_deref().or(match end {
            End::BodyError => Some("response_body"),
            End::ServiceError => Some("service"),
            End::Completed | End::Cancelled => None,
        });
        let line = self.handle.line();
        let method = line.map_or(&Method::GET, |l| &l.method);
        let route = match (line.and_then(|l| l.route.as_ref()), &r.route) {
            (Some(route), _) => route_str(route),
            (None, Some(route)) => route.as_ref(),
            (None, None) => "unmatched",
        };
        self.shared
            .metrics
            .record_http(route, method, status, duration);
        let path = self.handle.context().path().unwrap_or("");

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
                    method = method.as_str(),
                    path,
                    route,
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
                    error_kind,
                    error_message = r.error_message.as_deref(),
                    client_type = ctx.client_type(),
                    client_version = ctx.client_version(),
                    gitlab_instance_id = ctx.gitlab_instance_id(),
                    gitlab_global_user_id = ctx.gitlab_global_user_id(),
                    gitlab_realm = ctx.gitlab_realm(),
                    gitlab_version = ctx.gitlab_version(),
                    gitlab_host_name = ctx.gitlab_host_name(),
                    gitlab_language_server_version = ctx.language_server_version(),
                    user_agent = ctx.user_agent(),
                    duration_request = ctx.duration_request(),
                    auth_bypassed = r.auth_bypassed,
                    model_endpoint_ignored = r.model_endpoint_ignored,
                    llm_log = self.handle.llm_log_enabled(),
                    "{} {} {}",
                    method,
                    path,
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
