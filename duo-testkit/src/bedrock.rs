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

mod check;
pub mod frames;
mod script;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use futures::stream;
use serde_json::json;
use tokio::task::JoinHandle;

pub use script::{Answer, Cut, ErrorReply, Reply, StreamException, ToolUse};

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
}

impl RecordedRequest {
    /// A header's value, if present and valid UTF-8.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    requests: Mutex<Vec<RecordedRequest>>,
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
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RecordedRequest {
            path: uri.path().to_owned(),
            model_id,
            operation,
            headers,
            body,
            peer,
        });
    if let Err(error) = invalid {
        return error_response(&error);
    }
    match shared.next_reply() {
        Reply::Error(error) => error_response(&error),
        Reply::Answer(answer) => {
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

fn request_id() -> (header::HeaderName, HeaderValue) {
    (
        header::HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_static("00000000-0000-4000-8000-000000000000"),
    )
}

fn error_response(error: &ErrorReply) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let error_type = format!(
        "{}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        error.error_type
    );
    let mut response = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            request_id(),
        ],
        json!({ "message": error.message }).to_string(),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&error_type) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    if let Some(seconds) = error.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn converse_response(answer: &Answer) -> Response {
    let mut content = Vec::with_capacity(answer.tool_uses.len() + 1);
    if answer.has_text_block() {
        content.push(json!({ "text": answer.joined() }));
    }
    content.extend(answer.tool_uses.iter().map(|tool| {
        json!({ "toolUse": { "toolUseId": tool.tool_use_id, "name": tool.name, "input": tool.input } })
    }));
    let body = json!({
        "output": { "message": { "role": "assistant", "content": content } },
        "stopReason": answer.stop_reason,
        "usage": {
            "inputTokens": answer.input_tokens,
            "outputTokens": answer.output_tokens,
            "totalTokens": answer.input_tokens.saturating_add(answer.output_tokens),
        },
        "metrics": { "latencyMs": 42 },
    })
    .to_string();
    let body = match answer.cut {
        // a truncated JSON document with a matching Content-Length: well-formed HTTP, bad JSON
        Some(_) => body[..body.len() / 2].to_owned(),
        None => body,
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            request_id(),
        ],
        body,
    )
        .into_response()
}

/// One step of a streamed body.
enum Step {
    Send(Bytes),
    Abort,
}

fn stream_steps(answer: &Answer) -> Result<Vec<Step>, frames::EncodeError> {
    let mut frames = frames::answer_frames(answer)?;
    if let Some(index) = answer.corrupt_frame
        && let Some(frame) = frames.get_mut(index)
    {
        *frame = frames::corrupt_crc(frame);
    }
    if let Some((after, exception)) = &answer.exception {
        frames.truncate(*after);
        frames.push(frames::exception_frame(exception)?);
    }
    let mut steps: Vec<Step> = Vec::with_capacity(frames.len() + 1);
    match answer.cut {
        None => steps.extend(frames.into_iter().map(Step::Send)),
        Some(Cut::AfterFrames(k)) => steps.extend(frames.into_iter().take(k).map(Step::Send)),
        Some(Cut::MidFrame(k)) => {
            let half = frames.get(k).map(|f| f.slice(..f.len() / 2));
            steps.extend(frames.into_iter().take(k).map(Step::Send));
            steps.extend(half.map(Step::Send));
        }
        Some(Cut::Abort(k)) => {
            steps.extend(frames.into_iter().take(k).map(Step::Send));
            steps.push(Step::Abort);
        }
    }
    Ok(steps)
}

fn stream_response(answer: &Answer) -> Response {
    let steps = match stream_steps(answer) {
        Ok(steps) => steps,
        Err(e) => {
            return error_response(&ErrorReply::new(
                500,
                "InternalServerException",
                e.to_string(),
            ));
        }
    };
    let delay = answer.frame_delay;
    let body = stream::unfold(steps.into_iter(), move |mut steps| async move {
        let step = steps.next()?;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let item = match step {
            Step::Send(bytes) => Ok(bytes),
            Step::Abort => {
                // return Pending once so hyper flushes the frames already sent, then fail
                tokio::task::yield_now().await;
                Err(std::io::Error::other("FakeBedrock aborted the stream"))
            }
        };
        Some((item, steps))
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.amazon.eventstream"),
            ),
            request_id(),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
