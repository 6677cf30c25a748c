//! Fake vLLM / OpenAI-compatible and Azure OpenAI servers (JSON and SSE), in-process on a random
//! loopback port.
//!
//! [`FakeOpenAi`] answers the routes a gateway calls, in the upstreams' own wire format:
//!
//! | route | flavour |
//! |---|---|
//! | `POST /v1/completions`, `POST /v1/chat/completions`, `GET /v1/models` | vLLM / OpenAI |
//! | `POST /openai/deployments/{deployment}/chat/completions?api-version=…`, `…/completions` | Azure OpenAI |
//!
//! Each request takes the next scripted [`Reply`] (or the default one, `hello world`, when none
//! is queued) and gets it in the shape it asked for: JSON unless the body says `"stream": true`,
//! then SSE `data: {...}\n\n` events ending in `data: [DONE]\n\n`, with a usage chunk when
//! `stream_options.include_usage` is true. Azure streams start with a chunk whose `choices` is
//! empty and that carries `prompt_filter_results`, as Azure does. Azure routes without an
//! `api-version` query get Azure's 404; with [`FakeOpenAi::require_key`] set, requests without
//! the key get the flavour's 401, and chat requests with malformed tools or tool messages
//! OpenAI's 400 ([tool calls](#tool-calls); none of these consumes a scripted reply).
//!
//! Every request is recorded ([`FakeOpenAi::requests`]) with method, path, query, headers, JSON
//! body, peer address and arrival time (unless [`FakeOpenAi::record_requests`] turned that off);
//! [`FakeOpenAi::connections`] counts accepted TCP connections, so tests can prove that a client
//! pools them, [`FakeOpenAi::open_connections`] those open now, and [`FakeOpenAi::stream_stats`]
//! the streamed bodies open, finished and cancelled, so tests can prove that a client's
//! disconnect reached the upstream.
//!
//! ```
//! use std::time::Duration;
//! use duo_testkit::openai::{FakeOpenAi, Reply};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let fake = FakeOpenAi::start().await;
//! fake.script(Reply::status(503).retry_after("0"));            // first request: 503
//! fake.script(Reply::stream("hello world").chunks(3)          // second: 3 SSE chunks
//!     .chunk_delay(Duration::from_millis(1)));
//! let base = fake.url();                                       // "http://127.0.0.1:PORT/v1"
//! # let _ = base;
//! // ... point the client under test at `base`, then:
//! assert!(fake.requests().is_empty());
//! # }
//! ```
//!
//! ## Tool calls
//!
//! [`Reply::tool_call`] (with [`Reply::and_tool_call`] for parallel calls and
//! [`Reply::with_text`] for text before them) answers a chat request with function calls, as
//! OpenAI does (keys below in the order the fake writes them: sorted). Non-streamed:
//!
//! ```text
//! "choices":[{"finish_reason":"tool_calls","index":0,"logprobs":null,
//!   "message":{"content":null,"role":"assistant","tool_calls":[
//!     {"function":{"arguments":"{\"city\":\"Paris\"}","name":"get_weather"},"id":"call_1","type":"function"}]}}]
//! ```
//!
//! (`content` is the text when there is one; `arguments` is the JSON text, as a string.)
//! Streamed, after the role chunk `"delta":{"content":"","role":"assistant"}` and the text
//! chunks if any, each call `i` opens with
//! `"delta":{"tool_calls":[{"function":{"arguments":"","name":…},"id":…,"index":i,"type":"function"}]}`
//! and its arguments follow in pieces ([`Reply::chunks`]; [`Reply::TOOL_CALL_CHUNKS`] by
//! default), each `"delta":{"tool_calls":[{"function":{"arguments":"<piece>"},"index":i}]}`;
//! then `"delta":{},"finish_reason":"tool_calls"`, the usage chunk when asked for and
//! `data: [DONE]`. On Azure each of these chunks carries `"content_filter_results":{}`.
//!
//! Chat requests (both flavours) are checked as OpenAI checks them before a reply is taken.
//! A failed check is answered 400 with OpenAI's body
//! `{"error":{"code":…,"message":…,"param":…,"type":"invalid_request_error"}}`, is recorded,
//! and consumes no scripted reply. The checks, in order (the first failure answers):
//!
//! | request | `message` | `param` | `code` |
//! |---|---|---|---|
//! | `tools[i]` without `type` | `Missing required parameter: 'tools[i].type'.` | `tools[i].type` | `missing_required_parameter` |
//! | `tools[i].type` not `"function"` | `Invalid value: '<type>'. Supported values are: 'function'.` | `tools[i].type` | `invalid_value` |
//! | `tools[i]` without `function` | `Missing required parameter: 'tools[i].function'.` | `tools[i].function` | `missing_required_parameter` |
//! | `tools[i].function` without `name` | `Missing required parameter: 'tools[i].function.name'.` | `tools[i].function.name` | `missing_required_parameter` |
//! | `tool_choice` without (or with empty) `tools` | `Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.` | `tool_choice` | `null` |
//! | `messages[i]` of role `tool` without `tool_call_id` | `Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.` | `messages.[i].tool_call_id` | `null` |
//! | `messages[i]` of role `tool` not answering a call of the assistant message before it (only `tool` messages between them) | `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.` | `messages.[i].role` | `null` |
//!
//! (`preceeding` is OpenAI's spelling; the `messages.[i]` params are written as OpenAI writes
//! them.) A JSON `null` counts as absent.

mod check;
mod counted;
mod record;
mod render;
mod reply;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use counted::StreamStats;
pub use record::RecordedRequest;
pub use reply::Reply;

