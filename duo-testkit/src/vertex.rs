//! Fake Google Vertex AI publisher-model endpoints (Gemini `generateContent` /
//! `streamGenerateContent`, Claude `rawPredict` / `streamRawPredict`), in-process on a random
//! loopback port.
//!
//! [`FakeVertex`] serves
//! `POST /v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`
//! (also `/v1beta1/…`; any project and location; the model id may hold `@`, `.`, `-`, and
//! percent-escapes are decoded), in place of `https://{location}-aiplatform.googleapis.com`:
//!
//! - publisher `google`: `:generateContent` answers one `GenerateContentResponse`
//!   (`application/json`): `{"candidates":[{"content":{"role":"model","parts":[…]},
//!   "finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":n,
//!   "candidatesTokenCount":m,"totalTokenCount":n+m},"modelVersion":"<model>",
//!   "createTime":"…","responseId":"…"}`. `:streamGenerateContent?alt=sse` answers
//!   `text/event-stream` events `data: <response>\r\n\r\n` (CRLF line endings, as Vertex sends
//!   them): one candidate per chunk with one text part, function calls whole in one chunk, and
//!   only the last chunk carrying `finishReason` and `usageMetadata`. Without `alt=sse` the
//!   same responses come as one JSON array (`[r1,\r\nr2]`). `createTime` is fixed
//!   (`2025-01-01T00:00:00.000000Z`) and `responseId` is `fake-response-<n>`, so bodies are
//!   predictable byte for byte. Answers come from the scripted [`Reply`] queue
//!   ([`FakeVertex::script`]), else the default reply, the text `Hello from the fake.`.
//! - publisher `anthropic` (Claude on Vertex): the body is Anthropic's Messages body, with
//!   `"anthropic_version": "vertex-2023-10-16"` ([`VERTEX_ANTHROPIC_VERSION`]) and without
//!   `model`. The answer is exactly what [`crate::anthropic::FakeAnthropic`] renders, `model`
//!   being the URL's model id and ids `msg_vrtx_…`/`req_vrtx_…`; `:streamRawPredict` always
//!   streams (`:rawPredict` streams when the body says `"stream": true`). Answers come from a
//!   queue of their own, [`FakeVertex::script_claude`], taking a
//!   [`crate::anthropic::Reply`] (or a Gemini [`Reply`], for Google-shaped errors such as a
//!   429 `RESOURCE_EXHAUSTED` from Vertex's quota), else the text `Hello from the fake.`.
//!
//! Before the script is consulted the fake makes Vertex's checks, which consume no scripted
//! reply, in this order:
//!
//! 1. another method, path or publisher/method pair: 404 `NOT_FOUND`;
//! 2. no `Authorization: Bearer <token>`, or a token not taken: 401 `UNAUTHENTICATED`
//!    (`Request had invalid authentication credentials. Expected OAuth 2 access token, …`).
//!    Tokens taken are those given to [`FakeVertex::accept_token`] and those a trusted
//!    [`FakeGoogleOAuth`] issued and has not seen expire ([`FakeVertex::trust`]); with
//!    neither set, any bearer token;
//! 3. the body: for Gemini a `GenerateContentRequest` (a JSON object with no unknown fields and
//!    a non-empty `contents`, each with `role` `user` or `model` and non-empty `parts`, each
//!    part holding one of `text`, `functionCall`, `functionResponse`, …; a well-formed
//!    `systemInstruction`, `generationConfig` (`temperature` in [0, 2], `topP` in [0, 1],
//!    `maxOutputTokens` ≥ 1, `stopSequences` strings), `tools[].functionDeclarations[]` with
//!    valid names, `toolConfig.functionCallingConfig.mode` `AUTO`/`ANY`/`NONE`/`VALIDATED`),
//!    else 400 `INVALID_ARGUMENT` in Google's words; for Claude `anthropic_version`, no
//!    `model`, a positive `max_tokens` and `messages`, else 400 `invalid_request_error` in
//!    Anthropic's shape.
//!
//! Google errors are `{"error":{"code":…,"message":…,"status":…}}`, pretty-printed as Google's
//! front end writes them. Every request is recorded ([`FakeVertex::requests`], a
//! [`RecordedRequest`] with the parsed [`Route`]), refused ones included.
//!
//! ```
//! use duo_testkit::vertex::{FakeVertex, Reply};
//! use serde_json::{Value, json};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let fake = FakeVertex::start().await;
//! fake.accept_token("ya29.test");
//! fake.script(Reply::status(429))                                  // first request: quota
//!     .script(Reply::function_call("get_weather", json!({"city": "Paris"})));
//!
//! let url = format!(
//!     "{}/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
//!     fake.url(),                                                  // "http://127.0.0.1:PORT"
//! );
//! let call = || reqwest::Client::new()
//!     .post(&url)
//!     .bearer_auth("ya29.test")
//!     .json(&json!({"contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}]}))
//!     .send();
//! let limited: Value = call().await.unwrap().json().await.unwrap();
//! assert_eq!(limited["error"]["status"], "RESOURCE_EXHAUSTED");
//! let answer: Value = call().await.unwrap().json().await.unwrap();
//! assert_eq!(
//!     answer["candidates"][0]["content"]["parts"][0],
//!     json!({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}})
//! );
//! assert_eq!(fake.last_request().unwrap().model(), Some("gemini-2.5-flash"));
//! # }
//! ```

