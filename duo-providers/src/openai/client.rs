//! The request/response cycle shared by the OpenAI-style providers: request bodies from duo
//! prompts, auth header, status errors, JSON answers and SSE streams.

use std::sync::Arc;

use duo_core::{Error, EventStream, Generation, ModelRequest, Prompt, Role, ToolChoice};
use reqwest::header::{self, HeaderName, HeaderValue};
use reqwest::{RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::sse::decode_sse_limited;
use super::wire::{
    self, ErrorInfo, FullResponse, RequestBody, StreamOptions, WireCalled, WireFunction, WireTool,
    WireToolCall,
};
pub(crate) use crate::endpoint_url::{display_url, join, parse_base_url, secret_header};
use crate::http::{ErrorResponse, HttpClient, excerpt};

/// One OpenAI-style endpoint: where its two APIs are and how to talk to them.
#[derive(Debug, Clone)]
pub(crate) struct OpenAiClient {
    pub http: HttpClient,
    pub upstream: Arc<str>,
    pub auth: Option<(HeaderName, HeaderValue)>,
    /// The key inside `auth`, scrubbed from everything the upstream says back.
    pub secret: Option<duo_core::Secret>,
    pub completions_url: Url,
    pub chat_url: Url,
    /// The `model` field of the body (Azure puts the deployment in the path instead).
    pub model_field: Option<String>,
    /// At most this many stop sequences are sent (OpenAI and Azure accept four).
    pub stop_limit: Option<usize>,
    /// Whether a chat ending in an assistant turn asks the server to continue that turn
    /// (vLLM's `continue_final_message`); OpenAI and Azure reject the field.
    pub continue_prefill: bool,
    /// Whether the model is one of OpenAI's reasoning models: `max_completion_tokens` instead of
    /// `max_tokens`, no `temperature` or `top_p` (they refuse them), system messages sent with
    /// the `developer` role.
    pub reasoning: bool,
    /// Whether the endpoint came from the request, so the operator's extra headers go with
    /// each call (never to an operator default such as `api.openai.com`).
    pub extra_headers: bool,
}

/// `tool_choice` as OpenAI spells it.
fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Named(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

impl OpenAiClient {
    /// The body for `request`, and the URL it goes to.
    fn body<'a>(
        &'a self,
        request: &'a ModelRequest,
        stream: bool,
    ) -> Result<(&'a Url, RequestBody<'a>), Error> {
        let params = &request.params;
        let stop = match self.stop_limit {
            Some(n) => params.stop_limited(n),
            None => &params.stop[..],
        };
        let mut body = RequestBody {
            model: self.model_field.as_deref(),
            prompt: None,
            suffix: None,
            messages: None,
            max_tokens: (!self.reasoning).then_some(params.max_tokens).flatten(),
            max_completion_tokens: self.reasoning.then_some(params.max_tokens).flatten(),
            reasoning_effort: params.reasoning_effort.as_deref(),
            temperature: params.temperature.filter(|_| !self.reasoning),
            top_p: params.top_p.filter(|_| !self.reasoning),
            stop,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
            continue_final_message: None,
            add_generation_prompt: None,
            tools: request
                .tools
                .iter()
                .map(|tool| WireTool {
                    kind: "function",
                    function: WireFunction {
                        name: &tool.name,
                        description: &tool.description,
                        parameters: tool.schema(),
                    },
                })
                .collect(),
            tool_choice: (!request.tools.is_empty()).then(|| tool_choice(&request.tool_choice)),
        };
        let url = match &request.prompt {
            Prompt::Text(text) => {
                body.prompt = Some(text);
                &self.completions_url
            }
            Prompt::FillInTheMiddle { prefix, suffix } => {
                body.prompt = Some(prefix);
                body.suffix = Some(suffix);
                &self.completions_url
            }
            Prompt::Chat(messages) => {
                let system = if self.reasoning {
                    "developer"
                } else {
                    "system"
                };
                body.messages = Some(
                    messages
                        .iter()
                        .map(|m| wire::ChatMessage {
                            role: match m.role {
                                Role::System => system,
                                other => other.as_str(),
                            },
                            content: (!m.content.is_empty() || m.tool_calls.is_empty())
                                .then_some(m.content.as_str()),
                            tool_calls: m
                                .tool_calls
                                .iter()
                                .map(|c| WireToolCall {
                                    id: &c.id,
                                    kind: "function",
                                    function: WireCalled {
                                        name: &c.name,
                                        arguments: &c.arguments,
                                    },
                                })
                                .collect(),
                            tool_call_id: m.tool_call_id.as_deref(),
                        })
                        .collect(),
                );
                if self.continue_prefill
                    && messages
                        .last()
                        .is_some_and(|m| m.role == Role::Assistant && m.tool_calls.is_empty())
                {
                    body.continue_final_message = Some(true);
                    body.add_generation_prompt = Some(false);
                }
                &self.chat_url
            }
            _ => {
                return Err(Error::InvalidRequest(format!(
                    "{} cannot take this kind of prompt",
                    self.upstream
                )));
            }
        };
        Ok((url, body))
    }

    /// POSTs `body` as JSON.
    async fn post(
        &self,
        url: &Url,
        body: &RequestBody<'_>,
        accept: &'static str,
    ) -> Result<Response, Error> {
        let json = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidRequest(format!("cannot encode the request: {e}")))?;
        let builder = self
            .http
            .inner()
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(json);
        self.send(builder).await
    }

    /// Sends with auth; a non-2xx status becomes its error.
    pub(crate) async fn send(&self, mut builder: RequestBuilder) -> Result<Response, Error> {
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

    /// The error an unsuccessful response stands for.
    async fn status_error(&self, response: Response) -> Error {
        let answer = ErrorResponse::read(response, &self.upstream).await;
        let info = serde_json::from_str(&answer.text)
            .map(|v| ErrorInfo::parse(&v))
            .unwrap_or_default();
        let message = info.message.unwrap_or_else(|| answer.quoted());
        if let Some(categories) = info.filtered {
            let message = if categories.is_empty() {
                message
            } else {
                format!("{message} [filtered: {categories}]")
            };
            return self.scrub(Error::ContentFiltered {
                upstream: self.upstream.to_string(),
                message,
            });
        }
        self.scrub(
            Error::from_status(
                self.upstream.as_ref(),
                answer.status,
                message,
                answer.retry_after,
            )
            .with_upstream_code(info.code.as_deref()),
        )
    }

    /// `err` without the endpoint's key in its text.
    pub(crate) fn scrub(&self, err: Error) -> Error {
        crate::extra_headers::scrub(
            err,
            self.secret.as_ref(),
            self.extra_headers.then(|| self.http.extra_headers()),
        )
    }

    /// Reads a JSON body.
    pub(crate) async fn json<T: DeserializeOwned>(&self, response: Response) -> Result<T, Error> {
        let bytes =
            crate::bounded::read_body(response, self.http.max_response_bytes(), &self.upstream)
                .await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            self.scrub(Error::Protocol {
                upstream: self.upstream.to_string(),
                message: format!(
                    "bad JSON in the answer ({e}): {}",
                    excerpt(&String::from_utf8_lossy(&bytes), 200)
                ),
            })
        })
    }

    /// Starts a streamed answer (`stream: true`, usage requested). Every place upstream text
    /// enters an error (`status_error`, `json`, the content-type check, the SSE events) scrubs
    /// the key from it.
    pub(crate) async fn stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let (url, body) = self.body(request, true)?;
        let response = self.post(url, &body, "text/event-stream").await?;
        let response = crate::sse::require_sse(response, &self.upstream)
            .await
            .map_err(|e| self.scrub(e))?;
        let events = decode_sse_limited(
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

    /// Answers once (`stream: false`).
    pub(crate) async fn generate(&self, request: &ModelRequest) -> Result<Generation, Error> {
        let (url, body) = self.body(request, false)?;
        let response = self.post(url, &body, "application/json").await?;
        let answer: FullResponse = self.json(response).await?;
        let choice = answer
            .choices
            .into_iter()
            .find(|c| c.index == 0)
            .ok_or_else(|| Error::Protocol {
                upstream: self.upstream.to_string(),
                message: "the answer has no choices".into(),
            })?;
        let finish_reason = wire::finish_reason(choice.finish_reason.as_deref());
        let (content, calls) = match choice.message {
            Some(m) => (m.content, m.tool_calls),
            None => (None, Vec::new()),
        };
        let text = choice.text.or(content).unwrap_or_default();
        Ok(Generation {
            text,
            tool_calls: calls.into_iter().map(Into::into).collect(),
            finish_reason,
            usage: answer.usage.map(Into::into),
        })
    }
}
