//! [`RequestLogHandle`]: the per-request record that handlers and the model decorator fill in,
//! and that the request log writes out when the response ends.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use duo_core::Secret;
use http::{HeaderMap, HeaderValue, Method};
use tracing::Span;

use crate::context::{RequestContext, generate_correlation_id};
use crate::llm_log::LlmLogger;
use crate::names;
use crate::request_log::{MatchedRoute, RequestLogSettings};

/// What handlers and the model decorator recorded on a request so far.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The route label set by [`RequestLogHandle::set_route`].
    pub route: Option<Cow<'static, str>>,
    /// The Duo feature.
    pub feature: Option<Cow<'static, str>>,
    /// The model family key.
    pub model_family: Option<Cow<'static, str>>,
    /// The provider (set by the handler, or by the first model call).
    pub model_provider: Option<Cow<'static, str>>,
    /// The model identifier.
    pub model_identifier: Option<String>,
    /// Time spent in model calls, summed.
    pub upstream_duration: Option<Duration>,
    /// Prompt tokens of all model calls.
    pub input_tokens: Option<u64>,
    /// Generated tokens of all model calls.
    pub output_tokens: Option<u64>,
    /// Why the request failed (e.g. a model error's kind).
    pub error_kind: Option<Cow<'static, str>>,
    /// The failure's message, redacted.
    pub error_message: Option<String>,
    /// Whether authentication was bypassed.
    pub auth_bypassed: bool,
    /// Whether the request named a model endpoint that the gateway did not use (a Bedrock
    /// endpoint, which only the operator may set).
    pub model_endpoint_ignored: bool,
}

/// One request's log record, shared by the request log layer, the handlers and the model
/// decorator. Cheap to clone; found in the request's extensions (axum: `Extension<RequestLogHandle>`).
#[derive(Clone, Debug)]
pub struct RequestLogHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Valid as a header value and as text: taken from the request or generated.
    correlation_id: HeaderValue,
    llm: LlmLogger,
    llm_on: bool,
    context: RequestContext,
    line: Option<RequestLine>,
    recorded: Mutex<RequestRecord>,
}

/// The request line, kept for the access log.
#[derive(Debug)]
pub(crate) struct RequestLine {
    pub(crate) method: Method,
    pub(crate) route: Option<MatchedRoute>,
    pub(crate) span: Option<Span>,
}

impl RequestLogHandle {
    /// A handle for a request with these headers: takes the correlation id from `X-Request-ID`
    /// (or makes a UUID v4), reads the client headers, and decides whether the LLM log is on.
    #[must_use]
    pub fn from_headers(settings: &RequestLogSettings, headers: &HeaderMap) -> Self {
        Self::new(settings, headers, None, None)
    }

    pub(crate) fn new(
        settings: &RequestLogSettings,
        headers: &HeaderMap,
        path: Option<&str>,
        line: Option<RequestLine>,
    ) -> Self {
        let salt = settings.user_id_salt.as_ref().map(Secret::expose);
        let parsed = RequestContext::parse(headers, salt, path);
        let llm_on = settings.llm_log.enabled_globally()
            || (settings.llm_log_allowed_by_header && parsed.verbose_ai_logs);
        Self {
            inner: Arc::new(Inner {
                correlation_id: parsed
                    .correlation_id
                    .unwrap_or_else(generate_correlation_id),
                llm: settings.llm_log.clone(),
                llm_on,
                context: parsed.context,
                line,
                recorded: Mutex::new(RequestRecord {
                    auth_bypassed: settings.bypass_auth_warning,
                    ..RequestRecord::default()
                }),
            }),
        }
    }

    /// Attaches the request's span (only while the handle is not shared yet).
    pub(crate) fn set_span(&mut self, span: Span) {
        if let Some(inner) = Arc::get_mut(&mut self.inner)
            && let Some(line) = &mut inner.line
        {
            line.span = Some(span);
        }
    }

    /// The request's span, when the layer made one.
    pub(crate) fn span(&self) -> Option<&Span> {
        self.inner.line.as_ref().and_then(|l| l.span.as_ref())
    }

    /// The request line (set when the handle was made by the layer).
    pub(crate) fn line(&self) -> Option<&RequestLine> {
        self.inner.line.as_ref()
    }

    /// The request's correlation id (echoed in the response's `X-Request-ID`).
    #[must_use]
    pub fn correlation_id(&self) -> &str {
        // Checked to be visible ASCII when it was taken or made.
        self.inner.correlation_id.to_str().unwrap_or_default()
    }

    /// The correlation id as a header value, for the response's `X-Request-ID`.
    pub(crate) fn correlation_header(&self) -> &HeaderValue {
        &self.inner.correlation_id
    }

    /// Whether prompts and answers of this request are logged.
    #[must_use]
    pub fn llm_log_enabled(&self) -> bool {
        self.inner.llm_on
    }

    /// The LLM logger when the LLM log is on for this request.
    #[must_use]
    pub fn llm_logger(&self) -> Option<&LlmLogger> {
        self.inner.llm_on.then_some(&self.inner.llm)
    }

    /// The client headers as logged.
    #[must_use]
    pub fn context(&self) -> &RequestContext {
        &self.inner.context
    }

    /// Sets the route label (e.g. `/v1/prompts/{prompt_id}`) when the router did not.
    pub fn set_route(&self, route: impl AsRef<str>) {
        self.recorded().route = Some(Cow::Owned(route.as_ref().to_owned()));
    }

