//! The request log: a tower [`Layer`] that writes one line per HTTP request when its response
//! body ends (or is dropped), and records the HTTP metrics.

mod access;
mod body;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use duo_core::Secret;
use http::{HeaderName, Request, Response};
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

pub use access::ACCESS_TARGET;
use access::{End, Pending};
pub use body::LoggedBody;

use crate::config::{ConfigError, LoggingConfig};
use crate::handle::{RequestLine, RequestLogHandle};
use crate::llm_log::LlmLogger;
use crate::metrics::Metrics;

/// The target of the per-request span that carries `correlation_id` into the lines logged
/// while a request is handled.
pub const REQUEST_SPAN_TARGET: &str = "duo::request";

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How the request log treats requests.
#[derive(Clone, Debug)]
pub struct RequestLogSettings {
    /// Whether the `x-gitlab-enabled-instance-verbose-ai-logs: true` header turns the LLM log on
    /// for a request (the reference allows it when custom models are enabled).
    pub llm_log_allowed_by_header: bool,
    /// Whether authentication is bypassed for every request: each line then says
    /// `auth_bypassed: true` at warning level.
    pub bypass_auth_warning: bool,
    /// The LLM log's redaction rules, cap and global switch.
    pub llm_log: LlmLogger,
    /// Salt for hashing `X-Gitlab-Global-User-Id`.
    pub user_id_salt: Option<Secret>,
    /// Whether each request runs in a span carrying its `correlation_id`, so that every line
    /// logged while handling it carries the id too.
    pub request_span: bool,
}

impl Default for RequestLogSettings {
    fn default() -> Self {
        Self {
            llm_log_allowed_by_header: false,
            bypass_auth_warning: false,
            llm_log: LlmLogger::default(),
            user_id_salt: None,
            request_span: true,
        }
    }
}

impl RequestLogSettings {
    /// Settings with the LLM log and salt from `config`; the two switches stay off.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first redaction pattern that does not compile.
    pub fn from_config(config: &LoggingConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            llm_log: LlmLogger::from_config(config)?,
            user_id_salt: config.user_id_salt.clone(),
            ..Self::default()
        })
    }
}

#[derive(Debug)]
struct Shared {
    settings: RequestLogSettings,
    metrics: Arc<Metrics>,
}

/// Logs each request and records its metrics. Apply with axum's `Router::layer` so that the
/// matched route (e.g. `/v1/prompts/{prompt_id}`) labels the line and the metrics.
#[derive(Clone, Debug)]
pub struct RequestLogLayer {
    shared: Arc<Shared>,
}

impl RequestLogLayer {
    /// A layer with these settings, recording into `metrics`.
    #[must_use]
    pub fn new(settings: RequestLogSettings, metrics: Arc<Metrics>) -> Self {
        Self {
            shared: Arc::new(Shared { settings, metrics }),
        }
    }
}

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestLog {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service [`RequestLogLayer`] wraps around an inner service.
#[derive(Clone, Debug)]
pub struct RequestLog<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestLog<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body,
{
    type Response = Response<LoggedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let start = Instant::now();
        let settings = &self.shared.settings;
        let line = RequestLine {
            method: request.method().clone(),
            route: matched_route(&request),
            span: None,
        };
        let path = Some(request.uri().path());
        let mut handle = RequestLogHandle::new(settings, request.headers(), path, Some(line));
        if settings.request_span {
            let span = tracing::info_span!(
                target: REQUEST_SPAN_TARGET,
                "request",
                correlation_id = handle.correlation_id()
            );
            handle.set_span(span);
        }
        request.extensions_mut().insert(handle.clone());
        let inner = match handle.span() {
            Some(span) => span.in_scope(|| self.inner.call(request)),
            None => self.inner.call(request),
        };
        ResponseFuture {
            inner: crate::scope::in_request(handle.clone(), inner),
            pending: Some(Pending::new(Arc::clone(&self.shared), handle, start)),
        }
    }
}

pin_project! {
    /// The response future of [`RequestLog`]: adds `X-Request-ID` and wraps the body.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: TaskLocalFuture<RequestLogHandle, F>,
        pending: Option<Pending>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(pending) = this.project().pending.take() {
                pending.finish(End::Cancelled);
            }
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
{
    type Output = Result<Response<LoggedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = match this.pending.as_ref().and_then(|p| p.handle.span()) {
            Some(span) => span.in_scope(|| this.inner.poll(cx)),
            None => this.inner.poll(cx),
        };
        let result = ready!(polled);
        let mut pending = this.pending.take();
        Poll::Ready(match result {
            Ok(mut response) => {
                if let Some(p) = &mut pending {
                    p.response_started(response.status());
                    if !response.headers().contains_key(REQUEST_ID) {
                        let id = p.handle.correlation_header().clone();
                        response.headers_mut().insert(REQUEST_ID, id);
                    }
                }
                // Bodies the server will not poll (empty, 204/304, answers to HEAD) end here.
                let ended = response.body().is_end_stream()
                    || matches!(response.status().as_u16(), 204 | 304)
                    || pending
                        .as_ref()
                        .and_then(|p| p.handle.line())
                        .is_some_and(|l| l.method == http::Method::HEAD);
                Ok(response.map(|b| LoggedBody::new(b, pending, ended)))
            }
            Err(e) => {
                if let Some(p) = pending {
                    p.finish(End::ServiceError);
                }
                Err(e)
            }
        })
    }
}

/// The route axum matched, kept as axum's own (shared) value.
#[cfg(feature = "axum")]
pub(crate) type MatchedRoute = axum::extract::MatchedPath;

/// Without axum there is no matched route.
#[cfg(not(feature = "axum"))]
pub(crate) type MatchedRoute = std::convert::Infallible;

#[cfg(feature = "axum")]
fn matched_route<B>(request: &Request<B>) -> Option<MatchedRoute> {
    request.extensions().get::<MatchedRoute>().cloned()
}

#[cfg(not(feature = "axum"))]
fn matched_route<B>(_request: &Request<B>) -> Option<MatchedRoute> {
    None
}

#[cfg(feature = "axum")]
pub(crate) fn route_str(route: &MatchedRoute) -> &str {
    route.as_str()
}

#[cfg(not(feature = "axum"))]
pub(crate) fn route_str(route: &MatchedRoute) -> &str {
    match *route {}
}
