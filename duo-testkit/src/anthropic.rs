//! Fake Anthropic Messages API (`POST /v1/messages`, JSON and SSE), in-process on a random
//! loopback port.
//!
//! [`FakeAnthropic`] answers as `api.anthropic.com` does, byte for byte in the shapes tests
//! depend on. Each request takes the next scripted [`Reply`] (or the default one, the text
//! `Hello from the fake.`, when none is queued) and gets it in the shape it asked for:
//!
//! - without `"stream": true`, `200 application/json` with one `message`
//!   (`{"id":"msg_…","type":"message","role":"assistant","model":…,"content":[…],
//!   "stop_reason":…,"stop_sequence":null,"usage":{"input_tokens":…,"output_tokens":…}}`);
//! - with it, `200 text/event-stream` events `event: <name>\ndata: <json>\n\n`:
//!   `message_start`, then per content block `content_block_start` (the first followed by one
//!   `ping`), `content_block_delta`s (`text_delta`, or `input_json_delta` pieces of a tool
//!   call's input) and `content_block_stop`, then `message_delta` (stop reason, output tokens)
//!   and `message_stop`. A scripted mid-stream failure is `event: error`.
//!
//! Errors are `{"type":"error","error":{"type":…,"message":…},"request_id":"req_…"}`, and
//! every answer has a `request-id` header. Before the script is consulted the fake makes the
//! real API's checks, which consume no scripted reply: another route gets 404
//! `not_found_error`; with [`FakeAnthropic::require_key`] set, a wrong or missing `x-api-key`
//! gets 401 `authentication_error` (`invalid x-api-key`); a missing `anthropic-version`
//! header, a body that is not a JSON object, or one without `max_tokens` (or with one that
//! is not a positive integer), `messages` or `model` gets 400 `invalid_request_error`.
//!
//! Every request is recorded ([`FakeAnthropic::requests`], the [`RecordedRequest`] of the
//! OpenAI fake) with method, path, headers, JSON body, peer address and arrival time, refused
//! ones included.
//!
//! ```
//! use duo_testkit::anthropic::{FakeAnthropic, Reply};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let fake = FakeAnthropic::start().await;
//! fake.require_key("sk-ant-test");
//! fake.script(Reply::status(529));                             // first request: overloaded
//! fake.script(Reply::text("Hi!").usage(9, 2));                 // second: a message
//!
//! let client = reqwest::Client::new();
//! let call = || client
//!     .post(format!("{}/v1/messages", fake.url()))             // "http://127.0.0.1:PORT"
//!     .header("x-api-key", "sk-ant-test")
//!     .header("anthropic-version", "2023-06-01")
//!     .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 64,
//!                   "messages": [{"role": "user", "content": "Hello"}]}))
//!     .send();
//! assert_eq!(call().await.unwrap().status(), 529);
//! let answer: serde_json::Value = call().await.unwrap().json().await.unwrap();
//! assert_eq!(answer["content"], json!([{"type": "text", "text": "Hi!"}]));
//! assert_eq!(answer["model"], "claude-sonnet-4-5");
//! assert_eq!(fake.request_count(), 2);
//! assert_eq!(fake.last_request().unwrap().header("x-api-key"), Some("sk-ant-test"));
//! # }
//! ```

pub(crate) mod render;
mod reply;
mod server;
pub(crate) mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::task::JoinHandle;

pub use crate::openai::RecordedRequest;
pub use reply::Reply;

use server::{State, lock};

/// A fake Anthropic Messages API, serving on `127.0.0.1:<random>` until dropped.
#[derive(Debug)]
pub struct FakeAnthropic {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl FakeAnthropic {
    /// Starts the fake on `127.0.0.1` on a free port.
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test machine).
    #[allow(clippy::expect_used)] // a test kit that cannot bind loopback cannot run any test
    pub async fn start() -> Self {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake Anthropic API");
        let addr = tcp
            .local_addr()
            .expect("read the fake Anthropic API's address");
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

    /// The base URL, `http://127.0.0.1:PORT` (no trailing `/`; the client appends `/v1/messages`).
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the fake listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues `reply` for the next accepted request (replies are used in the order queued).
    pub fn script(&self, reply: Reply) -> &Self {
        lock(&self.state.queue).push_back(reply);
        self
    }

    /// Queues several replies, in order.
    pub fn script_all(&self, replies: impl IntoIterator<Item = Reply>) -> &Self {
        lock(&self.state.queue).extend(replies);
        self
    }

    /// The reply used when the queue is empty (initially `Reply::text("Hello from the fake.")`).
    pub fn set_default(&self, reply: Reply) -> &Self {
        *lock(&self.state.default) = reply;
        self
    }

    /// Refuses requests without `x-api-key: <key>` with 401 `authentication_error`.
    pub fn require_key(&self, key: impl Into<String>) -> &Self {
        *lock(&self.state.required_key) = Some(key.into());
        self
    }

    /// How many scripted replies are still queued.
    #[must_use]
    pub fn pending(&self) -> usize {
        lock(&self.state.queue).len()
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

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