mod check;
mod record;
mod render;
mod reply;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::task::JoinHandle;

use crate::anthropic;
use crate::google_oauth::{FakeGoogleOAuth, lock};

pub use record::{RecordedRequest, Route};
pub use reply::Reply;

use server::State;

/// The `anthropic_version` Claude on Vertex requires in the body.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// A scripted answer to a Claude route: Anthropic's (a message, a stream, an
/// Anthropic-shaped error), or Google's (an error of Vertex's own, a raw body).
#[derive(Debug, Clone)]
pub enum ClaudeReply {
    /// Rendered exactly as [`crate::anthropic::FakeAnthropic`] renders it.
    Anthropic(anthropic::Reply),
    /// Rendered as for Gemini: meant for [`Reply::status`] / [`Reply::error`] / [`Reply::raw`]
    /// (a content reply gives a Gemini body, streamed for `:streamRawPredict`).
    Google(Reply),
}

impl From<anthropic::Reply> for ClaudeReply {
    fn from(reply: anthropic::Reply) -> Self {
        Self::Anthropic(reply)
    }
}

impl From<Reply> for ClaudeReply {
    fn from(reply: Reply) -> Self {
        Self::Google(reply)
    }
}

/// A fake Vertex AI, serving on `127.0.0.1:<random>` until dropped.
#[derive(Debug)]
pub struct FakeVertex {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl FakeVertex {
    /// Starts the fake on `127.0.0.1` on a free port.
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test machine).
    #[allow(clippy::expect_used)] // a test kit that cannot bind loopback cannot run any test
    pub async fn start() -> Self {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake Vertex AI");
        let addr = tcp.local_addr().expect("read the fake Vertex AI's address");
        let state = Arc::new(State::new());
        let counted = Arc::clone(&state);
        let listener = tcp.tap_io(move |io| {
            let _ = io.set_nodelay(true);
            counted.connections.fetch_add(1, Ordering::SeqCst);
        });
        let app = Router::new()
            .fallback(server::handle)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Self { addr, state, task }
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing `/`): what a client takes in place
    /// of `https://{location}-aiplatform.googleapis.com`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the fake listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues `reply` for the next accepted Gemini request (replies are used in the order
    /// queued).
    pub fn script(&self, reply: Reply) -> &Self {
        lock(&self.state.queue).push_back(reply);
        self
    }

    /// Queues several Gemini replies, in order.
    pub fn script_all(&self, replies: impl IntoIterator<Item = Reply>) -> &Self {
        lock(&self.state.queue).extend(replies);
        self
    }

    /// The Gemini reply used when its queue is empty (initially
    /// `Reply::text("Hello from the fake.")`).
    pub fn set_default(&self, reply: Reply) -> &Self {
        *lock(&self.state.default) = reply;
        self
    }

    /// How many scripted Gemini replies are still queued.
    #[must_use]
    pub fn pending(&self) -> usize {
        lock(&self.state.queue).len()
    }

    /// Queues `reply` (an [`anthropic::Reply`], or a Gemini [`Reply`] for Google-shaped
    /// errors) for the next accepted Claude request.
    pub fn script_claude(&self, reply: impl Into<ClaudeReply>) -> &Self {
        lock(&self.state.claude_queue).push_back(reply.into());
        self
    }

    /// Queues several Claude replies, in order.
    pub fn script_claude_all<R: Into<ClaudeReply>>(
        &self,
        replies: impl IntoIterator<Item = R>,
    ) -> &Self {
        lock(&self.state.claude_queue).extend(replies.into_iter().map(Into::into));
        self
    }

    /// The Claude reply used when its queue is empty (initially
    /// `anthropic::Reply::text("Hello from the fake.")`).
    pub fn set_claude_default(&self, reply: impl Into<ClaudeReply>) -> &Self {
        *lock(&self.state.claude_default) = reply.into();
        self
    }

    /// How many scripted Claude replies are still queued.
    #[must_use]
    pub fn pending_claude(&self) -> usize {
        lock(&self.state.claude_queue).len()
    }

    /// Takes `Authorization: Bearer <token>` from now on (and, once this or
    /// [`trust`](Self::trust) was called, refuses tokens neither names).
    pub fn accept_token(&self, token: impl Into<String>) -> &Self {
        lock(&self.state.accepted).push(token.into());
        self
    }

    /// Takes the unexpired tokens `oauth` issued (before or after this call).
    pub fn trust(&self, oauth: &FakeGoogleOAuth) -> &Self {
        lock(&self.state.trusted).push(oauth.tokens());
        self
    }

    /// Every request received so far (refused ones too), in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// The latest request, if any.
    #[must_use]
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.state.requests).last().cloned()
    }

    /// How many requests arrived so far.
    #[must_use]
    pub fn request_count(&self) -> usize {
        lock(&self.state.requests).len()
    }

    /// How many TCP connections the fake accepted so far.
    #[must_use]
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FakeVertex {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_checks;
