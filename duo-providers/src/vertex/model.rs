//! [`VertexModel`]: one `vertex_ai/<model>` behind [`LanguageModel`]: Gemini through
//! `generateContent`, Claude through `rawPredict`, with the operator's Google access token.

use std::sync::Arc;

use duo_core::{
    Error, EventStream, Generation, LanguageModel, ModelRequest, ProviderKind, Secret, async_trait,
};
use reqwest::header::{self, HeaderValue};
use reqwest::{Response, Url};

use super::credentials::GoogleAuth;
use super::gemini::{gemini_body, generation};
use super::gemini_sse::decode_gemini_sse;
use super::gemini_wire::{ErrorBody, GenerateResponse};
use super::google_error;
use super::settings::ResolvedVertex;
use crate::anthropic::body::{Body, answer_error, messages_body, parse_answer};
use crate::http::{ErrorResponse, HttpClient, excerpt};

/// Who publishes the model on Vertex AI: it decides the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    /// Gemini and Google's other models: `generateContent`.
    Google,
    /// Claude: Anthropic's Messages API through `rawPredict`.
    Anthropic,
}

impl Publisher {
    /// `anthropic` for `claude-*` models, `google` otherwise.
    #[must_use]
    pub fn of(model: &str) -> Self {
        if model.starts_with("claude") {
            Self::Anthropic
        } else {
            Self::Google
        }
    }

    /// The URL's publisher segment.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Anthropic => "anthropic",
        }
    }
}

/// A model on Vertex AI (`vertex_ai/<model>` identifiers), cheap to clone.
///
/// - URLs: `{endpoint}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`,
///   the publisher by [`Publisher::of`]; Gemini `:generateContent` and
///   `:streamGenerateContent?alt=sse`, Claude `:rawPredict` and `:streamRawPredict`.
/// - Auth: `Authorization: Bearer <token>` from [`GoogleAuth`] (a refused token is forgotten, so
///   the next call fetches a new one).
/// - Gemini: system messages as `systemInstruction`, turns as `user`/`model` contents, sampling as
///   `generationConfig` (at most 5 stop sequences), tools as `functionDeclarations` (the JSON
///   Schema keywords Gemini refuses removed) with `functionCallingConfig` `AUTO`/`NONE`/`ANY`
///   (a named tool: `ANY` with `allowedFunctionNames`); a refused prompt or a safety stop is
///   the content-filter finish, a stop after function calls the tool-calls finish.
/// - Claude: the Messages body without `model`, with `anthropic_version`.
/// - Errors: Google's `{"error": {"code", "message", "status"}}` (its status name as the
///   upstream code; 429 rate limited, 5xx retryable), or Anthropic's error body from Claude.
#[derive(Debug, Clone)]
pub struct VertexModel {
    http: HttpClient,
    auth: Arc<GoogleAuth>,
    upstream: Arc<str>,
    model: String,
    publisher: Publisher,
    whole_url: Url,
    stream_url: Url,
    anthropic_version: Arc<str>,
    default_max_tokens: u32,
}

impl VertexModel {
    /// A client for `model` in the operator's project.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a model id that cannot be a URL segment.
    pub(crate) fn new(
        http: &HttpClient,
        auth: Arc<GoogleAuth>,
        vertex: &ResolvedVertex,
        model: &str,
        anthropic_version: &str,
        default_max_tokens: u32,
    ) -> Result<Self, Error> {
        if model.is_empty()
            || !model
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@'))
        {
            return Err(Error::InvalidRequest(format!(
                "'{}' is not a Vertex AI model id (letters, digits, '.', '-', '_', '@')",
                excerpt(model, 100)
            )));
        }
        let publisher = Publisher::of(model);
        let (whole, stream) = match publisher {
            Publisher::Google => ("generateContent", "streamGenerateContent"),
            Publisher::Anthropic => ("rawPredict", "streamRawPredict"),
        };
        let url = |method: &str| -> Result<Url, Error> {
            let mut url = vertex.base.clone();
            url.path_segments_mut()
                .map_err(|()| Error::Config("vertex.endpoint cannot take a path".into()))?
                .pop_if_empty()
                .extend([
                    "v1",
                    "projects",
                    &vertex.project,
                    "locations",
                    &vertex.location,
                    "publishers",
                    publisher.as_str(),
                    "models",
                    &format!("{model}:{method}"),
                ]);
            Ok(url)
        };
        let mut stream_url = url(stream)?;
        if publisher == Publisher::Google {
            stream_url.set_query(Some("alt=sse"));
        }
        Ok(Self {
            http: http.clone(),
            auth,
            upstream: format!(
                "Vertex AI at {} ({}/{})",
                vertex.base.as_str().trim_end_matches('/'),
                vertex.project,
                vertex.location
            )
            .into(),
            model: model.to_owned(),
            publisher,
            whole_url: url(whole)?,
            stream_url,
            anthropic_version: anthropic_version.into(),
            default_max_tokens,
        })
    }

