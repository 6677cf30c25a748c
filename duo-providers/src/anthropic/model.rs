//! [`AnthropicModel`]: one Anthropic model behind the Messages API.

use std::sync::Arc;

use duo_core::{
    Error, EventStream, Generation, LanguageModel, ModelEndpoint, ModelRequest, ProviderKind,
    Secret, async_trait,
};
use reqwest::header::{self, HeaderName, HeaderValue};
use reqwest::{Response, Url};

use super::body::{Body, answer_error, generation, messages_body, parse_answer};
use super::settings::AnthropicSettings;
use super::sse::decode_messages_sse;
use super::wire::MessagesRequest;
use crate::endpoint_url::{Route, display_url, join, parse_base_url, route, secret_header};
use crate::http::{ErrorResponse, HttpClient};

/// A model on Anthropic's Messages API (`anthropic/<model>` identifiers).
///
/// - Every prompt goes to `POST {base}/v1/messages` (a base already ending in `/v1` gets
///   `/messages`): system messages joined into `system`, the other messages as alternating
///   `user`/`assistant` turns of text blocks (consecutive ones merged, blank ones dropped); text
///   and fill-in-the-middle prompts become one user turn, as for Bedrock. `max_tokens` is always
///   sent (the prompt's, else [`AnthropicSettings::default_max_tokens`]), stop sequences as
///   `stop_sequences`; `temperature` and `top_p` as set, except that only `temperature` is
///   sent when both are (newer Claude models refuse the pair). Tools go as `tools`
///   (`input_schema`) with `tool_choice` (`auto`, `none`, `any`, `tool`); an assistant's calls
///   as `tool_use` blocks and tool results as `tool_result` blocks of a user turn.
/// - Headers: `x-api-key` (when there is a key) and `anthropic-version`.
/// - Whose endpoint and key: a [`ModelEndpoint`] with a base URL is served there with its own
///   key or none; one without goes to [`AnthropicSettings::base_url`] with the endpoint's key,
///   else the operator's ([`AnthropicSettings::operator_key`]). The operator's key never goes
///   to an endpoint the request named.
/// - Errors: the status with Anthropic's error type as the upstream code (`overloaded_error` is
///   a retryable 529); streams are decoded by [`decode_messages_sse`](super::decode_messages_sse).
#[derive(Debug, Clone)]
pub struct AnthropicModel {
    http: HttpClient,
    upstream: Arc<str>,
    url: Url,
    model: String,
    auth: Option<(HeaderName, HeaderValue)>,
    /// The key inside `auth`, scrubbed from everything the upstream says back.
    secret: Option<Secret>,
    version: HeaderValue,
    default_max_tokens: u32,
    /// Whether the request named the endpoint, so the operator's extra headers go along.
    extra_headers: bool,
}

impl AnthropicModel {
    /// A client for `endpoint`, sharing `http`'s connection pool.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an endpoint of another platform, a bad URL or a key that
    /// cannot go in a header; [`Error::Config`] for a bad `anthropic-version`.
    pub fn new(
        http: &HttpClient,
        endpoint: &ModelEndpoint,
        settings: &AnthropicSettings,
    ) -> Result<Self, Error> {
        if endpoint.provider() != ProviderKind::Anthropic {
            return Err(Error::InvalidRequest(format!(
                "{} is not an Anthropic model identifier",
                endpoint.identifier()
            )));
        }
        let Route {
            base,
            key,
            named_by_request,
        } = route(endpoint, &settings.base_url, || settings.operator_key());
        let base = parse_base_url(Some(base), "Anthropic")?;
        let url = if base.path().trim_end_matches('/').ends_with("/v1") {
            join(&base, &["messages"])?
        } else {
            join(&base, &["v1", "messages"])?
        };
        let auth = key
            .as_ref()
            .map(|k| secret_header(HeaderName::from_static("x-api-key"), k.expose()))
            .transpose()?;
        let version = HeaderValue::from_str(settings.version.trim())
            .map_err(|_| Error::Config("anthropic.version: not a valid header value".into()))?;
        Ok(Self {
            http: http.clone(),
            upstream: format!("Anthropic at {}", display_url(&base)).into(),
            url,
            model: endpoint.model().to_owned(),
            auth,
            secret: key,
            version,
            default_max_tokens: settings.default_max_tokens,
            extra_headers: named_by_request,
        })
    }

    /// The body for `request`.
    fn body<'a>(
        &'a self,
        request: &'a ModelRequest,
        stream: bool,
    ) -> Result<MessagesRequest<'a>, Error> {
        messages_body(
            request,
            Body {
                model: Some(&self.model),
                anthropic_version: None,
                default_max_tokens: self.default_max_tokens,
                platform: "Anthropic",
            },
            stream,
        )
    }

    /// POSTs the body for `request`; a non-2xx status becomes its error.
    async fn post(&self, request: &ModelRequest, stream: bool) -> Result<Response, Error> {
        let body = self.body(request, stream)?;
        let json = serde_json::to_vec(&body)
            .map_err(|e| Error::InvalidRequest(format!("cannot encode the request: {e}")))?;
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let mut builder = self
            .http
            .inner()
            .post(self.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .header("anthropic-version", self.version.clone())
            .body(json);
        if self.extra_headers {
            builder = self.http.extra_headers().apply(builder);
        }
        if let Some((name, value)) = &self.auth {
            builder = builder.header(name.clone(), value.clone());
        }
        let response = self
            .http
            .send(&self.upstream, builder)
            .await
            .map_err(|e| self.scrub(e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.status_error(response).await)
        }
    }

    /// The error an unsuccessful response stands for, with Anthropic's error type and message.
    async fn status_error(&self, response: Response) -> Error {
        let answer = ErrorResponse::read(response, &self.upstream).await;
        self.scrub(answer_error(&answer, &self.upstream))
    }

    /// `err` without the key in its text.
    fn scrub(&self, err: Error) -> Error {
        crate::extra_headers::scrub(
            err,
            self.secret.as_ref(),
            self.extra_headers.then(|| self.http.extra_headers()),
        )
    }
}

#[async_trait]
impl LanguageModel for AnthropicModel {
    fn provider(&self) -> &str {
        ProviderKind::Anthropic.as_str()
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn upstream(&self) -> &str {
        &self.upstream
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let response = self.post(request, true).await?;
        let response = crate::sse::require_sse(response, &self.upstream)
            .await
            .map_err(|e| self.scrub(e))?;
        let events = decode_messages_sse(
            response.bytes_stream(),
            Arc::clone(&self.upstream),
            self.http.max_event_bytes(),
        );
        Ok(crate::sse::scrubbed(
            events,
            self.secret.clone(),
            self.extra_headers
                .then(|| self.http.extra_headers().clone()),
        ))
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let response = self.post(request, false).await?;
        let bytes =
            crate::bounded::read_body(response, self.http.max_response_bytes(), &self.upstream)
                .await?;
        let answer = parse_answer(&bytes, &self.upstream).map_err(|e| self.scrub(e))?;
        Ok(generation(answer))
    }
}
