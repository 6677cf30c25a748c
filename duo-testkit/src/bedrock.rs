//! Fake AWS Bedrock runtime (Converse, ConverseStream with binary event-stream frames).
//!
//! [`FakeBedrock`] listens on `127.0.0.1:<random>` and speaks the REST-JSON protocol the AWS SDK
//! uses: `POST /model/{modelId}/converse` answers JSON, `POST /model/{modelId}/converse-stream`
//! answers `application/vnd.amazon.eventstream` frames (see [`frames`]). Errors come back as
//! Bedrock sends them: an HTTP status, an `x-amzn-ErrorType` header and a JSON body.
//!
//! Replies are scripted per test with [`FakeBedrock::push`] (a queue, one per request) and
//! [`FakeBedrock::set_default`] (when the queue is empty); every request is recorded (path,
//! headers, JSON body) for assertions.
//!
//! ## Tool use
//!
//! [`Answer::tool_use`] (with [`Answer::and_tool_use`] for parallel calls and
//! [`Answer::with_text`] for text before them) answers with `toolUse` blocks, `stopReason`
//! `tool_use`. Converse:
//!
//! ```text
//! {"metrics":{"latencyMs":42},
//!  "output":{"message":{"content":[{"text":"Let me check."},
//!    {"toolUse":{"input":{"city":"Paris"},"name":"get_weather","toolUseId":"tooluse_1"}}],"role":"assistant"}},
//!  "stopReason":"tool_use","usage":{"inputTokens":11,"outputTokens":7,"totalTokens":18}}
//! ```
//!
//! (no `text` block when the answer has no text). ConverseStream, as event frames (payloads
//! shown without the padding field `p` every event carries; see [`frames`]):
//!
//! | `:event-type` | payload |
//! |---|---|
//! | `messageStart` | `{"role":"assistant"}` |
//! | `contentBlockDelta` (per text chunk, if any text) | `{"contentBlockIndex":0,"delta":{"text":…}}` |
//! | `contentBlockStop` (if any text) | `{"contentBlockIndex":0}` |
//! | `contentBlockStart` (per tool use, block `k`) | `{"contentBlockIndex":k,"start":{"toolUse":{"name":…,"toolUseId":…}}}` |
//! | `contentBlockDelta` (per piece of its input's JSON text) | `{"contentBlockIndex":k,"delta":{"toolUse":{"input":"<piece>"}}}` |
//! | `contentBlockStop` | `{"contentBlockIndex":k}` |
//! | `messageStop` | `{"stopReason":"tool_use"}` |
//! | `metadata` | `{"metrics":{"latencyMs":42},"usage":{"inputTokens":…,"outputTokens":…,"totalTokens":…}}` |
//!
//! As Bedrock does, a request whose `messages` hold a `toolUse` or `toolResult` content block
//! but no `toolConfig` is answered 400 `ValidationException` ("The toolConfig field must be
//! defined when using toolUse and toolResult content blocks.", see
//! [`ErrorReply::tool_config_missing`]); it is recorded and consumes no scripted reply.
//!
//! ## Authentication
//!
//! Each request's `Authorization` is recorded as an [`Auth`]: SigV4 (with the access key id of
//! its `Credential=` scope) or a bearer API key. [`FakeBedrock::require_bearer`] makes the fake
//! check a Bedrock API key as Bedrock does: a request without `Authorization: Bearer <key>` (a
//! wrong key, a SigV4 signature, nothing) is answered 403
//! `{"Message":"Authentication failed: Please make sure your API Key is valid."}`.
//!
//! [`FakeSts`] is STS's `AssumeRole`, for clients that assume a role before calling Bedrock:
//! it records the role ARN, session name and external id, and hands out temporary credentials
//! ([`AssumedCredentials`]) whose key id and session token then show up in the Bedrock request.
//!
//! ## Guardrails
//!
//! A request's `guardrailConfig` is in its body ([`RecordedRequest::guardrail_config`]).
//! [`Answer::guardrail_intervened`] answers as Bedrock does when the guardrail blocks: 200, the
//! guardrail's message as the text, `stopReason` `guardrail_intervened`; and, when the request
//! has `trace` enabled, `trace.guardrail` (an assessment, see
//! [`Answer::default_guardrail_assessment`]) in the Converse answer or the stream's `metadata`
//! event. Without `trace` enabled no trace is sent, whatever the script says.
//!
//! ```no_run
//! # async fn demo() {
//! use duo_testkit::bedrock::{Answer, FakeBedrock};
//! let fake = FakeBedrock::start().await;
//! fake.push(Answer::chunks(["Hel", "lo"]).with_usage(5, 2));
//! // point the SDK's endpoint_url at fake.url(), call it, then:
//! let request = &fake.requests()[0];
//! assert_eq!(request.model_id, "anthropic.claude-3-5-sonnet-20240620-v1:0");
//! # }
//! ```

mod auth;
mod check;
mod errors;
pub mod frames;
mod respond;
mod script;
mod sts;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::serve::ListenerExt;
use tokio::task::JoinHandle;