    /// The model's publisher.
    #[must_use]
    pub fn publisher(&self) -> Publisher {
        self.publisher
    }

    fn body(&self, request: &ModelRequest, stream: bool) -> Result<Vec<u8>, Error> {
        let encoded = match self.publisher {
            Publisher::Google => serde_json::to_vec(&gemini_body(request)?),
            Publisher::Anthropic => serde_json::to_vec(&messages_body(
                request,
                Body {
                    model: None,
                    anthropic_version: Some(&self.anthropic_version),
                    default_max_tokens: self.default_max_tokens,
                    platform: "Vertex AI",
                },
                stream,
            )?),
        };
        encoded.map_err(|e| Error::InvalidRequest(format!("cannot encode the request: {e}")))
    }

    /// POSTs the body for `request` with a fresh token; a non-2xx status becomes its error.
    /// The token comes back too, to be scrubbed from what the answer's body may say.
    async fn post(
        &self,
        request: &ModelRequest,
        stream: bool,
    ) -> Result<(Response, Secret), Error> {
        let body = self.body(request, stream)?;
        let token = self.auth.token().await?;
        let bearer =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                Error::Protocol {
                    upstream: self.upstream.to_string(),
                    message: "the Google access token cannot go in a header".into(),
                }
            })?;
        let url = if stream {
            &self.stream_url
        } else {
            &self.whole_url
        };
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let request = self
            .http
            .inner()
            .post(url.clone())
            .header(header::AUTHORIZATION, bearer)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(body);
        let response = self
            .http
            .send(&self.upstream, request)
            .await
            .map_err(|e| e.scrubbed(&token))?;
        if response.status().is_success() {
            return Ok((response, token));
        }
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            self.auth.forget().await;
        }
        let answer = ErrorResponse::read(response, &self.upstream).await;
        let error = match serde_json::from_str::<ErrorBody>(&answer.text) {
            Ok(body) => google_error(&self.upstream, &body.error, answer.retry_after),
            Err(_) => answer_error(&answer, &self.upstream),
        };
        Err(error.scrubbed(&token))
    }
}

#[async_trait]
impl LanguageModel for VertexModel {
    fn provider(&self) -> &str {
        ProviderKind::VertexAi.as_str()
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn upstream(&self) -> &str {
        &self.upstream
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let (response, token) = self.post(request, true).await?;
        let response = crate::sse::require_sse(response, &self.upstream)
            .await
            .map_err(|e| e.scrubbed(&token))?;
        let upstream = Arc::clone(&self.upstream);
        let limit = self.http.max_event_bytes();
        let body = response.bytes_stream();
        Ok(match self.publisher {
            Publisher::Google => decode_gemini_sse(body, upstream, limit),
            Publisher::Anthropic => crate::anthropic::decode_messages_sse(body, upstream, limit),
        })
    }

    async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let (response, token) = self.post(request, false).await?;
        let bytes =
            crate::bounded::read_body(response, self.http.max_response_bytes(), &self.upstream)
                .await
                .map_err(|e| e.scrubbed(&token))?;
        let answer = match self.publisher {
            Publisher::Google => serde_json::from_slice::<GenerateResponse>(&bytes)
                .map_err(|e| Error::Protocol {
                    upstream: self.upstream.to_string(),
                    message: format!(
                        "bad JSON in the answer ({e}): {}",
                        excerpt(&String::from_utf8_lossy(&bytes), 200)
                    ),
                })
                .and_then(|answer| generation(answer, &self.upstream)),
            Publisher::Anthropic => {
                parse_answer(&bytes, &self.upstream).map(crate::anthropic::body::generation)
            }
        };
        answer.map_err(|e| e.scrubbed(&token))
    }
}
