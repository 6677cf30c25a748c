//! [`RequestLogHandle`]: the per-request record that handlers and the model decorator fill in,
//! and that the request log writes out when the response ends.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::llm_log::LlmLogger;
use crate::request_log::RequestLogSettings;

/// Longest correlation id accepted from `X-Request-ID`; longer or odd ones are replaced.
const MAX_CORRELATION_ID: usize = 128;
/// Longest header value copied into the log.
const MAX_HEADER_CHARS: usize = 256;

/// Header names the request log reads (never `Authorization` or any key header).
pub(crate) mod header {
    pub(crate) const REQUEST_ID: &str = "x-request-id";
    pub(crate) const VERBOSE_AI_LOGS: &str = "x-gitlab-enabled-instance-verbose-ai-logs";
    pub(crate) const CLIENT_TYPE: &str = "x-gitlab-client-type";
    pub(crate) const CLIENT_VERSION: &str = "x-gitlab-client-version";
    pub(crate) const INSTANCE_ID: &str = "x-gitlab-instance-id";
    pub(crate) const GLOBAL_USER_ID: &str = "x-gitlab-global-user-id";
    pub(crate) const REALM: &str = "x-gitlab-realm";
    pub(crate) const VERSION: &str = "x-gitlab-version";
    pub(crate) const HOST_NAME: &str = "x-gitlab-host-name";
    pub(crate) const LANGUAGE_SERVER_VERSION: &str = "x-gitlab-language-server-version";
    pub(crate) const RAILS_SEND_START: &str = "x-gitlab-rails-send-start";
}

/// What the request's headers say about its client, as logged.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RequestContext {
    /// `X-Gitlab-Client-Type` (e.g. `gitlab-language-server`).
    pub client_type: Option<String>,
    /// `X-Gitlab-Client-Version`.
    pub client_version: Option<String>,
    /// `X-Gitlab-Instance-Id`.
    pub gitlab_instance_id: Option<String>,
    /// `X-Gitlab-Global-User-Id`, hashed (SHA-256 with the configured salt, 32 hex digits).
    pub gitlab_global_user_id: Option<String>,
    /// `X-Gitlab-Realm`.
    pub gitlab_realm: Option<String>,
    /// `X-Gitlab-Version`.
    pub gitlab_version: Option<String>,
    /// `X-Gitlab-Host-Name`.
    pub gitlab_host_name: Option<String>,
    /// `X-Gitlab-Language-Server-Version`.
    pub language_server_version: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// Seconds from GitLab sending the request (`X-Gitlab-Rails-Send-Start`) to its arrival.
    pub duration_request: Option<f64>,
}

/// What handlers and the model decorator learned about the request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recorded {
    pub(crate) route: Option<String>,
    pub(crate) feature: Option<String>,
    pub(crate) model_family: Option<String>,
    pub(crate) model_provider: Option<String>,
    pub(crate) model_identifier: Option<String>,
    pub(crate) upstream_duration: Option<Duration>,
    pub(crate) input_tokens: Option<u64>,
    pub(crate) output_tokens: Option<u64>,
    pub(crate) error_kind: Option<Cow<'static, str>>,
    pub(crate) error_message: Option<String>,
    pub(crate) auth_bypassed: bool,
}

/// One request's log record, shared by the request log layer, the handlers and the model
/// decorator. Cheap to clone; found in the request's extensions (axum: `Extension<RequestLogHandle>`).
#[derive(Clone, Debug)]
pub struct RequestLogHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    correlation_id: String,
    llm: LlmLogger,
    llm_on: bool,
    context: RequestContext,
    recorded: Mutex<Recorded>,
}

impl RequestLogHandle {
    /// A handle for a request with these headers: takes the correlation id from `X-Request-ID`
    /// (or makes a UUID v4), reads the client headers, and decides whether the LLM log is on.
    #[must_use]
    pub fn from_headers(settings: &RequestLogSettings, headers: &HeaderMap) -> Self {
        let correlation_id = headers
            .get(header::REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_usable_correlation_id(v))
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let verbose_header = headers
            .get(header::VERBOSE_AI_LOGS)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let llm_on = settings.llm_log.enabled_globally()
            || (settings.llm_log_allowed_by_header && verbose_header);
        let text = |name: &str| header_text(headers, name);
        let context = RequestContext {
            client_type: text(header::CLIENT_TYPE),
            client_version: text(header::CLIENT_VERSION),
            gitlab_instance_id: text(header::INSTANCE_ID),
            gitlab_global_user_id: headers.get(header::GLOBAL_USER_ID).map(|v| {
                hash_user_id(
                    settings.user_id_salt.as_ref().map(duo_core::Secret::expose),
                    v.as_bytes(),
                )
            }),
            gitlab_realm: text(header::REALM),
            gitlab_version: text(header::VERSION),
            gitlab_host_name: text(header::HOST_NAME),
            language_server_version: text(header::LANGUAGE_SERVER_VERSION),
            user_agent: text(http::header::USER_AGENT.as_str()),
            duration_request: headers
                .get(header::RAILS_SEND_START)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .and_then(since_epoch_secs),
        };
        Self {
            inner: Arc::new(Inner {
                correlation_id,
                llm: settings.llm_log.clone(),
                llm_on,
                context,
                recorded: Mutex::new(Recorded {
                    auth_bypassed: settings.bypass_auth_warning,
                    ..Recorded::default()
                }),
            }),
        }
    }

