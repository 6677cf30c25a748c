//! Shared test parts: a scripted model, log capture, and a small axum app using the layer.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use duo_core::{
    Error, EventStream, FinishReason, LanguageModel, ModelRequest, Prompt, StreamEvent, Usage,
    async_trait,
};
use duo_logging::{
    LogCapture, Logged, LoggingConfig, Metrics, RequestLogHandle, RequestLogLayer,
    RequestLogSettings,
};
use futures::StreamExt;
use serde_json::Value;

/// A secret that must never be logged: sent as the bearer token and pasted into prompts.
pub const BEARER: &str = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXN1YmplY3Q.S1GNATURE-never-log-me";
/// A model API key that must never be logged.
pub const API_KEY: &str = "sk-live-0123456789abcdefXYZ";
/// Text in every prompt, to see whether prompts were logged.
pub const PROMPT_CANARY: &str = "def canary_function_for_logs(";
/// Text in every answer, to see whether answers were logged.
pub const ANSWER_CANARY: &str = "return 'answer-canary'";

/// What the scripted model does.
#[derive(Clone)]
pub enum Script {
    /// Yields these events, then ends.
    Events(Vec<Result<StreamEvent, Error>>),
    /// Yields a delta every 10 ms, forever.
    Endless,
    /// Fails before the first event.
    FailToStart(Error),
}

/// An in-test model: the decorator is what is under test.
pub struct Scripted {
    pub script: Script,
}

impl Scripted {
    pub fn answering(text: &str, input: u32, output: u32) -> Arc<Self> {
        Arc::new(Self {
            script: Script::Events(vec![
                Ok(StreamEvent::Delta(text[..text.len() / 2].to_owned())),
                Ok(StreamEvent::Delta(text[text.len() / 2..].to_owned())),
                Ok(StreamEvent::Finish {
                    reason: FinishReason::Stop,
                    usage: Some(Usage {
                        input_tokens: input,
                        output_tokens: output,
                    }),
                }),
            ]),
        })
    }

    pub fn with(script: Script) -> Arc<Self> {
        Arc::new(Self { script })
    }
}

#[async_trait]
impl LanguageModel for Scripted {
    fn provider(&self) -> &str {
        "scripted"
    }
    fn model(&self) -> &str {
        "scripted-model-1"
    }
    fn upstream(&self) -> &str {
        "scripted model"
    }
    async fn generate_stream(&self, _request: &ModelRequest) -> Result<EventStream, Error> {
        match &self.script {
            Script::Events(events) => Ok(Box::pin(futures::stream::iter(events.clone()))),
            Script::Endless => Ok(Box::pin(
                tokio_stream_interval(Duration::from_millis(10))
                    .map(|i| Ok(StreamEvent::Delta(format!("chunk{i} ")))),
            )),
            Script::FailToStart(e) => Err(e.clone()),
        }
    }
}

fn tokio_stream_interval(period: Duration) -> impl futures::Stream<Item = u64> + Send {
    futures::stream::unfold(0u64, move |i| async move {
        tokio::time::sleep(period).await;
        Some((i, i + 1))
    })
}

/// Installs a capturing JSON subscriber for this thread.
pub fn capture() -> (LogCapture, tracing::subscriber::DefaultGuard) {
    let capture = LogCapture::default();
    let config = LoggingConfig {
        level: "debug".into(),
        ..LoggingConfig::default()
    };
    let sub = duo_logging::subscriber(&config, capture.clone()).unwrap();
    (capture, tracing::subscriber::set_default(sub))
}

#[derive(Clone)]
pub struct AppState {
    pub model: Arc<Scripted>,
    pub metrics: Arc<Metrics>,
}

/// `POST /v2/code/completions` (one answer) and `POST /v2/code/stream` (streamed), both
/// behind the request log layer, calling the scripted model through the decorator.
pub fn app(settings: RequestLogSettings, model: Arc<Scripted>, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/v2/code/completions", post(complete))
        .route("/v2/code/stream", post(stream))
        .layer(RequestLogLayer::new(settings, Arc::clone(&metrics)))
        .with_state(AppState { model, metrics })
}

fn logged(state: &AppState, handle: &RequestLogHandle) -> Logged<Arc<Scripted>> {
    handle.set_feature("code_completions");
    handle.set_model_family("codestral");
    handle.set_model_identifier("custom_openai/codestral-22b");
    // The handler runs inside the layer's request scope: the call is logged on `handle`.
    Logged::new(
        Arc::clone(&state.model),
        Arc::clone(&state.metrics),
        "codestral",
    )
}

async fn complete(
    State(state): State<AppState>,
    Extension(handle): Extension<RequestLogHandle>,
    body: String,
) -> Response {
    tracing::info!("handler saw the request");
    let model = logged(&state, &handle);
    match model.generate(&ModelRequest::new(Prompt::Text(body))).await {
        Ok(g) => g.text.into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.kind()).into_response(),
    }
}

async fn stream(
    State(state): State<AppState>,
    Extension(handle): Extension<RequestLogHandle>,
    body: String,
) -> Response {
    let model = logged(&state, &handle);
    match model
        .generate_stream(&ModelRequest::new(Prompt::Text(body)))
        .await
    {
        Ok(events) => Body::from_stream(events.map(|e| match e {
            Ok(StreamEvent::Delta(t)) => Ok(Bytes::from(t)),
            Ok(_) => Ok(Bytes::new()),
            Err(e) => Err(e),
        }))
        .into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.kind()).into_response(),
    }
}

/// A request with GitLab's headers, a bearer token and an API key header.
pub fn gitlab_request(path: &str, body: &str) -> axum::http::Request<Body> {
    axum::http::Request::post(path)
        .header("authorization", format!("Bearer {BEARER}"))
        .header("api-key", API_KEY)
        .header(
            "x-gitlab-instance-id",
            "ea8bf810-1d6f-4a6a-b4fd-93e8cbd8b57f",
        )
        .header("x-gitlab-global-user-id", "42")
        .header("x-gitlab-client-type", "gitlab-language-server")
        .header("x-gitlab-client-version", "7.1.0")
        .header("x-gitlab-realm", "self-managed")
        .header("user-agent", "duo-tests/1")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// A prompt that carries the secrets, as a user pasting credentials into their code would.
pub fn prompt_with_secrets() -> String {
    format!(
        "{PROMPT_CANARY}):\n    headers = {{'Authorization': 'Bearer {BEARER}'}}\n    api_key = \"{API_KEY}\"\n"
    )
}

/// The lines of `capture` logged at `target`.
pub fn lines(capture: &LogCapture, target: &str) -> Vec<Value> {
    capture.lines_for(target).unwrap()
}

/// The one line at `target`, failing if there are more or none.
pub fn one(capture: &LogCapture, target: &str) -> Value {
    let mut l = lines(capture, target);
    assert_eq!(
        l.len(),
        1,
        "expected one {target} line in:\n{}",
        capture.text()
    );
    l.remove(0)
}

/// Waits (with a hang-detecting timeout) until a line at `target` appears.
pub async fn wait_for_line(capture: &LogCapture, target: &str) -> Value {
    for _ in 0..1000 {
        if let Some(line) = lines(capture, target).pop() {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no {target} line after 10 s:\n{}", capture.text());
}
