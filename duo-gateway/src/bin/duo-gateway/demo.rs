//! `duo-gateway --demo`: the gateway's main job end to end, with no external service.
//!
//! Starts a **local stand-in model server** that speaks vLLM's OpenAI-compatible protocol (JSON
//! and SSE, canned answers), starts the real gateway in front of it (auth bypassed, custom models
//! enabled), sends a code completion and a streamed `/explain` slash command through it, prints
//! what went in and out, and stops. The request-log lines appear on stderr as they would in
//! production. Nothing here is used when the gateway serves real traffic.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde_json::{Value, json};

use duo_gateway::{Config, Gateway, StartError};

/// The model name the stand-in reports.
const STAND_IN_MODEL: &str = "duo-demo-stand-in";

/// Starts the stand-in model server on a free loopback port and returns its `/v1` base URL.
///
/// # Errors
/// When no loopback port can be bound.
async fn start_stand_in() -> std::io::Result<String> {
    let app = Router::new()
        .route("/v1/chat/completions", post(answer))
        .route("/v1/completions", post(answer))
        .route(
            "/v1/models",
            get(|| async {
                Json(json!({"object": "list", "data": [{"id": STAND_IN_MODEL, "object": "model"}]}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}/v1"))
}

/// A canned answer: code for completion prompts, prose otherwise.
fn canned(body: &Value) -> &'static str {
    let text = body.to_string();
    if text.contains("Explain") || text.contains("explain") {
        "This function doubles its argument: `f(x)` returns `x * 2`, so `f(21)` is `42`."
    } else {
        "return a + b\n"
    }
}

async fn answer(Json(body): Json<Value>) -> Response {
    let text = canned(&body);
    let chat = body.get("messages").is_some();
    let prompt_tokens = u32::try_from(body.to_string().len() / 4).unwrap_or(u32::MAX);
    let completion_tokens = u32::try_from(text.split_whitespace().count()).unwrap_or(0);
    let usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                       "total_tokens": prompt_tokens + completion_tokens});
    let object = if chat {
        "chat.completion"
    } else {
        "text_completion"
    };
    if body.get("stream").and_then(Value::as_bool) != Some(true) {
        let choice = if chat {
            json!({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"})
        } else {
            json!({"index": 0, "text": text, "finish_reason": "stop"})
        };
        return Json(
            json!({"id": "demo-1", "object": object, "created": 0, "model": STAND_IN_MODEL,
                           "choices": [choice], "usage": usage}),
        )
        .into_response();
    }
    let words: Vec<String> = text.split_inclusive(' ').map(str::to_owned).collect();
    let chunk = move |piece: Value, finish: Value| {
        let choice = if chat {
            json!({"index": 0, "delta": {"content": piece}, "finish_reason": finish})
        } else {
            json!({"index": 0, "text": piece, "finish_reason": finish})
        };
        format!(
            "data: {}\n\n",
            json!({"id": "demo-1", "object": format!("{object}.chunk"), "model": STAND_IN_MODEL, "choices": [choice]})
        )
    };
    let mut events: Vec<String> = words
        .into_iter()
        .map(|w| chunk(Value::String(w), Value::Null))
        .collect();
    events.push(chunk(
        Value::String(String::new()),
        Value::String("stop".into()),
    ));
    events.push(format!(
        "data: {}\n\n",
        json!({"id": "demo-1", "model": STAND_IN_MODEL, "choices": [], "usage": usage})
    ));
    events.push("data: [DONE]\n\n".into());
    let stream = futures::stream::iter(events).then(|e| async move {
        tokio::time::sleep(Duration::from_millis(40)).await;
        Ok::<_, Infallible>(e)
    });
    (
        [("content-type", "text/event-stream")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Runs the demo and returns when it is done.
///
/// # Errors
/// When the gateway cannot start or a demo request fails.
pub(crate) async fn run(
    mut config: Config,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let upstream = start_stand_in().await?;
    config.fastapi.api_host = "127.0.0.1".into();
    config.fastapi.api_port = 0;
    config.fastapi.metrics_port = 0;
    config.custom_models.enabled = true;
    config.auth.bypass_external = true;
    let gateway = Gateway::bind(config).await?;
    let base = format!("http://{}", gateway.api_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gateway.run(async move {
        let _ = stopped.await;
    }));

    println!("duo-gateway demo");
    println!("  gateway:     {base}  (auth bypassed for the demo)");
    println!(
        "  model:       {upstream}  <- a LOCAL STAND-IN speaking vLLM's protocol, not a real LLM"
    );
    println!();
    // The demo's own client, to the gateway on loopback: built by the egress policy like
    // every other client (no redirects, resolved addresses checked).
    let client = duo_providers::EgressPolicy::default()
        .client_builder()
        .build()?;

    let completion = json!({
        "prompt_version": 1,
        "current_file": {"file_name": "main.py", "content_above_cursor": "def add(a, b):\n    ", "content_below_cursor": "\n"},
        "model_provider": "litellm", "model_name": "codestral",
        "model_endpoint": upstream, "model_identifier": format!("custom_openai/{STAND_IN_MODEL}"),
        "stream": false
    });
    println!("1) code completion: POST {base}/v2/code/completions");
    println!("   {completion}");
    let response = client
        .post(format!("{base}/v2/code/completions"))
        .json(&completion)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    println!("   <- {status} {body}");
    println!();

    let explain = json!({
        "stream": true,
        "inputs": {"input": "Explain this code", "selected_text": "def f(x): return x*2", "file_content": "",
                   "language_info": "The code is written in Python."},
        "model_metadata": {"provider": "openai", "name": "mistral", "endpoint": upstream,
                           "identifier": format!("custom_openai/{STAND_IN_MODEL}")}
    });
    println!("2) streamed /explain slash command: POST {base}/v1/prompts/chat/explain_code");
    println!("   {explain}");
    let response = client
        .post(format!("{base}/v1/prompts/chat/explain_code"))
        .json(&explain)
        .send()
        .await?;
    println!(
        "   <- {} {:?}",
        response.status(),
        response.headers().get("content-type")
    );
    let mut chunks = response.bytes_stream();
    print!("   ");
    while let Some(chunk) = chunks.next().await {
        print!("[{}]", String::from_utf8_lossy(&chunk?));
    }
    println!();
    println!();
    println!(
        "The answers above came from the local stand-in model. Point model endpoints at your vLLM,"
    );
    println!(
        "Bedrock or Azure OpenAI deployment and run `duo-gateway --config duo.toml` to serve GitLab."
    );

    let _ = stop.send(());
    server
        .await
        .map_err(|e| StartError::Http(e.to_string()))??;
    Ok(())
}