    /// Sets the Duo feature served (e.g. `code_completions`).
    pub fn set_feature(&self, feature: impl AsRef<str>) {
        self.recorded().feature = Some(names::feature(feature.as_ref()));
    }

    /// Sets the model family key (e.g. `codestral`).
    pub fn set_model_family(&self, family: impl AsRef<str>) {
        self.recorded().model_family = Some(names::family(family.as_ref()));
    }

    /// Sets the provider (e.g. `openai_compatible`, `bedrock`).
    pub fn set_model_provider(&self, provider: impl AsRef<str>) {
        self.recorded().model_provider = Some(names::provider(provider.as_ref()));
    }

    /// Sets the model identifier as GitLab sent it (e.g. `custom_openai/Mistral-7B`).
    pub fn set_model_identifier(&self, identifier: impl Into<String>) {
        self.recorded().model_identifier = Some(identifier.into());
    }

    /// Marks the request as served without authentication (logged at warning level).
    pub fn set_auth_bypassed(&self, bypassed: bool) {
        self.recorded().auth_bypassed = bypassed;
    }

    /// Records that the request's model endpoint was ignored (logged as
    /// `model_endpoint_ignored: true`).
    pub fn set_model_endpoint_ignored(&self) {
        self.recorded().model_endpoint_ignored = true;
    }

    /// Records why the request failed; `message` is redacted before it is logged.
    pub fn set_error(&self, kind: impl Into<Cow<'static, str>>, message: &str) {
        let message = self.redact(message);
        self.set_redacted_error(kind.into(), message);
    }

    pub(crate) fn set_redacted_error(&self, kind: Cow<'static, str>, message: String) {
        let mut r = self.recorded();
        r.error_kind = Some(kind);
        r.error_message = Some(message);
    }

    /// `text` with secrets replaced, by this request's redaction rules.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.inner.llm.redactor().redact(text).into_owned()
    }

    /// Records a model error (its [`kind`](duo_core::Error::kind) and message).
    pub fn record_error(&self, error: &duo_core::Error) {
        self.set_error(error.kind(), &error.to_string());
    }

    /// Adds a finished model call: its duration and tokens, and the provider when unset.
    pub(crate) fn add_model_call(
        &self,
        provider: &str,
        duration: Duration,
        tokens: Option<(u32, u32)>,
    ) {
        let mut r = self.recorded();
        r.upstream_duration = Some(r.upstream_duration.unwrap_or_default() + duration);
        if let Some((input, output)) = tokens {
            r.input_tokens = Some(r.input_tokens.unwrap_or(0) + u64::from(input));
            r.output_tokens = Some(r.output_tokens.unwrap_or(0) + u64::from(output));
        }
        if r.model_provider.is_none() {
            r.model_provider = Some(names::provider(provider));
        }
    }

    /// What was recorded so far (e.g. the tokens, for a response's usage metadata).
    #[must_use]
    pub fn snapshot(&self) -> RequestRecord {
        self.recorded().clone()
    }

    pub(crate) fn recorded(&self) -> MutexGuard<'_, RequestRecord> {
        self.inner
            .recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn correlation_id_is_taken_or_generated() {
        let s = RequestLogSettings::default();
        let h = RequestLogHandle::from_headers(&s, &headers(&[("x-request-id", "abc-123")]));
        assert_eq!(h.correlation_id(), "abc-123");
        let h = RequestLogHandle::from_headers(&s, &headers(&[("x-request-id", "has space")]));
        assert_eq!(
            uuid::Uuid::parse_str(h.correlation_id())
                .unwrap()
                .get_version_num(),
            4
        );
        let long = "x".repeat(200);
        let h = RequestLogHandle::from_headers(&s, &headers(&[("x-request-id", &long)]));
        assert_ne!(h.correlation_id(), long);
    }

    #[test]
    fn llm_log_needs_global_switch_or_allowed_header() {
        let on = headers(&[("x-gitlab-enabled-instance-verbose-ai-logs", "TRUE")]);
        let mut s = RequestLogSettings::default();
        assert!(!RequestLogHandle::from_headers(&s, &on).llm_log_enabled());
        s.llm_log_allowed_by_header = true;
        assert!(RequestLogHandle::from_headers(&s, &on).llm_log_enabled());
        assert!(!RequestLogHandle::from_headers(&s, &HeaderMap::new()).llm_log_enabled());
        let off = headers(&[("x-gitlab-enabled-instance-verbose-ai-logs", "false")]);
        assert!(!RequestLogHandle::from_headers(&s, &off).llm_log_enabled());
    }

    #[test]
    fn model_calls_accumulate() {
        let h = RequestLogHandle::from_headers(&RequestLogSettings::default(), &HeaderMap::new());
        h.add_model_call("vllm", Duration::from_millis(100), Some((10, 2)));
        h.add_model_call("bedrock", Duration::from_millis(50), Some((5, 1)));
        let r = h.snapshot();
        assert_eq!(r.upstream_duration, Some(Duration::from_millis(150)));
        assert_eq!((r.input_tokens, r.output_tokens), (Some(15), Some(3)));
        assert_eq!(r.model_provider.as_deref(), Some("vllm"));
    }

    #[test]
    fn error_messages_are_redacted() {
        let h = RequestLogHandle::from_headers(&RequestLogSettings::default(), &HeaderMap::new());
        h.set_error("upstream_auth", "rejected key api_key=sk-secret-1");
        let r = h.snapshot();
        assert_eq!(
            r.error_message.as_deref(),
            Some("rejected key api_key=**********")
        );
        assert_eq!(r.error_kind.as_deref(), Some("upstream_auth"));
    }
}