use server::{State, lock};

/// A fake OpenAI-style upstream, serving until dropped.
#[derive(Debug)]
pub struct FakeOpenAi {
    addr: SocketAddr,
    scheme: &'static str,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl FakeOpenAi {
    /// Starts the fake on `127.0.0.1` on a free port.
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test machine).
    pub async fn start() -> Self {
        let (tcp, addr) = bind().await;
        let state = Arc::new(State::new());
        let listener = counted::CountingListener {
            inner: tcp,
            counters: Arc::clone(&state.counters),
        };
        // `TapIo` carries the peer address to `ConnectInfo`; the counting listener sets nodelay.
        let listener = axum::serve::ListenerExt::tap_io(listener, |_| {});
        let task = serve(listener, &state);
        Self {
            addr,
            scheme: "http",
            state,
            task,
        }
    }

    /// Starts the fake serving HTTPS with `ca`'s server certificate: clients trust it only
    /// with the CA's PEM. [`url`](Self::url) and [`azure_url`](Self::azure_url) say `https`;
    /// [`connections`](Self::connections) counts completed handshakes (open connections are
    /// not counted over TLS).
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test machine).
    pub async fn start_tls(ca: &crate::tls::TestCa) -> Self {
        let (tcp, addr) = bind().await;
        Self::serve_tls(ca.listener(tcp), addr)
    }

    /// Like [`start_tls`](Self::start_tls), but completing only handshakes in which the client
    /// presents a certificate that `clients` signed (mutual TLS).
    ///
    /// # Panics
    /// If no loopback port can be bound (a broken test machine).
    pub async fn start_mtls(ca: &crate::tls::TestCa, clients: &crate::tls::TestCa) -> Self {
        let (tcp, addr) = bind().await;
        Self::serve_tls(ca.listener_requiring_client_certs(tcp, clients), addr)
    }

    fn serve_tls(listener: crate::tls::TlsListener, addr: SocketAddr) -> Self {
        let state = Arc::new(State::new());
        let counters = Arc::clone(&state.counters);
        let listener = axum::serve::ListenerExt::tap_io(listener, move |_| {
            counters.accepted.fetch_add(1, Ordering::SeqCst);
        });
        let task = serve(listener, &state);
        Self {
            addr,
            scheme: "https",
            state,
            task,
        }
    }

    /// The vLLM / OpenAI base URL, `http://127.0.0.1:PORT/v1` (no trailing `/`).
    #[must_use]
    pub fn url(&self) -> String {
        format!("{}://{}/v1", self.scheme, self.addr)
    }

    /// The Azure resource URL, `http://127.0.0.1:PORT` (deployments live under `/openai/...`).
    #[must_use]
    pub fn azure_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The socket address the fake listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues `reply` for the next request (replies are used in the order queued).
    pub fn script(&self, reply: Reply) -> &Self {
        lock(&self.state.queue).push_back(reply);
        self
    }

    /// Queues several replies, in order.
    pub fn script_all(&self, replies: impl IntoIterator<Item = Reply>) -> &Self {
        lock(&self.state.queue).extend(replies);
        self
    }

    /// The reply used when the queue is empty (initially `Reply::answer("hello world")`).
    pub fn set_default(&self, reply: Reply) -> &Self {
        *lock(&self.state.default) = reply;
        self
    }

    /// The reply for requests naming `model` (the body's `model`, or the Azure deployment) when
    /// the queue is empty, instead of the default.
    pub fn set_model_default(&self, model: impl Into<String>, reply: Reply) -> &Self {
        lock(&self.state.model_defaults).insert(model.into(), reply);
        self
    }

    /// Whether requests are recorded (initially on); off, a long run keeps no memory per request.
    pub fn record_requests(&self, on: bool) -> &Self {
        self.state.record.store(on, Ordering::Relaxed);
        self
    }

    /// How many scripted replies are still queued.
    #[must_use]
    pub fn pending(&self) -> usize {
        lock(&self.state.queue).len()
    }

    /// The model ids `GET /v1/models` lists (initially `["fake-model"]`).
    pub fn set_models(&self, models: impl IntoIterator<Item = impl Into<String>>) -> &Self {
        *lock(&self.state.models) = models.into_iter().map(Into::into).collect();
        self
    }

    /// Refuses requests without `Authorization: Bearer <key>` (or, on Azure routes, `api-key: <key>`).
    pub fn require_key(&self, key: impl Into<String>) -> &Self {
        *lock(&self.state.required_key) = Some(key.into());
        self
    }

    /// Every request received so far, in arrival order.
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
        self.state.counters.accepted.load(Ordering::SeqCst)
    }

    /// How many TCP connections are open now (accepted and not yet closed by either side).
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.state.counters.open.load(Ordering::SeqCst)
    }

    /// The streamed bodies so far: open now, most at once, finished, cancelled.
    #[must_use]
    pub fn stream_stats(&self) -> StreamStats {
        self.state.counters.streams()
    }
}

#[allow(clippy::expect_used)] // a test kit that cannot bind loopback cannot run any test
async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port for the fake upstream");
    let addr = listener
        .local_addr()
        .expect("read the fake upstream's address");
    (listener, addr)
}

fn serve<L, F>(listener: axum::serve::TapIo<L, F>, state: &Arc<State>) -> JoinHandle<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    F: FnMut(&mut L::Io) + Send + 'static,
{
    let app = Router::new()
        .fallback(server::handle)
        .with_state(Arc::clone(state));
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    })
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
