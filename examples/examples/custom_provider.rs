//! Bring your own model: implement `duo_core::LanguageModel` (once and streamed) for a toy
//! in-process model, wrap it in duo-logging's `Logged` decorator so that its calls are timed,
//! counted and measured, serve it over HTTP with axum on loopback, call it with reqwest, and print
//! the answers and the metric lines the calls produced.
//!
//! ```sh
//! cargo run -p duo-examples --example custom_provider
//! ```
//!
//! The model is a LOCAL TOY (it answers with the words of the last user message in reverse
//! order), not a real LLM. It is served by a small axum handler of this example's own, not by
//! the gateway's routes: those take their models from `duo_providers::Registry`, which builds
//! one client per known provider (`duo_core::ProviderKind`, picked by the `model_identifier`
//! prefix) and has no way to register an arbitrary `LanguageModel`. The handler runs behind
//! duo-logging's `RequestLogLayer`, as the gateway's routes do, so each call is measured on the
//! HTTP request that made it.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Extension, Json, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use duo_core::{
    Error, EventStream, FinishReason, LanguageModel, Message, ModelRequest, Prompt, Role,
    StreamEvent, Usage, async_trait,
};
use duo_logging::{Logged, Metrics, RequestLogHandle, RequestLogLayer, RequestLogSettings};
use futures::StreamExt;
use serde_json::{Value, json};

/// A toy model: answers with the words of the prompt's last user message in reverse order,
/// streamed one word at a time.
struct Reverser;

impl Reverser {
    /// The text it answers: the last user turn of a chat, or the whole text.
    fn question(prompt: &Prompt) -> &str {
        match prompt {
            Prompt::Chat(messages) => messages
                .iter()
                .rev()
                .find(|m| m.role == Role::User)
                .map_or("", |m| m.content.as_str()),
            Prompt::Text(text) => text,
            Prompt::FillInTheMiddle { prefix, .. } => prefix,
            _ => "",
        }
    }
}

#[async_trait]
impl LanguageModel for Reverser {
    fn provider(&self) -> &str {
        "toy_reverser"
    }

    fn model(&self) -> &str {
        "reverse-words-1"
    }

    fn upstream(&self) -> &str {
        "the in-process toy model"
    }

    async fn generate_stream(&self, request: &ModelRequest) -> Result<EventStream, Error> {
        let question = Self::question(&request.prompt);
        if question.trim().is_empty() {
            return Err(Error::InvalidRequest("nothing to reverse".into()));
        }
        let words: Vec<String> = question
            .split_whitespace()
            .rev()
            .map(str::to_owned)
            .collect();
        let usage = Usage {
            input_tokens: u32::try_from(question.split_whitespace().count()).unwrap_or(u32::MAX),
            output_tokens: u32::try_from(words.len()).unwrap_or(u32::MAX),
        };
        let last = words.len().saturating_sub(1);
        let mut events: Vec<Result<StreamEvent, Error>> = words
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                Ok(StreamEvent::Delta(if i < last {
                    format!("{w} ")
                } else {
                    w
                }))
            })
            .collect();
        events.push(Ok(StreamEvent::Finish {
            reason: FinishReason::Stop,
            usage: Some(usage),
        }));
        // A little pacing, so that the streamed call really arrives in pieces.
        let paced = futures::stream::iter(events).then(|event| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            event
        });
        Ok(Box::pin(paced))
    }
    // `generate` (one answer) is the trait's default: it collects the stream.
}

/// POST /answer `{"message": "...", "stream": bool}`: JSON, or the answer's text streamed.
async fn answer(
    State(model): State<Arc<dyn LanguageModel>>,
    Extension(log): Extension<RequestLogHandle>,
    Json(body): Json<Value>,
) -> Response {
    log.set_feature("duo_chat"); // labels the metrics of the calls made for this request
    let message = body["message"].as_str().unwrap_or_default();
    let request = ModelRequest::new(Prompt::Chat(vec![
        Message::system("Reverse the user's words."),
        Message::user(message),
    ]));
    let failed = |e: Error| (StatusCode::BAD_REQUEST, e.to_string()).into_response();
    if body["stream"].as_bool() != Some(true) {
        return match model.generate(&request).await {
            Ok(g) => Json(
                json!({"text": g.text, "finish_reason": g.finish_reason.as_str(),
                                 "usage": g.usage}),
            )
            .into_response(),
            Err(e) => failed(e),
        };
    }
    match model.generate_stream(&request).await {
        // Only the text goes out; an error mid-stream aborts the body (never a complete answer).
        Ok(stream) => Body::from_stream(stream.filter_map(|event| async move {
            match event {
                Ok(StreamEvent::Delta(text)) => Some(Ok(text)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            }
        }))
        .into_response(),
        Err(e) => failed(e),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let metrics = Arc::new(Metrics::new());
    let model: Arc<dyn LanguageModel> =
        Arc::new(Logged::new(Reverser, Arc::clone(&metrics), "general"));
    let app = axum::Router::new()
        .route("/answer", post(answer))
        .with_state(model)
        .layer(RequestLogLayer::new(
            RequestLogSettings::default(),
            Arc::clone(&metrics),
        ));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/answer", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("serving a LOCAL TOY model (reverses the words it is given) at {url}\n");

    let client = reqwest::Client::new();
    let question = "is this the real life or is this just fantasy";
    let once: Value = client
        .post(&url)
        .json(&json!({"message": question}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!("asked: {question}");
    println!("answer (JSON): {once}\n");

    print!("answer (streamed): ");
    let mut body = client
        .post(&url)
        .json(&json!({"message": question, "stream": true}))
        .send()
        .await?
        .error_for_status()?
        .bytes_stream();
    while let Some(chunk) = body.next().await {
        print!("[{}]", String::from_utf8_lossy(&chunk?));
        std::io::stdout().flush()?; // show each piece as it arrives
    }
    println!(
        "\n\nmetrics the two calls produced (Metrics::render; zeros and histogram buckets left out):"
    );
    for line in metrics.render().lines() {
        let sample = !line.starts_with('#') && !line.contains("_bucket{");
        let zero = line.ends_with(" 0") || line.ends_with(" 0.0");
        if sample && !zero {
            println!("  {line}");
        }
    }
    Ok(())
}