pub use auth::{API_KEY_REJECTED, Auth};
pub use errors::{ErrorReply, StreamException};
use respond::{api_key_rejected, converse_response, error_response, stream_response};
pub use script::{Answer, Cut, Reply, ToolUse};
pub use sts::{AssumedCredentials, FakeSts, StsRequest};

/// Which Bedrock operation a request called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /model/{modelId}/converse`.
    Converse,
    /// `POST /model/{modelId}/converse-stream`.
    ConverseStream,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The path as sent (the model id percent-encoded, e.g. `/model/a.b-v1%3A0/converse`).
    pub path: String,
    /// The model id, decoded.
    pub model_id: String,
    /// The operation.
    pub operation: Operation,
    /// All request headers (`authorization`, `x-amz-date`, `x-amz-security-token`, …).
    pub headers: HeaderMap,
    /// The JSON body (`Null` if it was not JSON).
    pub body: serde_json::Value,
    /// The client's address: equal for requests on the same (pooled) connection.
    pub peer: SocketAddr,
    /// How it authenticated: SigV4-signed (with which key id) or a bearer API key.
    pub auth: Auth,
}

impl RecordedRequest {
    /// A header's value, if present and valid UTF-8.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body's `guardrailConfig` (`GuardrailConfiguration`, or `GuardrailStreamConfiguration`
    /// for ConverseStream), if sent.
    #[must_use]
    pub fn guardrail_config(&self) -> Option<&serde_json::Value> {
        self.body.get("guardrailConfig").filter(|c| !c.is_null())
    }

    /// Whether the request asked for the guardrail's trace (`trace` `enabled` or
    /// `enabled_full`).
    #[must_use]
    pub fn guardrail_trace_enabled(&self) -> bool {
        self.guardrail_config()
            .and_then(|c| c.get("trace"))
            .and_then(serde_json::Value::as_str)
            .is_some_and(|t| t == "enabled" || t == "enabled_full")
    }
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// The API key every request must carry as `Authorization: Bearer <key>`, if required.
    bearer: Mutex<Option<String>>,
}

impl Shared {
    fn next_reply(&self) -> Reply {
        let queued = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        queued.unwrap_or_else(|| {
            self.default
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        })
    }
}

/// A fake Bedrock runtime endpoint on loopback; stops when dropped.
#[derive(Debug)]
pub struct FakeBedrock {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeBedrock {
    /// Starts the server on `127.0.0.1` with a random port. Its default reply is
    /// `Answer::chunks(["Hello", " from", " Bedrock"])`.
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test environment).
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::Answer(Answer::chunks([
                "Hello", " from", " Bedrock",
            ]))),
            requests: Mutex::new(Vec::new()),
            bearer: Mutex::new(None),
        });
        let app = Router::new()
            .route("/model/{model_id}/{operation}", post(handle))
            .with_state(shared.clone());
        #[allow(clippy::expect_used)]
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for FakeBedrock");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("local address of FakeBedrock");
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Self { addr, shared, task }
    }

    /// The endpoint URL to give the SDK (`http://127.0.0.1:<port>`).
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply for the next request (replies are used in the order pushed).
    pub fn push(&self, reply: impl Into<Reply>) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(reply.into());
    }

    /// Sets the reply used when the queue is empty.
    pub fn set_default(&self, reply: impl Into<Reply>) {
        *self
            .shared
            .default
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = reply.into();
    }

    /// From now on accepts only requests carrying `Authorization: Bearer <api_key>` (a Bedrock
    /// API key): any other (a wrong key, a SigV4 signature, none) is answered 403
    /// `{"Message":"Authentication failed: Please make sure your API Key is valid."}`
    /// ([`API_KEY_REJECTED`]), recorded, and consumes no scripted reply.
    pub fn require_bearer(&self, api_key: impl Into<String>) {
        *self
            .shared
            .bearer
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(api_key.into());
    }

    /// The requests received so far, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FakeBedrock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((model_id, operation)): Path<(String, String)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let operation = match operation.as_str() {
        "converse" => Operation::Converse,
        "converse-stream" => Operation::ConverseStream,
        other => {
            return error_response(&ErrorReply::new(
                404,
                "UnknownOperationException",
                format!("unknown operation {other}"),
            ));
        }
    };
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let invalid = check::check(&body);
    let request = RecordedRequest {
        path: uri.path().to_owned(),
        model_id,
        operation,
        auth: Auth::of(&headers),
        headers,
        body,
        peer,
    };
    let required = shared
        .bearer
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let key_rejected = required.is_some_and(|key| request.auth.bearer() != Some(key.as_str()));
    let trace_enabled = request.guardrail_trace_enabled();
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    if key_rejected {
        return api_key_rejected();
    }
    if let Err(error) = invalid {
        return error_response(&error);
    }
    match shared.next_reply() {
        Reply::Error(error) => error_response(&error),
        Reply::Answer(mut answer) => {
            if !trace_enabled {
                answer.guardrail_trace = None;
            }
            if !answer.first_byte_delay.is_zero() {
                tokio::time::sleep(answer.first_byte_delay).await;
            }
            match operation {
                Operation::Converse => converse_response(&answer),
                Operation::ConverseStream => stream_response(&answer),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