    /// The request's correlation id (echoed in the response's `X-Request-ID`).
    #[must_use]
    pub fn correlation_id(&self) -> &str {
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
    pub fn set_route(&self, route: impl Into<String>) {
        self.recorded().route = Some(route.into());
    }

    /// Sets the Duo feature served (e.g. `code_completions`).
    pub fn set_feature(&self, feature: impl Into<String>) {
        self.recorded().feature = Some(feature.into());
    }

    /// Sets the model family key (e.g. `codestral`).
    pub fn set_model_family(&self, family: impl Into<String>) {
        self.recorded().model_family = Some(family.into());
    }

    /// Sets the provider (e.g. `openai_compatible`, `bedrock`).
    pub fn set_model_provider(&self, provider: impl Into<String>) {
        self.recorded().model_provider = Some(provider.into());
    }

    /// Sets the model identifier as GitLab sent it (e.g. `custom_openai/Mistral-7B`).
    pub fn set_model_identifier(&self, identifier: impl Into<String>) {
        self.recorded().model_identifier = Some(identifier.into());
    }

    /// Marks the request as served without authentication (logged at warning level).
    pub fn set_auth_bypassed(&self, bypassed: bool) {
        self.recorded().auth_bypassed = bypassed;
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
            r.model_provider = Some(provider.to_owned());
        }
    }

    pub(crate) fn snapshot(&self) -> Recorded {
        self.recorded().clone()
    }

    fn recorded(&self) -> MutexGuard<'_, Recorded> {
        self.inner
            .recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn is_usable_correlation_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CORRELATION_ID && id.bytes().all(|b| b.is_ascii_graphic())
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let (kept, _) = crate::redact::cap(text.trim(), MAX_HEADER_CHARS);
    (!kept.is_empty()).then(|| kept.to_owned())
}

/// SHA-256 of `salt:user_id`, first 16 bytes as hex.
fn hash_user_id(salt: Option<&str>, user_id: &[u8]) -> String {
    let mut h = Sha256::new();
    if let Some(salt) = salt {
        h.update(salt.as_bytes());
        h.update(b":");
    }
    h.update(user_id);
    let digest = h.finalize();
    let mut out = String::with_capacity(32);
    for b in &digest[..16] {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn since_epoch_secs(sent_at: f64) -> Option<f64> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    (sent_at.is_finite() && sent_at > 0.0).then_some(now - sent_at)
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
    fn user_id_is_hashed_with_the_salt() {
        let plain = hash_user_id(None, b"42");
        assert_eq!(plain.len(), 32);
        assert_eq!(plain, "73475cb40a568e8da8a045ced110137e"); // sha256("42")
        assert_ne!(hash_user_id(Some("pepper"), b"42"), plain);
    }

    #[test]
    fn llm_log_needs_global_switch_or_allowed_header() {
        let on = headers(&[(header::VERBOSE_AI_LOGS, "TRUE")]);
        let mut s = RequestLogSettings::default();
        assert!(!RequestLogHandle::from_headers(&s, &on).llm_log_enabled());
        s.llm_log_allowed_by_header = true;
        assert!(RequestLogHandle::from_headers(&s, &on).llm_log_enabled());
        assert!(!RequestLogHandle::from_headers(&s, &HeaderMap::new()).llm_log_enabled());
        let off = headers(&[(header::VERBOSE_AI_LOGS, "false")]);
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

    #[test]
    fn rails_send_start_gives_a_transfer_duration() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let sent = format!("{}", now - 2.0);
        let h = RequestLogHandle::from_headers(
            &RequestLogSettings::default(),
            &headers(&[(header::RAILS_SEND_START, &sent)]),
        );
        let d = h.context().duration_request.unwrap();
        assert!((1.5..100.0).contains(&d), "{d}");
    }
}
